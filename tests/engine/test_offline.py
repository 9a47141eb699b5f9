"""check, count and models open no network connection and never import litellm."""

import json
import os

from tests.conftest import run_subprocess

GUARD = r"""
import socket, sys
attempts = []
def audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "urllib.Request"):
        attempts.append(event)
        raise RuntimeError("network access during an offline command: " + event)
sys.addaudithook(audit)
from promptwise.cli.main import main
code = main(sys.argv[1:])
print("\n" + __import__("json").dumps({"code": code, "litellm": "litellm" in sys.modules, "attempts": attempts}))
"""


def run_guarded(*args, env=None):
    result = run_subprocess("-c", GUARD, *args, env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_offline_commands_never_touch_the_network_or_litellm(examples, tmp_path):
    # An empty tiktoken cache would make tiktoken download; promptwise must not depend on it.
    env = {"TIKTOKEN_CACHE_DIR": str(tmp_path), "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    for args in (("check", str(examples)), ("count", str(examples / "i18n/greeter.prompt")), ("models", "--limit", "5"),
                 ("check", str(examples / "support"), "--model", "gpt-4"), ("count", str(examples / "AGENTS.md"), "--model", "deepseek/deepseek-chat")):
        report = run_guarded(*args, env=env)
        assert report["attempts"] == [] and report["litellm"] is False, (args, report)
    assert os.listdir(tmp_path) == []
