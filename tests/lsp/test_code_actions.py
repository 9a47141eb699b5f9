"""Code actions: trims on the findings they fix and cheaper-model switches, applied as the client would apply them.

Each test takes the WorkspaceEdit the server returns, applies its TextEdits to the client's copy of
the text (UTF-16 positions, converted here independently of the server), sends the result back as
didChange, and checks the new counts (promptwise.showBreakdown) and diagnostics: the saving in an
action's title must be the difference of the counts before and after.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as t
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from promptwise.analysis import analyze, analyze_file
from promptwise.config import load_config
from promptwise.fixes.apply import fix_file
from promptwise.fixes.edits import money
from promptwise.routing import suggest_models
from promptwise.formats import detect_format, parse_document
from tests.lsp.conftest import EXAMPLES, SERVER, Session, position_of, utf16

pytestmark = pytest.mark.asyncio(loop_scope="session")

EMOJI_LINE = "Quote 日本語 or 中文 clauses verbatim 🇯🇵 and flag them for a bilingual lawyer 👩‍💻."
SAVING = re.compile(r"\((-|\+)?([\d,]+) tokens?, (-|\+)?(\$[\d.,]+) per call\)")
SWITCH = re.compile(r"^Switch to (?P<model>\S+) \(-(?P<percent>\d+)% per call: (?P<before>\$[\d.]+) -> (?P<after>\$[\d.]+)\)")


# ---- applying an edit the way a client does ----


def offset_at(text: str, position: t.Position) -> int:
    """A code-point offset from an LSP position, counting UTF-16 code units on the line."""
    lines = text.split("\n")
    assert position.line <= len(lines), position
    start = sum(len(line) + 1 for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    units = 0
    for i, ch in enumerate(line):
        if units == position.character:
            return start + i
        assert units < position.character, f"{position} splits a surrogate pair"
        units += 2 if ord(ch) > 0xFFFF else 1
    assert units == position.character, f"{position} is past the end of line {position.line}"
    return start + len(line)


def apply_text_edits(text: str, edits: list[t.TextEdit]) -> str:
    """LSP TextEdit[] semantics: every range refers to the original text; ranges never overlap."""
    spans = sorted(((offset_at(text, e.range.start), offset_at(text, e.range.end), e.new_text) for e in edits), reverse=True)
    for (start, end, _), following in zip(spans, [None, *spans]):
        assert start <= end and (following is None or end <= following[0]), "overlapping edits"
    for start, end, new_text in spans:
        text = text[:start] + new_text + text[end:]
    return text


def edits_of(session: Session, edit: t.WorkspaceEdit, uri: str) -> list[t.TextEdit]:
    """The edits for `uri`: a versioned TextDocumentEdit for clients with documentChanges, else `changes`."""
    if edit.document_changes is not None:
        assert edit.changes is None
        (change,) = edit.document_changes
        assert isinstance(change, t.TextDocumentEdit)
        assert change.text_document.uri == uri and change.text_document.version == session.versions[uri]
        return list(change.edits)
    assert edit.changes is not None and list(edit.changes) == [uri]
    return list(edit.changes[uri])


def send(session: Session, uri: str, edits: list[t.TextEdit]) -> str:
    """Apply the edits to the client's text and send them as one incremental didChange, last edit first
    (so each range is still valid when the server applies it)."""
    old = session.texts[uri]
    new = apply_text_edits(old, edits)
    ordered = sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True)
    session.versions[uri] += 1
    session.texts[uri] = new
    session.client.text_document_did_change(
        t.DidChangeTextDocumentParams(
            text_document=t.VersionedTextDocumentIdentifier(uri=uri, version=session.versions[uri]),
            content_changes=[t.TextDocumentContentChangePartial(range=e.range, text=e.new_text) for e in ordered],
        )
    )
    return new


async def code_actions(
    session: Session, uri: str, where: t.Range, diagnostics: list[t.Diagnostic] | None = None, only: list[str] | None = None
) -> list[t.CodeAction]:
    params = t.CodeActionParams(
        text_document=t.TextDocumentIdentifier(uri),
        range=where,
        context=t.CodeActionContext(diagnostics=diagnostics or [], only=only, trigger_kind=t.CodeActionTriggerKind.Invoked),
    )
    result = await session.client.text_document_code_action_async(params)
    assert all(isinstance(a, t.CodeAction) for a in result or [])
    return list(result or [])


async def resolved(session: Session, action: t.CodeAction) -> t.CodeAction:
    """Both profiles resolve edits lazily: the list carries no edit, codeAction/resolve adds it."""
    assert action.edit is None and action.data is not None
    done = await session.client.code_action_resolve_async(action)
    assert done.edit is not None and done.title == action.title
    return done


async def apply(session: Session, uri: str, action: t.CodeAction) -> tuple[dict, dict]:
    """Resolve, apply and send `action`; the breakdowns before and after."""
    before = await session.command("promptwise.showBreakdown", uri)
    done = await resolved(session, action)
    new = send(session, uri, edits_of(session, done.edit, uri))
    after = await session.command("promptwise.showBreakdown", uri)
    assert after["version"] == session.versions[uri]
    assert after["document"]["sha256"] == hashlib.sha256(new.encode()).hexdigest()  # the server's copy is the client's
    return before, after


def assert_saving_matches(title: str, before: dict, after: dict) -> int:
    """The "(-N tokens, -$X per call)" in a title is what the counts and prices say after the edit."""
    m = SAVING.search(title)
    assert m, title
    saved = before["totals"]["promptTokens"] - after["totals"]["promptTokens"]
    assert m.group(1) == "-" and int(m.group(2).replace(",", "")) == saved > 0
    cost = before["cost"]["perCall"] - after["cost"]["perCall"]
    assert m.group(4) == money(cost)
    return saved


def at(text: str, needle: str, occurrence: int = 0) -> t.Range:
    return t.Range(start=position_of(text, needle, occurrence=occurrence), end=position_of(text, needle, occurrence=occurrence))


def copy_example(session: Session, relative: str, name: str) -> Path:
    target = session.root / Path(relative).parent / name
    shutil.copyfile(EXAMPLES / relative, target)
    return target


def engine_suggestions(path: Path, text: str):
    config = load_config(path)
    doc = parse_document(path, text, detect_format(path, config.settings.plain_prompts, config.root))
    return suggest_models(analyze(doc, config), config)


# ---- duplicated paragraphs ----


async def test_server_announces_quick_fixes_and_rewrites_with_resolve(session):
    provider = session.client.init_result.capabilities.code_action_provider
    assert provider.resolve_provider is True
    assert list(provider.code_action_kinds) == [t.CodeActionKind.QuickFix, t.CodeActionKind.RefactorRewrite, "source.fixAll.promptwise"]


async def test_remove_duplicated_paragraphs_from_the_diagnostic(session):
    path = copy_example(session, ".github/instructions/onboarding.instructions.md", "ca-onboarding.instructions.md")
    uri = session.open(path)
    found = await session.diagnostics(uri)
    dups = [d for d in found if d.code == "duplicated-paragraph"]
    assert len(dups) == 3

    actions = await code_actions(session, uri, dups[1].range, [dups[1]])
    titles = [a.title for a in actions]
    (one,) = [a for a in actions if a.title.startswith("Remove this duplicated paragraph, kept on line ")]
    (every,) = [a for a in actions if a.title.startswith("Remove 3 duplicated paragraphs (")]
    assert titles.index(one.title) < titles.index(every.title)
    assert all(a.kind == t.CodeActionKind.QuickFix for a in actions)
    assert one.is_preferred and not every.is_preferred
    assert list(one.diagnostics) == [dups[1]]  # the client's own diagnostic, as sent
    assert sorted((d.range.start.line for d in every.diagnostics)) == sorted(d.range.start.line for d in dups)

    before, after = await apply(session, uri, every)
    saved = assert_saving_matches(every.title, before, after)
    assert after["totals"]["promptTokens"] == before["totals"]["promptTokens"] - saved
    assert "duplicated-paragraph" not in after["findings"]["codes"]
    assert not [d for d in await session.diagnostics(uri) if d.code == "duplicated-paragraph"]
    text = session.texts[uri]
    assert "\n\n\n" not in text and text.endswith("\n") and not text.endswith("\n\n")
    session.close(uri)


async def test_single_duplicate_is_offered_at_the_cursor_without_a_diagnostic(session):
    path = copy_example(session, ".github/instructions/onboarding.instructions.md", "ca-onboarding-one.instructions.md")
    uri = session.open(path)
    dups = [d for d in await session.diagnostics(uri) if d.code == "duplicated-paragraph"]
    inside = t.Position(line=dups[0].range.start.line, character=5)
    actions = await code_actions(session, uri, t.Range(start=inside, end=inside))  # what Neovim sends off the diagnostic
    one = next(a for a in actions if a.title.startswith("Remove this duplicated paragraph"))
    assert [d.code for d in one.diagnostics] == ["duplicated-paragraph"] and one.diagnostics[0].range == dups[0].range
    text = session.texts[uri]
    first_line = dups[0].range.start.line
    repeated = text.split("\n")[first_line]

    before, after = await apply(session, uri, one)
    assert_saving_matches(one.title, before, after)
    assert session.texts[uri].count(repeated) == text.count(repeated) - 1
    remaining = [d for d in await session.diagnostics(uri) if d.code == "duplicated-paragraph"]
    assert len(remaining) == 2
    session.close(uri)


async def test_nothing_is_offered_where_nothing_applies(session):
    path = copy_example(session, ".github/instructions/onboarding.instructions.md", "ca-onboarding-none.instructions.md")
    uri = session.open(path)
    text = session.texts[uri]
    assert await code_actions(session, uri, at(text, "often get wrong")) == []
    session.close(uri)


# ---- trims on an over-budget prompt ----


def _padded_contract() -> str:
    """contract-review.prompty (over its budget of 1,200) with a repeated paragraph, a run of blank
    lines and trailing spaces on an emoji and CJK line."""
    base = (EXAMPLES / "legal" / "contract-review.prompty").read_text(encoding="utf-8")
    start = base.index("Your goal is")
    goal = base[start : base.index("report it as missing.") + len("report it as missing.")]
    return base.replace(goal, goal + "\n\n\n\n" + EMOJI_LINE + "   \n\n" + goal, 1)


async def test_trim_to_budget_says_how_much_is_still_over(session):
    text = _padded_contract()
    path = session.root / "legal" / "ca-trim.prompty"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    (over,) = [d for d in await session.diagnostics(uri) if d.code == "over-budget"]
    assert over.range.start == position_of(text, "gpt-4o")  # on the model line

    actions = await code_actions(session, uri, over.range, [over])
    trims = [a for a in actions if a.kind == t.CodeActionKind.QuickFix]
    assert trims[0].title.startswith(
        "Trim to budget: remove duplicated paragraphs, collapse blank lines, remove trailing whitespace (-"
    )
    m = re.search(r"; still ([\d,]+) over the budget of 1,200$", trims[0].title)
    assert m, trims[0].title
    assert list(trims[0].diagnostics) == [over] and not trims[0].is_preferred  # it does not make the prompt fit
    assert any(a.title.startswith("Collapse 1 run of blank lines (") for a in trims)
    assert any(a.title.startswith("Remove trailing whitespace on 1 line (") for a in trims)
    switches = [a for a in actions if a.kind == t.CodeActionKind.RefactorRewrite]
    assert switches and all(a.title.startswith("Switch to ") and a.diagnostics is None for a in switches)

    before, after = await apply(session, uri, trims[0])
    assert_saving_matches(trims[0].title, before, after)
    still = int(m.group(1).replace(",", ""))
    assert after["totals"]["promptTokens"] == 1200 + still
    new = session.texts[uri]
    assert new == (EXAMPLES / "legal" / "contract-review.prompty").read_text(encoding="utf-8").replace(
        "report it as missing.", "report it as missing.\n\n" + EMOJI_LINE, 1
    )
    (over_after,) = [d for d in await session.diagnostics(uri) if d.code == "over-budget"]
    assert f"{1200 + still:,}" in over_after.message
    session.close(uri)


async def test_fix_all_writes_what_check_fix_writes_as_one_edit(session, tmp_path):
    text = _padded_contract()
    path = session.root / "legal" / "ca-fix-all.prompty"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    top = t.Range(start=t.Position(line=0, character=0), end=t.Position(line=0, character=0))
    assert not [a for a in await code_actions(session, uri, top) if (a.kind or "").startswith("source")]  # never unasked
    (action,) = await code_actions(session, uri, top, only=[t.CodeActionKind.SourceFixAll])
    assert [a.title for a in await code_actions(session, uri, top, only=[t.CodeActionKind.Source])] == [action.title]
    assert action.kind == "source.fixAll.promptwise" and action.edit is not None  # on save there is no resolve

    on_disk = tmp_path / "legal" / "contract.prompty"  # `promptwise check --fix` on the same text
    on_disk.parent.mkdir()
    on_disk.write_text(text, encoding="utf-8")
    analysis = analyze_file(on_disk, load_config(on_disk))
    assert fix_file(on_disk, analysis, analysis.findings, load_config(on_disk)).changed

    before = await session.command("promptwise.showBreakdown", uri)
    new = send(session, uri, edits_of(session, action.edit, uri))
    after = await session.command("promptwise.showBreakdown", uri)
    assert new == on_disk.read_text(encoding="utf-8")
    assert_saving_matches(action.title, before, after)
    assert await code_actions(session, uri, top, only=[t.CodeActionKind.SourceFixAll]) == []  # nothing left to trim
    session.close(uri)


async def test_trailing_whitespace_on_an_emoji_line_uses_utf16_columns(session):
    text = _padded_contract()
    path = session.root / "legal" / "ca-trailing.prompty"
    path.write_text(text, encoding="utf-8")
    uri = session.open(path)
    cursor = position_of(text, "bilingual")
    actions = await code_actions(session, uri, t.Range(start=cursor, end=cursor))
    assert [a.title.split(" (")[0] for a in actions] == ["Remove trailing whitespace on 1 line"]
    (action,) = actions
    done = await resolved(session, action)
    (edit,) = edits_of(session, done.edit, uri)
    line = text[: text.index(EMOJI_LINE)].count("\n")
    assert edit.range == t.Range(start=t.Position(line, utf16(EMOJI_LINE)), end=t.Position(line, utf16(EMOJI_LINE) + 3))
    assert utf16(EMOJI_LINE) != len(EMOJI_LINE) and edit.new_text == ""

    before = await session.command("promptwise.showBreakdown", uri)
    new = send(session, uri, [edit])
    assert new == text.replace(EMOJI_LINE + "   \n", EMOJI_LINE + "\n")
    after = await session.command("promptwise.showBreakdown", uri)
    assert after["document"]["sha256"] == hashlib.sha256(new.encode()).hexdigest()
    assert_saving_matches(action.title, before, after)
    session.close(uri)


async def test_the_over_budget_contract_review_is_trimmed_until_it_fits(session):
    path = copy_example(session, "legal/contract-review.prompty", "ca-fits.prompty")
    uri = session.open(path)
    applied = []
    for _ in range(5):
        over = [d for d in await session.diagnostics(uri) if d.code == "over-budget"]
        if not over:
            break
        actions = await code_actions(session, uri, over[0].range, over, only=[t.CodeActionKind.QuickFix])
        enabled = [a for a in actions if a.disabled is None]
        assert enabled, [a.disabled.reason for a in actions if a.disabled]
        # Token budgets are met by trimming: no model switch among the diagnostic's quick fixes.
        assert not [a for a in actions if a.title.startswith("Switch to ")]
        action = enabled[0]
        before, after = await apply(session, uri, action)
        assert_saving_matches(action.title.removesuffix("…"), before, after)
        applied.append(action.title)
    assert applied and applied[0].startswith('Drop the section "Clause checklist" (-1,616 tokens')
    assert not [d for d in await session.diagnostics(uri) if d.code == "over-budget"]
    session.close(uri)


async def test_when_no_trim_fits_a_disabled_action_names_the_largest_parts(session):
    path = session.root / "ca-nothing.prompty"
    rules = " ".join(f"Rule {i}: every shipment to depot {i} needs a signed manifest." for i in range(40))
    path.write_text(f"---\nmodel: gpt-4o\npromptwise:\n  budget: 50\n---\nsystem:\n{rules}\n\nuser:\nCheck it.\n", encoding="utf-8")
    uri = session.open(path)
    (over,) = [d for d in await session.diagnostics(uri) if d.code == "over-budget"]
    actions = await code_actions(session, uri, over.range, [over], only=[t.CodeActionKind.QuickFix])
    if session.profile == "neovim":  # no disabledSupport: nothing to show
        assert actions == []
    else:
        (disabled,) = actions
        assert disabled.title == "Trim to budget" and list(disabled.diagnostics) == [over]
        reason = disabled.disabled.reason
        assert reason.startswith("no trim on offer fits: ") and "over the budget of 50" in reason
        assert "The largest parts: system message (" in reason and "user message (" in reason
    session.close(uri)


# ---- an include that needs confirmation ----


@pytest.fixture(scope="module")
def budgeted(workspace):
    folder = workspace / "ca-budgeted"
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    (folder / "promptwise.toml").write_text('default_model = "gpt-4o"\n[budgets]\n"**/*" = 300\n', encoding="utf-8")
    big = "\n\n".join(f"Rule {i}: deployments to region {i} need a rollback plan and an owner on call." for i in range(60))
    (folder / "docs" / "deploy.md").write_text(big, encoding="utf-8")
    (folder / "CLAUDE.md").write_text("# Team notes 🎉\n\nRead 日本語 docs 👩‍💻: @docs/deploy.md before deploying.\n", encoding="utf-8")
    return folder


async def test_shortening_an_import_shows_the_edit_before_applying(session, budgeted):
    uri = session.open(budgeted / "CLAUDE.md")
    text = session.texts[uri]
    actions = await code_actions(session, uri, at(text, "deploy.md"))
    (action,) = [a for a in actions if a.title.startswith("Read docs/deploy.md on demand instead of importing it (")]
    assert action.title.endswith(")…") and not action.is_preferred
    done = await resolved(session, action)
    (edit,) = edits_of(session, done.edit, uri)
    assert edit.range == t.Range(start=position_of(text, "@docs"), end=position_of(text, "deploy.md", after=True))
    assert edit.range.start.character != text.split("\n")[2].index("@docs")  # UTF-16, not code points
    if session.profile == "visual_studio_code":  # changeAnnotationSupport: the refactor preview
        assert isinstance(edit, t.AnnotatedTextEdit)
        annotation = done.edit.change_annotations[edit.annotation_id]
        assert annotation.needs_confirmation is True and annotation.label == action.title[:-1]
        assert "no longer loads the file" in annotation.description
    else:
        assert not isinstance(edit, t.AnnotatedTextEdit) and done.edit.change_annotations is None

    before = await session.command("promptwise.showBreakdown", uri)
    new = send(session, uri, [edit])
    assert new == text.replace("@docs/deploy.md", "`docs/deploy.md`")
    after = await session.command("promptwise.showBreakdown", uri)
    assert_saving_matches(action.title[:-1], before, after)
    assert after["includes"] == []
    assert not [d for d in await session.diagnostics(uri) if d.code == "over-budget"]
    session.close(uri)


# ---- model switches ----


async def _switch(session: Session, uri: str, model_text: str) -> tuple[t.CodeAction, dict, dict, list[t.CodeAction]]:
    text = session.texts[uri]
    actions = await code_actions(session, uri, at(text, model_text))
    switches = [a for a in actions if a.title.startswith("Switch to ")]
    assert 1 <= len(switches) <= 3
    assert all(a.kind == t.CodeActionKind.RefactorRewrite and not a.is_preferred for a in switches)
    before, after = await apply(session, uri, switches[0])
    return switches[0], before, after, switches


async def test_switch_model_in_a_prompty_file(session):
    path = copy_example(session, "legal/contract-review.prompty", "ca-switch.prompty")
    uri = session.open(path)
    text = session.texts[uri]
    expected = engine_suggestions(path, text)
    # Quick-fix-only requests (auto-fix, the Problems panel) never switch models on an over-budget file.
    (over,) = [d for d in await session.diagnostics(uri) if d.code == "over-budget"]
    quick = await code_actions(session, uri, over.range, [over], only=[t.CodeActionKind.QuickFix])
    assert not [a for a in quick if a.title.startswith("Switch to ")]

    action, before, after, switches = await _switch(session, uri, "gpt-4o")
    assert [a.title for a in switches] == [c.title for c in expected.candidates if c.edits]
    m = SWITCH.match(action.title)
    assert session.texts[uri] == text.replace("\nmodel: gpt-4o\n", f"\nmodel: {m['model']}\n", 1)
    assert after["catalogModel"] == m["model"] and before["catalogModel"] == "gpt-4o"
    assert money(before["cost"]["perCall"]) == m["before"] and money(after["cost"]["perCall"]) == m["after"]
    share = (before["cost"]["perCall"] - after["cost"]["perCall"]) / before["cost"]["perCall"]
    assert int(m["percent"]) == round(share * 100)
    session.close(uri)


async def test_switch_model_in_a_dotprompt_file_keeps_the_plugin_prefix(session):
    path = copy_example(session, "dotprompt/review.prompt", "ca-review.prompt")
    uri = session.open(path)
    text = session.texts[uri]
    action, before, after, _ = await _switch(session, uri, "openai/gpt-4.1-mini")
    m = SWITCH.match(action.title)
    assert m["model"].startswith("openai/")
    assert session.texts[uri] == text.replace("model: openai/gpt-4.1-mini\n", f"model: {m['model']}\n", 1)
    assert after["model"] == m["model"] and after["catalogModel"] == m["model"].removeprefix("openai/")
    assert money(before["cost"]["perCall"]) == m["before"] and money(after["cost"]["perCall"]) == m["after"]
    assert after["findings"]["errors"] == 0
    session.close(uri)


@pytest.fixture(scope="module")
def pinned(workspace):
    """A project that allows only OpenAI models (so suggestions do not depend on API keys in the
    environment), with eval runs for its review prompt."""
    folder = workspace / "ca-evals"
    folder.mkdir(exist_ok=True)
    # Models retiring within 30 days are not suggested here (gpt-5-nano, on 2026-12-11), and 500 reasoning tokens
    # at medium effort fit the review prompt's maxOutputTokens: three candidates for it.
    (folder / "promptwise.toml").write_text(
        'allowed_providers = ["openai"]\ndefault_model = "gpt-4o-mini"\nsuggest_min_days_left = 30\n\n[reasoning]\nmedium = 500\n',
        encoding="utf-8",
    )
    for name in ("review.prompt", "_persona.prompt", "_style_rules.prompt"):
        shutil.copyfile(EXAMPLES / "dotprompt" / name, folder / name)
    big = "\n\n".join(f"Rule {i}: shipments to warehouse {i} need a signed manifest, a pallet count and a photo of the seal." for i in range(400))
    (folder / "overflow.prompty").write_text(f"---\nmodel: gpt-4\n---\nsystem:\n{big}\n\nuser:\nhi\n", encoding="utf-8")
    (folder / "cheapest.prompty").write_text("---\nmodel: gpt-4o-mini\n---\nsystem:\nBe terse.\n\nuser:\nhi\n", encoding="utf-8")
    (folder / "unknown.prompty").write_text("---\nmodel: northwind-llm-2\n---\nsystem:\nBe terse.\n", encoding="utf-8")
    return folder


def write_run(folder: Path, stamp: str, data: object) -> None:
    run = folder / ".promptwise" / "runs" / stamp
    run.mkdir(parents=True, exist_ok=True)
    (run / "results.json").write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")


def case_results(suite: str, model: str, passed: int, failed: int, errored: int = 0) -> list[dict]:
    statuses = ["passed"] * passed + ["failed"] * failed + ["errored"] * errored
    return [{"suite": suite, "case": f"case {i}", "case_index": i, "model": model, "status": s} for i, s in enumerate(statuses)]


async def test_eval_pass_rates_label_switches_and_fill_the_hover_table(session, pinned):
    text = (pinned / "review.prompt").read_text(encoding="utf-8")
    names = [c.model for c in engine_suggestions(pinned / "review.prompt", text).candidates]
    assert len(names) == 3 and all(n.startswith("openai/") for n in names)
    suite = "ca-evals/review.evals.yaml"
    write_run(
        pinned,
        "20260101-090000-000000",
        {
            "version": "test",
            "started_at": "2026-01-01T09:00:00",
            "suites": [{"path": suite, "prompt": "ca-evals/review.prompt", "models": ["openai/gpt-4.1-mini", names[0]], "cases": 4}],
            "results": case_results(suite, "openai/gpt-4.1-mini", 4, 0) + case_results(suite, names[0], 2, 2, errored=1),
            "cheapest": [
                {"suite": suite, "current": "openai/gpt-4.1-mini", "current_passed": 4, "total": 4,
                 "tried": [{"model": names[2], "passed": 4, "failed": 0, "errored": 1, "verdict": "passes 4/5"}]}
            ],
        },
    )
    # Newer runs that must not count: another prompt with the same file name, and a half-written file.
    other = {"suites": [{"path": "x.evals.yaml", "prompt": "elsewhere/review.prompt"}], "results": case_results("x.evals.yaml", names[2], 0, 4)}
    write_run(pinned, "20260102-090000-000000", other)
    write_run(pinned, "20260103-090000-000000", '{"version": "0.1", "suites": [')
    uri = session.open(pinned / "review.prompt")

    actions = await code_actions(session, uri, at(text, "gpt-4.1-mini"))
    titles = [a.title for a in actions if a.title.startswith("Switch to ")]
    assert titles[0].startswith(f"Switch to {names[0]} (") and titles[0].endswith("; evals 2/4 vs 4/4, passes fewer eval cases")
    assert titles[1].startswith(f"Switch to {names[1]} (") and "evals" not in titles[1]
    assert titles[2].startswith(f"Switch to {names[2]} (") and titles[2].endswith("; evals 4/4 vs 4/4")

    hover = await session.hover(uri, position_of(text, "gpt-4.1-mini"))
    assert hover.startswith("**gpt-4.1-mini** · openai · chat")
    table = hover[hover.index("**Cheaper models**") :].split("\n")
    assert table[2] == "| model | per call | priced | context | capabilities | last evals |"
    rows = [r for r in table if r.startswith("| `")]
    assert len(rows) == 4
    assert rows[0].startswith("| `openai/gpt-4.1-mini` (current) | $0.0023 | cold, no reasoning | 1M | ") and rows[0].endswith(" | 4/4 |")
    assert "JSON schema" in rows[0] and "tools" in rows[0]
    assert rows[1].startswith(f"| `{names[0]}` | ") and rows[1].endswith(" | 2/4, fewer |")
    assert rows[2].endswith(" | not run |") and rows[3].endswith(" | 4/4 |")
    for row, title in zip(rows[1:], titles):
        m = SWITCH.match(title)
        assert f" | {m['after']} (-{m['percent']}%) | " in row  # the same numbers as the action
    assert table[-1].startswith("3 cheaper models from openai fit this prompt")
    session.close(uri)


async def test_context_overflow_switch_is_a_quick_fix(session, pinned):
    uri = session.open(pinned / "overflow.prompty")
    text = session.texts[uri]
    (overflow,) = [d for d in await session.diagnostics(uri) if d.code == "context-overflow"]
    actions = await code_actions(session, uri, overflow.range, [overflow], only=[t.CodeActionKind.QuickFix])
    switches = [a for a in actions if a.title.startswith("Switch to ")]
    assert len(switches) == 3 and all(a.kind == t.CodeActionKind.QuickFix and list(a.diagnostics) == [overflow] for a in switches)
    before, after = await apply(session, uri, switches[0])
    m = SWITCH.match(switches[0].title)
    assert session.texts[uri] == text.replace("model: gpt-4\n", f"model: {m['model']}\n", 1)
    assert money(after["cost"]["perCall"]) == m["after"]
    assert not [d for d in await session.diagnostics(uri) if d.code == "context-overflow"]
    session.close(uri)


async def test_hover_says_why_there_is_no_cheaper_model(session, pinned):
    uri = session.open(pinned / "cheapest.prompty")
    hover = await session.hover(uri, position_of(session.texts[uri], "gpt-4o-mini"))
    assert "\n\n**Cheaper models**: no cheaper model from openai (allowed_providers in promptwise.toml): gpt-4o-mini is already the cheapest" in hover
    assert "| model |" not in hover
    assert not [a for a in await code_actions(session, uri, at(session.texts[uri], "gpt-4o-mini")) if a.title.startswith("Switch")]
    session.close(uri)

    uri = session.open(pinned / "unknown.prompty")
    hover = await session.hover(uri, position_of(session.texts[uri], "northwind"))
    assert hover.startswith("**northwind-llm-2** is not in the model catalog")
    assert hover.endswith(
        "**Cheaper models**: unknown model 'northwind-llm-2': it is not in the catalog, so there is no price to compare against"
    )
    session.close(uri)


# ---- a client without resolveSupport gets the edits at once ----


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="session")
async def eager_client(client: LanguageClient, workspace: Path):
    client.protocol.fm.features[t.CLIENT_REGISTER_CAPABILITY] = lambda params: None
    caps = client_capabilities("visual_studio_code")
    caps.text_document.code_action.resolve_support = None
    await client.initialize_session(t.InitializeParams(capabilities=caps, root_uri=workspace.as_uri()))
    yield
    await client.shutdown_session()


async def test_without_resolve_support_edits_come_with_the_list(eager_client, workspace):
    session = Session(eager_client, "visual_studio_code", workspace)
    path = workspace / ".github" / "instructions" / "ca-eager.instructions.md"
    shutil.copyfile(EXAMPLES / ".github" / "instructions" / "onboarding.instructions.md", path)
    uri = session.open(path)
    dups = [d for d in await session.diagnostics(uri) if d.code == "duplicated-paragraph"]
    actions = await code_actions(session, uri, dups[0].range, [dups[0]])
    every = next(a for a in actions if a.title.startswith("Remove 3 duplicated paragraphs"))
    assert all(a.edit is not None for a in actions)
    before = await session.command("promptwise.showBreakdown", uri)
    send(session, uri, edits_of(session, every.edit, uri))
    after = await session.command("promptwise.showBreakdown", uri)
    assert_saving_matches(every.title, before, after)
    session.close(uri)


# ---- edges ----


async def test_an_action_resolved_after_the_text_changed_gets_no_edit(session):
    path = copy_example(session, ".github/instructions/onboarding.instructions.md", "ca-stale.instructions.md")
    uri = session.open(path)
    dups = [d for d in await session.diagnostics(uri) if d.code == "duplicated-paragraph"]
    (one, *_) = await code_actions(session, uri, dups[0].range, [dups[0]])
    session.edit(uri, t.Position(0, 0), t.Position(0, 0), "<!-- 🎉 -->\n", client_text="<!-- 🎉 -->\n" + session.texts[uri])
    late = await session.client.code_action_resolve_async(one)
    assert late.edit is None  # never an edit computed for another version of the text
    session.close(uri)


async def test_eval_evidence_is_read_defensively(tmp_path):
    from promptwise.lsp.evidence import eval_results

    prompt = tmp_path / "prompts" / "triage.prompty"
    prompt.parent.mkdir()
    prompt.write_text("x", encoding="utf-8")
    assert eval_results(prompt, tmp_path) is None  # no runs folder
    write_run(tmp_path, "20260101-000000-000000", [1, 2, 3])  # not an object
    write_run(tmp_path, "20260102-000000-000000", "\x00\x01 not json")
    assert eval_results(prompt, tmp_path) is None
    suites = [{"path": "s.evals.yaml", "prompt": str(prompt)}]  # an absolute path, as a run outside the project writes it
    write_run(
        tmp_path,
        "20260103-000000-000000",
        {
            "suites": suites,
            "results": case_results("s.evals.yaml", "gpt-4o", 1, 2) + case_results("s.evals.yaml", "gpt-4o-mini", 0, 0, errored=3),
            "cheapest": [{"suite": "s.evals.yaml", "tried": [{"model": "gpt-4.1-nano", "passed": "3", "failed": 0}, "junk"]}],
        },
    )
    write_run(
        tmp_path,
        "20260104-000000-000000",
        {"suites": [{"path": "s.evals.yaml", "prompt": "prompts/triage.prompty"}], "results": case_results("s.evals.yaml", "gpt-4o", 3, 0)},
    )
    # Newest run first per model; errored-only models and malformed trials give no evidence.
    assert eval_results(prompt, tmp_path) == {"gpt-4o": (3, 3)}
    (tmp_path / ".promptwise" / "runs" / "20260104-000000-000000" / "results.json").unlink()
    assert eval_results(prompt, tmp_path) == {"gpt-4o": (1, 3)}
