"""The change against HEAD the editor shows: HEAD's side of a file, remembered until HEAD moves."""

from __future__ import annotations

import concurrent.futures
import subprocess
from pathlib import Path

import pytest

from promptwise.analysis import analyze_file
from promptwise.config import load_config
from promptwise.review.head import HeadBase, HeadCosts, NoBase, change_against, head_base
from tests.review.head_repo import CONFIG, MORE, PROMPT, git


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "prompts").mkdir(parents=True)
    (root / "promptwise.toml").write_text(CONFIG, encoding="utf-8")
    (root / "prompts" / "summarize.prompty").write_text(PROMPT, encoding="utf-8")
    (root / ".gitignore").write_text("scratch/\n", encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    return root


def edited(path: Path) -> str:
    text = path.read_text(encoding="utf-8").replace("three short bullet points.\n", "three short bullet points.\n" + MORE)
    path.write_text(text, encoding="utf-8")
    return text


def now(path: Path):
    return analyze_file(path, load_config(path))


def test_an_edit_shows_the_tokens_and_cost_it_adds_per_call_and_per_month(repo: Path):
    path = repo / "prompts" / "summarize.prompty"
    before = now(path)
    edited(path)
    after = now(path)
    base = head_base(path)
    assert isinstance(base, HeadBase) and base.figures is not None
    assert base.path == "prompts/summarize.prompty"
    assert base.commit == git(repo, "rev-parse", "HEAD").strip()
    assert base.figures.tokens == before.prompt_tokens
    change = change_against(base, after)
    assert change is not None
    added = after.prompt_tokens - before.prompt_tokens
    assert added > 10 and change.tokens == added
    assert change.cost == pytest.approx(after.cost_per_call - before.cost_per_call)
    assert change.cost > 0
    assert change.per_month == pytest.approx(after.estimate.per_month - before.estimate.per_month)
    line = change.line()
    assert line.startswith(f"vs HEAD: +{added} tokens/call (+")
    assert "/call" in line and "/month" in line and line.count("+$") == 2
    assert change.to_json()["status"] == "changed"


def test_an_unchanged_file_says_so(repo: Path):
    path = repo / "prompts" / "summarize.prompty"
    change = change_against(head_base(path), now(path))
    assert change is not None and change.unchanged
    assert change.line() == f"vs HEAD: unchanged ({now(path).prompt_tokens:,} tokens/call)"


def test_a_model_switch_is_named(repo: Path):
    path = repo / "prompts" / "summarize.prompty"
    path.write_text(PROMPT.replace("gpt-4o-mini", "gpt-4o"), encoding="utf-8")
    change = change_against(head_base(path), now(path))
    assert change is not None and change.tokens == 0 and change.cost > 0
    assert change.line().endswith("(model was gpt-4o-mini)")


def test_the_config_at_head_is_used_for_the_head_side(repo: Path):
    path = repo / "prompts" / "summarize.prompty"
    (repo / "promptwise.toml").write_text(CONFIG.replace("= 1000", "= 2000"), encoding="utf-8")
    change = change_against(head_base(path), now(path))
    assert change is not None and change.tokens == 0 and change.cost == pytest.approx(0)
    assert change.per_month == pytest.approx(now(path).estimate.per_month / 2)


def test_editor_settings_apply_to_both_sides(repo: Path):
    path = repo / "notes.md"
    path.write_text("You are a careful reviewer of pull requests.\n", encoding="utf-8")
    (repo / "prompts" / "plain.txt").write_text("Answer briefly.\n", encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "plain")
    prompt = repo / "prompts" / "plain.txt"
    overrides = {"default_model": "gpt-4o"}
    current = analyze_file(prompt, load_config(prompt, overrides))
    change = change_against(head_base(prompt, overrides), current)
    assert change is not None and change.unchanged and change.base.model == "gpt-4o"


def test_an_untracked_file_is_new_since_head_and_an_ignored_one_has_no_line(repo: Path):
    new = repo / "prompts" / "new.prompty"
    new.write_text(PROMPT, encoding="utf-8")
    base = head_base(new)
    assert isinstance(base, HeadBase) and base.figures is None
    change = change_against(base, now(new))
    assert change is not None and change.line().startswith("vs HEAD: new since HEAD")
    assert change.cost is None and change.to_json()["status"] == "new"
    (repo / "scratch").mkdir()
    ignored = repo / "scratch" / "try.prompty"
    ignored.write_text(PROMPT, encoding="utf-8")
    assert isinstance(head_base(ignored), NoBase)


def test_outside_a_repository_or_before_the_first_commit_there_is_no_line(tmp_path: Path):
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "a.prompty").write_text(PROMPT, encoding="utf-8")
    assert isinstance(head_base(lone / "a.prompty"), NoBase)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q")
    (fresh / "a.prompty").write_text(PROMPT, encoding="utf-8")
    found = head_base(fresh / "a.prompty")
    assert isinstance(found, NoBase) and change_against(found, now(fresh / "a.prompty")) is None


