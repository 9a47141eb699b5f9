"""Diagnostics: the engine's findings with code, severity, source, range and related places; pushed or pulled."""

from __future__ import annotations

import pytest
from lsprotocol import types as t

from tests.lsp.conftest import end_of_line, position_of, utf16

pytestmark = pytest.mark.asyncio(loop_scope="session")

REPEATED = "👩‍💻 Always answer in 日本語 when the customer writes in 日本語; never mix scripts 🇯🇵 or 中文."


@pytest.fixture(scope="module")
def budgeted(workspace):
    """A folder with a tight budget and a CLAUDE.md whose @import pushes it over."""
    folder = workspace / "budgeted"
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    (folder / "promptwise.toml").write_text('default_model = "gpt-4o"\n[budgets]\n"**/*" = 300\n', encoding="utf-8")
    big = "\n\n".join(f"Rule {i}: deployments to region {i} need a rollback plan and an owner on call." for i in range(60))
    (folder / "docs" / "deploy.md").write_text(big, encoding="utf-8")
    (folder / "CLAUDE.md").write_text("# Team notes 🎉\n\nRead 日本語 docs: @docs/deploy.md before deploying.\n", encoding="utf-8")
    return folder


async def test_over_budget_points_at_the_include_that_causes_it(session, budgeted):
    uri = session.open(budgeted / "CLAUDE.md")
    text = session.texts[uri]
    found = await session.diagnostics(uri)
    (over,) = [d for d in found if d.code == "over-budget"]
    assert over.source == "promptwise" and over.severity == t.DiagnosticSeverity.Error
    assert "tokens per call, over the budget of 300 by" in over.message
    assert "budgets[\"**/*\"] in promptwise.toml" in over.message
    first = over.related_information[0]
    assert first.location.uri == uri
    assert first.location.range == t.Range(
        start=position_of(text, "@docs/deploy.md"), end=position_of(text, "@docs/deploy.md", after=True)
    )
    assert first.message.startswith("docs/deploy.md brings in ")
    session.close(uri)


async def test_duplicated_paragraph_is_unnecessary_with_utf16_range(session):
    text = f"# Agent rules\n\n{REPEATED}\n\nBe brief.\n\n{REPEATED}\n"
    path = session.root / "docs" / "dup.instructions.md"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    found = await session.diagnostics(uri)
    (dup,) = [d for d in found if d.code == "duplicated-paragraph"]
    assert dup.severity == t.DiagnosticSeverity.Warning
    assert list(dup.tags) == [t.DiagnosticTag.Unnecessary]
    assert dup.message.startswith("this paragraph repeats the one on line 3 word for word")
    assert dup.range == t.Range(start=t.Position(line=6, character=0), end=end_of_line(text, 6))
    assert dup.range.end.character == utf16(REPEATED) != len(REPEATED)
    (related,) = dup.related_information
    assert related.location.range == t.Range(start=t.Position(line=2, character=0), end=end_of_line(text, 2))
    assert related.message == "first occurrence"
    session.close(uri)


async def test_pushed_diagnostics_wait_for_a_pause_in_typing(session):
    if session.pulls:
        pytest.skip("this client pulls diagnostics")
    text = f"# Notes\n\n{REPEATED}\n"
    path = session.root / "docs" / "typing.instructions.md"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    assert await session.pushed(uri, version=1) == []
    for i in range(5):  # paste the paragraph again, one keystroke at a time
        start = t.Position(line=3 + i, character=0)
        session.edit(uri, start, start, "\n" if i < 4 else f"\n{REPEATED}\n")
    found = await session.pushed(uri)  # the version after the last edit
    assert [d.code for d in found] == ["duplicated-paragraph"]
    assert [p.version for p in session.published[uri]] == [1, 6]  # nothing for the versions typed through
    session.close(uri)


async def test_pulled_diagnostics_are_reported_unchanged_until_an_edit(session):
    if not session.pulls:
        pytest.skip("this client does not pull diagnostics")
    path = session.root / "legal" / "contract-review.prompty"
    uri = session.open(path)
    first = await session.client.text_document_diagnostic_async(t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri)))
    assert first.kind == "full" and any(d.code == "over-budget" for d in first.items)
    again = await session.client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri), previous_result_id=first.result_id)
    )
    assert again.kind == "unchanged"
    session.edit(uri, t.Position(0, 0), t.Position(0, 0), "")
    after = await session.client.text_document_diagnostic_async(
        t.DocumentDiagnosticParams(t.TextDocumentIdentifier(uri), previous_result_id=first.result_id)
    )
    assert after.kind == "full"
    assert session.published.get(uri) is None  # a pulling client is not also pushed to
    session.close(uri)
