"""A real LiteLLM Proxy on loopback, in front of the fake server, load-balancing two deployments; promptwise runs a
suite through it the way the docs tell users to (evals.api_base + api_key_env in the user config)."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

# What `litellm[proxy]` brings besides litellm (tests/evals/requirements-proxy.txt pins them).
PROXY_MODULES = ["fastapi", "uvicorn", "backoff", "websockets", "orjson", "apscheduler", "jwt", "cryptography", "multipart", "fastapi_sso", "mcp"]
MISSING = [m for m in PROXY_MODULES if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason=f"the LiteLLM Proxy extra is not installed (missing {', '.join(MISSING)}): "
    "pip install -r tests/evals/requirements-proxy.txt",
)

MASTER_KEY = "sk-proxy-master-5e1c0d9a7b"
LITELLM = Path(sys.executable).with_name("litellm")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def proxy(tmp_path, fake_llm):
    port = free_port()
    deployments = []
    for upstream in ("upstream-a", "upstream-b"):
        deployments.append(
            {"model_name": "fake-gpt", "litellm_params": {"model": "openai/fake-gpt", "api_base": fake_llm.url, "api_key": upstream}}
        )
    deployments.append(
        {"model_name": "fake-embed", "litellm_params": {"model": "openai/fake-embed", "api_base": fake_llm.url, "api_key": "upstream-a"}}
    )
    config = {"model_list": deployments, "litellm_settings": {"num_retries": 0, "request_timeout": 20}}
    (tmp_path / "proxy.yaml").write_text(json.dumps(config))  # JSON is YAML
    log = open(tmp_path / "proxy.log", "w")
    env = {**os.environ, "LITELLM_MASTER_KEY": MASTER_KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}
    command = [str(LITELLM)] if LITELLM.exists() else [sys.executable, "-m", "litellm"]
    process = subprocess.Popen(
        [*command, "--config", str(tmp_path / "proxy.yaml"), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None:
                pytest.fail("the LiteLLM Proxy exited:\n" + (tmp_path / "proxy.log").read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"{url}/health/liveliness", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the LiteLLM Proxy did not start in 60 s:\n" + (tmp_path / "proxy.log").read_text()[-3000:])
            time.sleep(0.25)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_a_suite_runs_through_a_litellm_proxy(project, proxy, cli, monkeypatch):
    monkeypatch.setenv("PROMPTWISE_PROXY_KEY", MASTER_KEY)
    project.user.route(proxy, key_env="PROMPTWISE_PROXY_KEY")
    project.server.reply(None, lambda body: "TRIAGE: damage\nREPLY: a replacement leg ships today")
    lines = ["models: [fake-gpt]", "embedding_model: fake-embed", "cases:"]
    for i in range(16):
        lines += [f"  - name: ticket {i}", f"    vars: {{ticket: dented leg number {i}}}", "    assert:", "      - type: starts-with", "        value: 'TRIAGE:'"]
    lines += ["  - name: similar", "    vars: {ticket: similar}", "    assert:", "      - type: similar", "        value: a replacement leg ships today", "        threshold: 0.8"]
    project.suite("\n".join(lines) + "\n")
    result = cli("eval", "--json", "out.json", "--concurrency", "4", cwd=project.root)
    assert result.code == 0, result.out + result.err
    data = json.loads((project.root / "out.json").read_text())
    assert [r["status"] for r in data["results"]] == ["passed"] * 17
    assert all(r["prompt_tokens"] and r["completion_tokens"] for r in data["results"])
    chat = project.server.calls("chat")
    assert len(chat) == 17 and {c.body["model"] for c in chat} == {"fake-gpt"}
    # The proxy spread the calls over both deployments, each with its own upstream key; the master key stayed at the proxy.
    assert {c.headers.get("Authorization") for c in chat} == {"Bearer upstream-a", "Bearer upstream-b"}
    assert project.server.calls("embeddings")
    assert MASTER_KEY not in (project.root / "out.json").read_text() and MASTER_KEY not in result.out + result.err
    # With a key the proxy does not know it refuses (400 without a key database, 401 with one): errors, not passes.
    monkeypatch.setenv("PROMPTWISE_PROXY_KEY", "sk-wrong")
    refused = cli("eval", "--no-cache", cwd=project.root)
    assert refused.code == 2 and "0 passed, 0 failed, 17 errored" in refused.out
    assert "(HTTP 400)" in refused.out or "(HTTP 401)" in refused.out
