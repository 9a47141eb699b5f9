"""Reading what a prompt names: regular files in the workspace only, bounded, never blocking."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from promptwise import access


@pytest.fixture(autouse=True)
def _reset():
    access.set_workspace(None)
    access.set_allowed([])
    yield
    access.set_workspace(None)
    access.set_allowed(None)


def _repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "prompts").mkdir()
    return repo


def test_a_file_reads_inside_its_repository(tmp_path):
    repo = _repo(tmp_path)
    (repo / "shared.md").write_text("shared text")
    origin = repo / "prompts" / "CLAUDE.md"
    assert access.read_text(repo / "shared.md", origin=origin) == ("shared text", None)


def test_outside_the_workspace_is_refused_with_the_path(tmp_path):
    repo = _repo(tmp_path)
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE")
    text, error = access.read_text(secret, origin=repo / "prompts" / "CLAUDE.md")
    assert text is None
    assert str(secret) in error and "outside the workspace" in error and "allow_read" in error


def test_a_symlink_out_of_the_workspace_is_refused(tmp_path):
    repo = _repo(tmp_path)
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE")
    (repo / "innocent.md").symlink_to(secret)
    text, error = access.read_text(repo / "innocent.md", origin=repo / "AGENTS.md")
    assert text is None and "outside the workspace" in error


def test_user_allowed_folders_are_readable(tmp_path):
    repo = _repo(tmp_path)
    extra = tmp_path / "claude"
    extra.mkdir()
    (extra / "rules.md").write_text("user rules")
    access.set_allowed([extra])
    assert access.read_text(extra / "rules.md", origin=repo / "CLAUDE.md") == ("user rules", None)


def test_workspace_folders_set_by_the_editor_are_the_roots(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (two / "shared.md").write_text("from two")
    access.set_workspace([one, two])
    assert access.read_text(two / "shared.md", origin=one / "CLAUDE.md") == ("from two", None)
    outsider = tmp_path / "three"
    outsider.mkdir()
    (outsider / "x.md").write_text("no")
    assert access.read_text(outsider / "x.md", origin=one / "CLAUDE.md")[0] is None


def test_the_home_folder_is_never_a_project_even_under_git(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".git").mkdir(parents=True)
    (home / "notes").mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert access.project_root(home / "notes" / "CLAUDE.md") == home / "notes"


def test_fifo_devices_and_loops_never_block(tmp_path):
    repo = _repo(tmp_path)
    fifo = repo / "pipe.md"
    os.mkfifo(fifo)
    loop = repo / "loop.md"
    loop.symlink_to(repo / "loop2.md")
    (repo / "loop2.md").symlink_to(loop)
    results = {}

    def read_all():
        results["fifo"] = access.read_text(fifo, origin=repo / "AGENTS.md")
        results["loop"] = access.read_text(loop, origin=repo / "AGENTS.md")
        results["zero"] = access.read_text(Path("/dev/zero"))
        results["dir"] = access.read_text(repo / "prompts", origin=repo / "AGENTS.md")

    worker = threading.Thread(target=read_all, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "a read blocked"
    assert "FIFO" in results["fifo"][1]
    assert "symlink loop" in results["loop"][1]
    assert "character device" in results["zero"][1]
    assert "folder" in results["dir"][1]
    assert not access.is_regular_file(fifo) and not access.is_regular_file(loop)


def test_size_is_checked_before_the_read(tmp_path):
    repo = _repo(tmp_path)
    big = repo / "big.md"
    big.write_bytes(b"a" * 5000)
    text, error = access.read_text(big, max_bytes=4096, origin=repo / "AGENTS.md")
    assert text is None and "5,000 bytes" in error and "4,096-byte limit" in error
    assert access.read_text(big, max_bytes=5000, origin=repo / "AGENTS.md")[0] == "a" * 5000


def test_binary_files_are_refused(tmp_path):
    repo = _repo(tmp_path)
    (repo / "blob.md").write_bytes(b"\x00\x01\x02")
    assert access.read_text(repo / "blob.md", origin=repo / "AGENTS.md") == (None, "blob.md is a binary file")


def test_user_config_allow_read_defaults_to_claude_folder(tmp_path, monkeypatch):
    from promptwise.config.user import load_user_config

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert load_user_config().settings.allow_read == ["~/.claude/"]
    target = tmp_path / "cfg" / "promptwise" / "config.toml"
    target.parent.mkdir(parents=True)
    target.write_text('allow_read = ["~/shared-prompts/"]\n[evals]\napi_base = "http://127.0.0.1:4000"\n')
    loaded = load_user_config()
    assert loaded.settings.allow_read == ["~/shared-prompts/"]
    assert loaded.settings.evals.api_base == "http://127.0.0.1:4000"
    target.write_text("allow_read = 5\n")
    os.utime(target, (1, 1))
    bad = load_user_config()
    assert bad.settings.allow_read == ["~/.claude/"] and "allow_read" in bad.problems[0]


def test_without_a_config_file_globs_are_relative_to_the_files_workspace(tmp_path, monkeypatch):
    from promptwise.config import load_config

    repo = _repo(tmp_path)
    monkeypatch.chdir(tmp_path)  # the editor starts the server outside the workspace
    assert load_config(repo / "prompts" / "a.prompty").root == repo
    access.set_workspace([repo / "prompts"])
    assert load_config(repo / "prompts" / "a.prompty").root == repo / "prompts"
