"""Above what estimate the editor asks before an eval run: a repository may lower the threshold, never raise it."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptwise.config import load_config
from promptwise.config import user
from promptwise.lsp.eval_spend import confirm_threshold


@pytest.fixture
def home(tmp_path: Path, monkeypatch) -> Path:
    folder = tmp_path / "config-home"
    (folder / "promptwise").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    user._cache.clear()
    yield folder / "promptwise" / "config.toml"
    user._cache.clear()


def repo(tmp_path: Path, evals: str) -> object:
    project = tmp_path / "repo"
    project.mkdir(exist_ok=True)
    (project / "promptwise.toml").write_text(f"[evals]\n{evals}\n", encoding="utf-8")
    return load_config(project / "a.prompty")


def test_a_repository_cannot_raise_the_threshold_above_the_users(home: Path, tmp_path: Path) -> None:
    assert confirm_threshold(repo(tmp_path, "confirm_above_usd = 1000")) == 0.50
    assert confirm_threshold(repo(tmp_path, "confirm_above_usd = 0.01")) == 0.01


def test_the_user_sets_their_own(home: Path, tmp_path: Path) -> None:
    home.write_text("[evals]\nconfirm_above_usd = 5\n", encoding="utf-8")
    assert confirm_threshold(repo(tmp_path, "confirm_above_usd = 1000")) == 5
    assert confirm_threshold(repo(tmp_path, "confirm_above_usd = 2")) == 2
