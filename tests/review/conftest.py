"""Temporary git repositories for `promptwise diff`: write files, commit, change, compare."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

# The identity is given per command: the user's git config is neither read for it nor changed.
IDENTITY = ["-c", "user.name=Test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"]

# Over 1,024 tokens of static text: OpenAI caches a prefix that long.
LONG_RULES = "\n".join(f"Rule {i}: answer precisely, cite the source document, and keep the tone friendly." for i in range(80))


class GitRepo:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q")

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *IDENTITY, *args], cwd=self.root, capture_output=True, text=True, check=True)
        return done.stdout

    def write(self, rel: str, text: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink()

    def compare(self, base: str | None = None, head: str | None = None, paths=(), model: str | None = None):
        from promptwise.review.compare import compare
        from promptwise.review.git import Repo

        with Repo.find(self.root) as repo:
            return compare(repo, base, head, paths, model)

    @staticmethod
    def prompt(body: str, model: str = "openai/gpt-4o-mini", extra: str = "") -> str:
        """A Dotprompt file with a model and `body` (Handlebars, role tags allowed)."""
        return f"---\nmodel: {model}\n{extra}---\n{body}"

    @staticmethod
    def entry(comparison, path: str):
        found = [f for f in comparison.files if f.path == path]
        assert found, f"{path} not listed; listed: {[f.path for f in comparison.files]}"
        return found[0]

    long_rules = LONG_RULES


@pytest.fixture
def gitrepo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")
