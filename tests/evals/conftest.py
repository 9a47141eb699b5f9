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

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n") if text.startswith("\n") else text, encoding="utf-8")
        return path

    def suite(self, body: str, name: str = "triage.evals.yaml") -> Path:
        return self.write(name, textwrap.dedent(body).lstrip("\n"))

    def files(self) -> list[Path]:
        return [p for p in self.root.rglob("*") if p.is_file()]


def project_config(url: str, extra: str = "") -> str:
    return (
        textwrap.dedent(
            f"""\
            default_model = "fake-gpt"

            [evals]
            api_base = "{url}"
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
def project(tmp_path: Path, fake_llm: FakeLLMServer) -> Project:
    """A folder with promptwise.toml pointing evals at the fake server, and triage.prompty."""
    p = Project(tmp_path, fake_llm)
    p.write("promptwise.toml", project_config(fake_llm.url))
    p.write("triage.prompty", TRIAGE_PROMPT)
    return p


def run(coro):
    return asyncio.run(coro)
