"""The levers in the editor: the new trims (HTML comments, a section moved to its own file, a long part
shortened) and model switches on a budget in dollars, applied the way a client applies them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from lsprotocol import types as t

from tests.lsp.conftest import Session
from tests.lsp.test_code_actions import apply, apply_text_edits, assert_saving_matches, at, code_actions, resolved, send

pytestmark = pytest.mark.asyncio(loop_scope="session")

SECTION = "\n".join(f"- Services in region {i} log to the shared bucket with a retention of {i + 30} days." for i in range(30))
AGENTS = (
    "# Agent notes 🚀\n\n<!-- drafted for the 2025 onboarding, keep until the review -->\n\n"
    "## Overview\n\nThe service routes parcels. 日本語 notes are quoted verbatim.\n\n"
    f"## Logging\n\n{SECTION}\n\n## Style\n\nBe brief.\n"
)


def _write(session: Session, name: str, text: str) -> Path:
    path = session.root / "levers" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def test_an_html_comment_goes_and_the_saving_is_what_the_counts_say(session):
    uri = session.open(_write(session, "AGENTS.md", AGENTS))
    text = session.texts[uri]
    actions = await code_actions(session, uri, at(text, "drafted"))
    (action,) = [a for a in actions if a.title.startswith("Remove 1 HTML comment (")]
    before, after = await apply(session, uri, action)
    assert_saving_matches(action.title, before, after)
    assert "<!--" not in session.texts[uri] and "# Agent notes 🚀\n\n## Overview" in session.texts[uri]
    session.close(uri)


async def test_moving_a_section_creates_its_file_and_keeps_a_line_naming_it(session):
    (session.root / "levers" / "move").mkdir(parents=True, exist_ok=True)
    path = _write(session, "move/AGENTS.md", AGENTS)
    uri = session.open(path)
    text = session.texts[uri]
    actions = await code_actions(session, uri, at(text, "## Logging"))
    moves = [a for a in actions if a.title.startswith('Move "Logging" to docs/logging.md, read on demand (')]
    if session.profile == "neovim":  # no documentChanges: a file cannot be created with the edit
        assert moves == []
        session.close(uri)
        return
    (action,) = moves
    assert action.title.endswith(")…")
    before = await session.command("promptwise.showBreakdown", uri)
    done = await resolved(session, action)
    create, new_file, change = done.edit.document_changes
    assert isinstance(create, t.CreateFile) and create.options.overwrite is False and create.options.ignore_if_exists is False
    target = Path(unquote(urlparse(create.uri).path))
    assert target == path.parent / "docs" / "logging.md" and not target.exists()
    assert isinstance(new_file, t.TextDocumentEdit) and new_file.text_document.uri == create.uri
    (content,) = new_file.edits
    assert content.new_text.startswith("## Logging\n\n- Services in region 0") and content.new_text.endswith("59 days.\n")
    # The change to the prompt asks for confirmation in the refactor preview.
    assert all(isinstance(e, t.AnnotatedTextEdit) for e in change.edits)
    assert done.edit.change_annotations[change.edits[0].annotation_id].needs_confirmation is True
    target.parent.mkdir(exist_ok=True)
    target.write_text(content.new_text, encoding="utf-8")  # what the client does with CreateFile + its edit
    new = send(session, uri, list(change.edits))
    assert "## Logging\n\nRead `docs/logging.md` when the task involves logging.\n\n## Style" in new
    after = await session.command("promptwise.showBreakdown", uri)
    assert_saving_matches(action.title.removesuffix("…"), before, after)
    assert after["includes"] == []  # a path in a code span is read on demand, not attached
    session.close(uri)


async def test_a_long_code_block_is_shortened_to_its_first_lines(session):
    code = "\n".join(f"deploy --region {i} --bucket logs-{i} --retention {i + 30}d" for i in range(40))
    path = _write(session, "CLAUDE.md", f"# Deploying\n\nRun, for example:\n\n```bash\n{code}\n```\n\nThen check.\n")
    uri = session.open(path)
    text = session.texts[uri]
    actions = await code_actions(session, uri, at(text, "```bash"))
    (action,) = [a for a in actions if a.title.startswith("Shorten the bash code block to its first 12 of 40 lines (")]
    before, after = await apply(session, uri, action)
    assert_saving_matches(action.title.removesuffix("…"), before, after)
    assert "deploy --region 11 " in session.texts[uri] and "deploy --region 12 " not in session.texts[uri]
    assert "… (12 of 40 lines kept)\n```\n\nThen check." in session.texts[uri]
    session.close(uri)


async def test_a_dollar_budget_offers_model_switches_on_its_diagnostic(session):
    path = _write(
        session,
        "costly.prompty",
        "---\nname: costly\nmodel:\n  id: gpt-4.1\npromptwise:\n  budget_usd: 0.0001\n---\nsystem:\nYou review contracts.\n\nuser:\nReview it.\n",
    )
    uri = session.open(path)
    (over,) = [d for d in await session.diagnostics(uri) if d.code == "over-cost-budget"]
    assert "over the budget of $0.00010 per call" in over.message
    actions = await code_actions(session, uri, over.range, [over])
    switches = [a for a in actions if a.title.startswith("Switch to ")]
    assert switches and all(over in (a.diagnostics or []) for a in switches)
    session.close(uri)


async def test_repeated_list_items_go_and_the_saving_is_what_the_counts_say(session):
    text = "# Style 🎨\n\n- Use type hints.\n- Prefer pathlib.\n- Use type hints.\n- 日本語 comments stay.\n- Prefer pathlib.\n"
    (session.root / "levers" / "items").mkdir(parents=True, exist_ok=True)
    uri = session.open(_write(session, "items/AGENTS.md", text))
    actions = await code_actions(session, uri, at(text, "- Use type hints.", occurrence=1))
    (action,) = [a for a in actions if a.title.startswith("Remove 2 repeated list items (")]
    before, after = await apply(session, uri, action)
    assert_saving_matches(action.title, before, after)
    assert session.texts[uri] == "# Style 🎨\n\n- Use type hints.\n- Prefer pathlib.\n- 日本語 comments stay.\n"
    session.close(uri)
