"""Cost in review in the editor: the change against HEAD on the model line's hover and in the status bar's
breakdown, and the commands behind "Compare Prompt Costs with Branch...", on a workspace that is a git repository."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lsprotocol import types as t
from pygls.exceptions import JsonRpcException

from promptwise.analysis import analyze_file
from promptwise.config import load_config
from tests.lsp.conftest import position_of, session_fixture
from tests.review.head_repo import CONFIG, MORE, PROMPT, git

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository with one commit on main, a feature branch with a longer prompt checked out,
    and a working-tree edit that makes it longer still."""
    root = tmp_path_factory.mktemp("review") / "repo"
    (root / "prompts").mkdir(parents=True)
    (root / "promptwise.toml").write_text(CONFIG, encoding="utf-8")
    (root / "prompts" / "summarize.prompty").write_text(PROMPT, encoding="utf-8")
    (root / "prompts" / "other.prompty").write_text(PROMPT.replace("Summarize", "Triage"), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    git(root, "checkout", "-q", "-b", "feature")
    (root / "prompts" / "other.prompty").write_text(PROMPT.replace("Summarize", "Triage") + MORE, encoding="utf-8")
    git(root, "commit", "-q", "-am", "longer triage")
    return root


review_client, review = session_fixture("review")


def edited(text: str) -> str:
    return text.replace("three short bullet points.\n", "three short bullet points.\n" + MORE)


def tokens_of(path: Path) -> int:
    return analyze_file(path, load_config(path)).prompt_tokens


async def test_the_model_hover_and_the_breakdown_show_the_change_against_head(review, tmp_path: Path):
    path = review.root / "prompts" / "summarize.prompty"
    before = tokens_of(path)
    text = edited(PROMPT)
    uri = review.open(path, text)  # the editor's unsaved text against HEAD's
    # The breakdown waits a moment for HEAD's side; after that the hover has it without waiting.
    data = await review.command("promptwise.showBreakdown", {"uri": uri})
    scratch = tmp_path / "now.prompty"
    shutil.copy(review.root / "promptwise.toml", tmp_path / "promptwise.toml")
    scratch.write_text(text, encoding="utf-8")
    added = tokens_of(scratch) - before
    change = data["vsHead"]
    assert change is not None, "no change against HEAD in the breakdown"
    assert change["status"] == "changed" and change["tokens"] == added > 10
    assert change["costPerCall"] > 0 and change["perMonth"] > 0
    assert change["commit"] == git(review.root, "rev-parse", "HEAD").strip()
    assert change["line"].startswith(f"vs HEAD: +{added} tokens/call (+")

    hover = await review.hover(uri, position_of(text, "gpt-4o-mini", after=False))
    assert hover is not None and change["line"] in hover
    message_hover = await review.hover(uri, position_of(text, "on-call"))
    assert message_hover is not None and "vs HEAD" not in message_hover  # the model line's card only
    review.close(uri)


async def test_a_file_head_does_not_have_is_new_since_head(review):
    path = review.root / "prompts" / "brand-new.prompty"
    path.write_text(PROMPT, encoding="utf-8")
    uri = review.open(path)
    data = await review.command("promptwise.showBreakdown", {"uri": uri})
    assert data["vsHead"]["status"] == "new" and data["vsHead"]["line"].startswith("vs HEAD: new since HEAD")
    hover = await review.hover(uri, position_of(PROMPT, "gpt-4o-mini"))
    assert "vs HEAD: new since HEAD" in hover
    review.close(uri)
    path.unlink()


async def test_a_commit_moves_the_comparison(review):
    path = review.root / "prompts" / "other.prompty"
    uri = review.open(path)
    first = await review.command("promptwise.showBreakdown", {"uri": uri})
    assert first["vsHead"]["status"] == "unchanged"
    text = path.read_text(encoding="utf-8") + MORE
    path.write_text(text, encoding="utf-8")
    review.replace_all(uri, text)
    changed = await review.command("promptwise.showBreakdown", {"uri": uri})
    assert changed["vsHead"]["status"] == "changed" and changed["vsHead"]["tokens"] > 0
    git(review.root, "commit", "-q", "-am", "even longer")
    after = await review.command("promptwise.showBreakdown", {"uri": uri})
    assert after["vsHead"]["status"] == "unchanged"
    assert after["vsHead"]["commit"] == git(review.root, "rev-parse", "HEAD").strip() != first["vsHead"]["commit"]
    review.close(uri)


async def test_list_branches_puts_head_first_then_the_branches(review):
    result = await review.command("promptwise.listBranches", {})
    assert Path(result["root"]) == review.root.resolve()
    labels = [b["label"] for b in result["branches"]]
    assert labels[0] == "HEAD" and {"main", "feature"} <= set(labels)
    current = next(b for b in result["branches"] if b["label"] == "feature")
    assert "current branch" in current["description"] and current["kind"] == "local"
    assert all(b["ref"] for b in result["branches"])


async def test_compare_costs_returns_the_markdown_table(review):
    pytest.importorskip("promptwise.review.report", reason="promptwise diff's report is not there yet")
    path = review.root / "prompts" / "summarize.prompty"
    original = path.read_text(encoding="utf-8")
    path.write_text(edited(original), encoding="utf-8")
    try:
        result = await review.command("promptwise.compareCosts", {"base": "main"})
    finally:
        path.write_text(original, encoding="utf-8")
    markdown = result["markdown"]
    assert "prompts/summarize.prompty" in markdown and "prompts/other.prompty" in markdown
    assert "|" in markdown and "tokens" in markdown


async def test_outside_a_git_repository_the_commands_say_so(review, tmp_path: Path):
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / "a.prompty").write_text(PROMPT, encoding="utf-8")
    with pytest.raises(JsonRpcException, match="is not in a git repository"):
        await review.command("promptwise.listBranches", {"uri": lone.as_uri()})
    with pytest.raises(JsonRpcException, match="is not in a git repository"):
        await review.command("promptwise.compareCosts", {"uri": lone.as_uri()})
    # A prompt outside any repository has no change line, and no error either.
    uri = review.open(lone / "a.prompty")
    data = await review.command("promptwise.showBreakdown", {"uri": uri})
    assert data["vsHead"] is None and data["totals"]["promptTokens"] > 0
    review.close(uri)
