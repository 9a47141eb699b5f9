"""Line breaks as the editor counts them: "\\n", "\\r\\n" and a lone "\\r" all end a line, so every range the
server sends names the text the editor shows there. A lone "\\r" once put the two out of step, and
"Apply all safe trims" deleted the user's text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lsprotocol import types as t

from promptwise.analysis import analyze_text
from promptwise.config import load_config
from promptwise.fixes import apply_safe_trims
from tests.lsp.conftest import Session

pytestmark = pytest.mark.asyncio(loop_scope="session")

BREAK = re.compile(r"\r\n|\r|\n")


def client_lines(text: str) -> list[tuple[int, str]]:
    """(start offset, text) of each line as an LSP client splits them, with no help from the server."""
    lines, start = [], 0
    for m in BREAK.finditer(text):
        lines.append((start, text[start : m.start()]))
        start = m.end()
    lines.append((start, text[start:]))
    return lines


def client_offset(text: str, position: t.Position) -> int:
    """What the editor takes a position to mean; columns in UTF-16 units, clamped to the line's end."""
    lines = client_lines(text)
    start, line = lines[min(position.line, len(lines) - 1)]
    units = 0
    for i, ch in enumerate(line):
        if units >= position.character:
            return start + i
        units += 2 if ord(ch) > 0xFFFF else 1
    return start + len(line)


def client_apply(text: str, edits: list[t.TextEdit]) -> str:
    spans = sorted(((client_offset(text, e.range.start), client_offset(text, e.range.end), e.new_text) for e in edits), reverse=True)
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


# An old export pasted into a prompt: its paragraphs end with a lone "\r" inside a "\n" file.
MIXED = (
    "---\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: gpt-4o\n---\nsystem:\n"
    "Rules from the old export:\rAlways cite the policy section 📜.\rNever promise refunds.   \r\n"
    "\n\n\n\n"
    "Escalate damaged deliveries to a human agent, with the order number and photos.\n\n"
    "Escalate damaged deliveries to a human agent, with the order number and photos.\n\n"
    "Reply in the customer's language: 日本語, English.  \rSign as Northwind.\n"
    "\nuser:\nWhere is my order?\n"
)


async def test_apply_all_safe_trims_on_a_file_with_lone_cr_keeps_the_users_text(session: Session):
    path = session.root / "support" / "lone-cr.prompty"
    path.write_text(MIXED, encoding="utf-8", newline="")
    uri = session.open(path, MIXED)
    top = t.Range(t.Position(0, 0), t.Position(0, 0))
    params = t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri),
        range=top,
        context=t.CodeActionContext(diagnostics=[], only=[t.CodeActionKind.SourceFixAll], trigger_kind=t.CodeActionTriggerKind.Invoked),
    )
    (action,) = await session.client.text_document_code_action_async(params)
    change = action.edit.document_changes[0] if action.edit.document_changes else None
    edits = list(change.edits) if change is not None else list(action.edit.changes[uri])
    applied = client_apply(MIXED, edits)

    config = load_config(path)
    expected, _, fixes = apply_safe_trims(analyze_text(path, MIXED, config), config)
    assert fixes  # something to trim: a duplicate, a blank run, trailing whitespace
    assert applied == expected
    for kept in ("Rules from the old export:\rAlways cite the policy section 📜.\rNever promise refunds.",
                 "Reply in the customer's language: 日本語, English.", "\rSign as Northwind.\n", "Where is my order?"):
        assert kept in applied
    assert applied.count("Escalate damaged deliveries") == 1
    session.close(uri)


async def test_positions_count_a_lone_cr_as_a_line_break(session: Session):
    text = "system:\rYou triage tickets.\ruser:\rWhere is my order NW-1234?\r"
    uri = session.open(session.root / "support" / "cr-only.prompt.md", text)
    hints = await session.hints(uri)
    for hint in hints:  # every hint sits on a line the editor has, within it
        lines = client_lines(text)
        assert hint.position.line < len(lines)
        assert hint.position.character <= len(lines[hint.position.line][1].encode("utf-16-le")) // 2
    session.close(uri)