def test_outside_a_repository_no_git_process_is_started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    started = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a) or pytest.fail("git ran"))
    monkeypatch.setattr(subprocess, "Popen", lambda *a, **k: started.append(a) or pytest.fail("git ran"))
    (tmp_path / "a.prompty").write_text(PROMPT, encoding="utf-8")
    found = head_base(tmp_path / "a.prompty")
    assert isinstance(found, NoBase) and "not in a git repository" in found.reason and not started


def test_without_git_there_is_no_line(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(repo / "no-such-folder"))
    found = head_base(repo / "prompts" / "summarize.prompty")
    assert isinstance(found, NoBase) and "git is not installed" in found.reason


class Pool:
    """Jobs run only when the test says so: what the editor's worker threads would do later."""

    def __init__(self) -> None:
        self.jobs: list[tuple[concurrent.futures.Future, object]] = []

    def submit(self, fn):
        future: concurrent.futures.Future = concurrent.futures.Future()
        self.jobs.append((future, fn))
        return future

    def run(self) -> int:
        jobs, self.jobs = self.jobs, []
        for future, fn in jobs:
            future.set_result(fn())
        return len(jobs)


def test_the_cache_answers_without_git_until_head_moves(repo: Path):
    path = repo / "prompts" / "summarize.prompty"
    pool = Pool()
    costs = HeadCosts(pool.submit)
    assert costs.known(path) is None  # being made: a hover shows no line yet
    assert costs.known(path) is None and len(pool.jobs) == 1  # asked twice, made once
    assert pool.run() == 1
    first = costs.known(path)
    assert isinstance(first, HeadBase) and not pool.jobs
    assert costs.known(path) is first and not pool.jobs  # remembered: no second job

    text = edited(path)
    git(repo, "commit", "-q", "-am", "longer")  # HEAD moves: the branch's ref file changes
    assert costs.known(path) is None and pool.run() == 1
    second = costs.known(path)
    assert isinstance(second, HeadBase) and second.commit != first.commit
    assert second.figures.tokens > first.figures.tokens
    assert change_against(second, now(path)).unchanged and path.read_text(encoding="utf-8") == text

    git(repo, "checkout", "-q", "-b", "other", first.commit)  # a branch switch: HEAD itself changes
    assert costs.known(path) is None and pool.run() == 1
    third = costs.known(path)
    assert third.commit == first.commit and third.figures == first.figures


def test_a_detached_head_moving_is_seen_too(repo: Path):
    path = repo / "prompts" / "summarize.prompty"
    first = git(repo, "rev-parse", "HEAD").strip()
    edited(path)
    git(repo, "commit", "-q", "-am", "longer")
    git(repo, "checkout", "-q", "--detach", first)
    costs = HeadCosts()
    assert costs.known(path).commit == first
    git(repo, "checkout", "-q", "--detach", "main")
    assert costs.known(path).commit != first


def test_no_repository_is_asked_again_after_a_while(tmp_path: Path):
    folder = tmp_path / "later"
    folder.mkdir()
    path = folder / "a.prompty"
    path.write_text(PROMPT, encoding="utf-8")
    clock = [0.0]
    pool = Pool()
    costs = HeadCosts(pool.submit, retry=30, clock=lambda: clock[0])
    costs.known(path)
    pool.run()
    assert isinstance(costs.known(path), NoBase) and not pool.jobs
    clock[0] = 1e9  # long after: asked again
    costs.known(path)
    assert len(pool.jobs) == 1
