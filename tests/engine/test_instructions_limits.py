"""The new instruction kinds on hostile input: imports stay in the workspace, scanners stay linear, any text parses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from promptwise import access
from promptwise.formats import Format, parse_document

from tests.engine.test_format_limits import bounded

SECRET = "sk-test-SECRET-value-0123456789"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.md").write_text(SECRET + "\n")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    access.set_workspace(None)
    access.set_allowed(None)
    yield root
    access.set_workspace(None)


def parse(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return bounded(parse_document, path, text, Format.INSTRUCTIONS)


def everything(doc) -> str:
    return "\n".join([m.content for m in doc.messages] + [i.text for i in doc.includes] + [p.message for p in doc.problems])


def test_gemini_imports_never_read_outside_the_workspace(repo):
    os.symlink(repo.parent / "outside" / "secret.md", repo / "leak.md")
    doc = parse(repo / "GEMINI.md", f"@../outside/secret.md\n@{repo.parent}/outside/secret.md\n@leak.md\n")
    assert SECRET not in everything(doc)
    assert [p.code for p in doc.problems] == ["outside-workspace"] * 3


def test_a_bare_claude_name_linked_outside_is_refused_not_read(repo):
    os.symlink(repo.parent / "outside" / "secret.md", repo / "NOTES")
    doc = parse(repo / "CLAUDE.md", "See @NOTES\n")
    assert SECRET not in everything(doc)
    assert [p.code for p in doc.problems] == ["outside-workspace"]


def test_a_bare_name_that_is_a_fifo_is_not_opened(repo):
    os.mkfifo(repo / "PIPE")
    doc = parse(repo / "CLAUDE.md", "See @PIPE\n")  # would block forever if opened
    assert doc.problems == [] and doc.messages[0].content == "See @PIPE"


def test_gemini_and_cursor_scanners_are_linear_on_adversarial_text(repo):
    text = "@" + "a" * 200_000 + "\n" + "@ " * 100_000 + "\n" + ("@" + "b/" * 400 + " ") * 1_000 + "`" * 100_001 + "\n"
    doc = parse(repo / "GEMINI.md", text)
    limits = [p for p in doc.problems if p.code == "limit-exceeded"]
    assert len(limits) == 1 and any("longer than 1,024" in p.message for p in doc.problems)
    keys = "".join(f"k{i}: *{i}\n" for i in range(20_000))
    doc = parse(repo / ".cursor/rules/big.mdc", "---\n" + keys + "---\nBody\n")
    assert len(doc.frontmatter) == 20_000 and doc.problems == []
    doc = parse(repo / "many.prompt.md", "[x](a.md)" * 5_000 + "\n")
    assert len([i for i in doc.includes if i.error]) == 1  # one missing file, linked 5,000 times


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="-:\n @`[]()#*./ab'\"\r\t", max_size=200))
def test_any_text_parses_as_every_new_kind(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("any")
    for name in ("GEMINI.md", "rule.mdc", "SKILL.md", "x.agent.md", "y.chatmode.md"):
        doc = parse_document(root / name, text, Format.INSTRUCTIONS)
        for message in doc.messages:
            assert 0 <= message.span.start <= message.span.end <= len(text)
        for problem in doc.problems:
            assert 0 <= problem.span.start <= problem.span.end <= len(text)
