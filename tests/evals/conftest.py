"""Fixtures for eval tests: the fake OpenAI-compatible server on loopback and a project wired to it."""

from __future__ import annotations

import asyncio
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # fake_server.py, also run as a script by bench/

from fake_server import FakeLLMServer  # noqa: E402

TRIAGE_PROMPT = """\
---
name: Ticket triage
model:
  id: fake-gpt
  parameters:
    temperature: 0.3
    max_tokens: 200
inputs:
  customer:
    type: string
    default: there
  ticket:
    type: string
---
system:
You triage support tickets for Northwind. Reply with a category line, then a short reply.

user:
Customer: {{customer}}
Ticket: {{ticket}}
"""


@pytest.fixture(scope="session")
def _fake_server():
    server = FakeLLMServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake_llm(_fake_server: FakeLLMServer) -> FakeLLMServer:
    """The shared fake server, with no rules, no latency and no required key."""
    _fake_server.reset()
    yield _fake_server
    _fake_server.reset()


@dataclass
class Project:
    root: Path
    server: FakeLLMServer
    user: "UserConfigFile | None" = None

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n") if text.startswith("\n") else text, encoding="utf-8")
        return path

    def suite(self, body: str, name: str = "triage.evals.yaml") -> Path:
        return self.write(name, textwrap.dedent(body).lstrip("\n"))

    def files(self) -> list[Path]:
        return [p for p in self.root.rglob("*") if p.is_file()]


class UserConfigFile:
    """The user's own config (`$XDG_CONFIG_HOME/promptwise/config.toml`), where call destinations live."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, text: str) -> Path:
        from promptwise import access
        from promptwise.config import user

        self.path.write_text(textwrap.dedent(text), encoding="utf-8")
        user._cache.clear()  # a rewrite within the file system's timestamp tick must still be seen
        access.set_allowed(None)
        return self.path

    def route(self, url: str, key_env: str | None = None, extra: str = "") -> Path:
        key = f'api_key_env = "{key_env}"\n' if key_env else ""
        return self.write(f'[evals]\napi_base = "{url}"\n{key}{extra}')


@pytest.fixture
def user_config(tmp_path_factory, monkeypatch) -> UserConfigFile:
    """An empty user config outside the project, in place of the real one."""
    from promptwise import access
    from promptwise.config import user

    home = tmp_path_factory.mktemp("config-home")
    (home / "promptwise").mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    found = UserConfigFile(home / "promptwise" / "config.toml")
    found.write("")
    yield found
    user._cache.clear()
    access.set_allowed(None)


def project_config(extra: str = "") -> str:
    """The repository's own config: models and prices. Where calls go is in the user config."""
    return (
        textwrap.dedent(
            """\
            default_model = "fake-gpt"

            [evals]
            retries = 2
            retry_backoff = 0.01
            timeout = 5
            concurrency = 4

            [models."fake-gpt"]
            provider = "openai"
            input_cost_per_million = 1.0
            output_cost_per_million = 2.0
            context_window = 100000

            [models."fake-judge"]
            provider = "openai"
            input_cost_per_million = 0.5
            output_cost_per_million = 1.0
            context_window = 100000

            [models."fake-embed"]
            provider = "openai"
            mode = "embedding"
            input_cost_per_million = 0.1
            """
        )
        + extra
    )


@pytest.fixture
def project(tmp_path: Path, fake_llm: FakeLLMServer, user_config: UserConfigFile) -> Project:
    """A folder with promptwise.toml and triage.prompty; the user config sends eval calls to the fake server."""
    p = Project(tmp_path, fake_llm)
    p.user = user_config
    user_config.route(fake_llm.url)
    p.write("promptwise.toml", project_config())
    p.write("triage.prompty", TRIAGE_PROMPT)
    return p


def run(coro):
    return asyncio.run(coro)
