"""Code actions: the trim fixes of promptwise.fixes on the findings they answer, and cheaper-model switches on the model line.

Kinds:
- Trims are `quickfix`: each one answers a finding (a duplicated paragraph, a budget warning) and
  its title says what it saves, measured by the engine. A safe trim that fully answers its finding
  ("Remove this duplicated paragraph", a "Trim to budget" that fits) is preferred. Trims that change
  what is sent (`needs_confirmation`: shortening an include, a duplicate across messages) are never
  preferred, their title ends with "…", and their edit carries a change annotation with
  `needsConfirmation`, so VS Code shows the refactor preview before applying.
- "Apply all safe trims" is `source.fixAll.promptwise`, offered only when a client asks for
  source actions (`editor.codeActionsOnSave` with "source.fixAll", the Fix All command): the same
  trims as `promptwise check --fix`, as one edit.
- Model switches are `refactor.rewrite`. A cheaper model does not repair the text: it changes who
  answers the prompt, so it must not be picked up by auto-fix (`editor.codeActionsOnSave`
  "quickfix", the preferred-fix keybinding, Neovim's `apply = true` with one quickfix). The one
  exception is a `context-overflow` diagnostic: a candidate always holds the prompt plus its
  reserved output, so there the switch does fix the finding and is offered as a `quickfix` for it.
  An over-budget prompt stays over its token budget on another model, so there it stays a refactor.
- An unknown model with a did-you-mean ("Change to gpt-4o-mini") is a preferred `quickfix`: it
  corrects the text (lsp/model_actions.py).

Cost: an action list is cheap. The engine's fixes and suggestions are computed once per document
version (and eval evidence) and shared with the hover; a cursor that is on nothing fixable costs
no engine work at all. With `resolveSupport` for `edit` (VS Code, Neovim) the WorkspaceEdit is built
in codeAction/resolve for the one action the user picks; other clients get it eagerly.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from lsprotocol import types

from ..formats import Finding
from ..text import Span
from . import condense, diagnostics, effort_actions, eval_runs, evidence
from .budget_actions import nothing_reaches_budget, with_new_files
from .positions import offset_of, range_of

if TYPE_CHECKING:
    from ..fixes import Fix, TextEdit
    from ..routing import Suggestion, Suggestions
    from .documents import Snapshot
    from .server import PromptwiseServer

log = logging.getLogger(__name__)

BUDGET_CODES = ("over-budget", "near-budget", "over-cost-budget", "near-cost-budget", "context-overflow")
# Diagnostics that offer the model switches: a budget in tokens is met by trimming, not by another model.
MODEL_CODES = ("over-cost-budget", "near-cost-budget", "context-overflow")
KIND_RANK = {
    "remove-duplicate": 0,
    "remove-duplicates": 1,
    "trim-to-budget": 2,
    "collapse-blank-lines": 3,
    "trailing-whitespace": 4,
    "remove-html-comments": 4,
    "remove-duplicate-items": 4,
    "shorten-include": 5,
    "shorten-part": 6,
    "move-section": 7,
    "drop-section": 8,
}
CONFIRM = "promptwise.confirm"
FIX_ALL = types.CodeActionKind.SourceFixAll + ".promptwise"
MAX_SCANNED_LINES = 500  # lines of a selection looked at for blank runs and trailing whitespace


def register(server: PromptwiseServer) -> None:
    options = types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite, FIX_ALL],
        resolve_provider=True,
    )
    server.feature(types.TEXT_DOCUMENT_CODE_ACTION, options)(code_action)
    server.feature(types.CODE_ACTION_RESOLVE)(resolve)


# ---- what the engine says about one version of a document, computed once ----


@dataclass
class _Computed:
    snap: Snapshot
    fixes: list[Fix] | None = None
    fix_all: tuple[str, list[Fix], int, float | None] | None = None
    suggestions: Suggestions | None = None
    evidence_key: tuple | None = field(default=None)


_computed: OrderedDict[str, _Computed] = OrderedDict()
_COMPUTED_LIMIT = 32


def _entry(snap: Snapshot) -> _Computed:
    entry = _computed.get(snap.uri)
    if entry is None or entry.snap is not snap:
        entry = _computed[snap.uri] = _Computed(snap)
        while len(_computed) > _COMPUTED_LIMIT:
            _computed.popitem(last=False)
    _computed.move_to_end(snap.uri)
    return entry


def fixes_for(snap: Snapshot) -> list[Fix]:
    """The engine's trim fixes for this version, duplicated paragraphs included (the editor's
    analysis leaves their scan to Snapshot.findings())."""
    entry = _entry(snap)
    if entry.fixes is None:
        entry.fixes = []
        if snap.analysis is not None:
            from ..fixes import trim_fixes  # imported on first use: the first inlay hints do not wait for it

            try:
                analysis = dataclasses.replace(snap.analysis, findings=snap.findings())
                entry.fixes = trim_fixes(analysis, snap.config)
            except Exception:  # a fix we cannot compute is not worth a broken editor
                log.exception("trim fixes for %s failed", snap.uri)
    return entry.fixes


def suggestions_for(snap: Snapshot) -> Suggestions | None:
    """Cheaper models for this version, with the latest eval pass rates; computed again when a new run lands."""
    if snap.analysis is None:
        return None
    entry = _entry(snap)
    key = evidence.fingerprint(snap.config.root)
    if entry.suggestions is None or entry.evidence_key != key:
        from ..routing import suggest_models  # imported on first use, as trim_fixes above

        entry.evidence_key = key
        try:
            results = evidence.eval_results(snap.path, snap.config.root)
            entry.suggestions = suggest_models(snap.analysis, snap.config, eval_results=results)
        except Exception:
            log.exception("model suggestions for %s failed", snap.uri)
            entry.suggestions = None
    return entry.suggestions


# ---- client capabilities ----


@dataclass(frozen=True)
class _Client:
    literals: bool = True
    resolve_edit: bool = False
    document_changes: bool = False
    annotations: bool = False
    disabled: bool = False
    create_files: bool = False

    @classmethod
    def of(cls, ls: PromptwiseServer) -> "_Client":
        caps = ls.client_capabilities
        action = _get(caps, "text_document", "code_action")
        edit = _get(caps, "workspace", "workspace_edit")
        resolve = _get(action, "resolve_support", "properties") or []
        return cls(
            literals=_get(action, "code_action_literal_support") is not None,
            resolve_edit="edit" in resolve and bool(_get(action, "data_support")),
            document_changes=bool(_get(edit, "document_changes")),
            annotations=_get(edit, "change_annotation_support") is not None,
            disabled=bool(_get(action, "disabled_support")),
            create_files="create" in (_get(edit, "resource_operations") or []),
        )


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        obj = getattr(obj, name, None)
        if obj is None:
            return None
    return obj


# ---- textDocument/codeAction ----


async def code_action(ls: PromptwiseServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    client = _Client.of(ls)
    if not client.literals:
        return None  # a client that only takes Commands; every editor in use today takes literals
    snap = await ls.analysis(params.text_document.uri)
    if snap is None or snap.analysis is None:
        return None
    try:
        # Fixes and model suggestions take long on a big file: worked out on a worker.
        offered = await ls.analyzer.run(actions_for, ls, snap, params, client)
        if _wanted(params.context.only, types.CodeActionKind.Empty):
            offered += eval_runs.code_actions(ls, snap.uri, params)  # "Run evals for this prompt"
            offered += condense.code_actions(snap, offset_of(snap.lines, params.range.start))  # opt-in: names a command
        return offered or None
    except Exception:
        log.exception("code actions for %s failed", snap.uri)
        return None


def actions_for(ls: PromptwiseServer, snap: Snapshot, params: types.CodeActionParams, client: _Client) -> list[types.CodeAction]:
    lines = snap.lines
    a, b = offset_of(lines, params.range.start), offset_of(lines, params.range.end)
    want = Span(min(a, b), max(a, b))
    only = params.context.only
    findings = snap.findings()
    context = _matching_diagnostics(snap, findings, params.context.diagnostics)
    near = [f for f in findings if _overlaps(f.span, want) and (f.code in BUDGET_CODES or f.code == "duplicated-paragraph")]
    offered: list[types.CodeAction] = []

    if _wanted(only, types.CodeActionKind.QuickFix) and (context or near or _may_trim_here(snap, want)):
        for fix in sorted(fixes_for(snap), key=lambda f: KIND_RANK.get(f.kind, 9)):
            if not any(id(f) in context for f in fix.findings) and not _fix_is_here(fix, snap, want):
                continue
            if fix.new_files and not (client.create_files and client.document_changes):
                continue  # the client cannot create the file the section moves to
            offered.append(_trim_action(ls, snap, fix, context, client))
        budget = [f for f in findings if f.code in ("over-budget", "over-cost-budget") and (id(f) in context or _overlaps(f.span, want))]
        if budget and client.disabled:
            unreachable = nothing_reaches_budget(snap, fixes_for(snap), budget[0])
            if unreachable is not None:
                unreachable.diagnostics = _diagnostics_for(ls, snap, budget[:1], context)
                offered.append(unreachable)

    if only and _wanted(only, FIX_ALL):  # never unasked: it edits the whole file
        fix_all = _fix_all_action(snap, client)
        if fix_all is not None:
            offered.append(fix_all)

    model_span = snap.analysis.document.model_span
    on_model = model_span is not None and _overlaps(model_span, want)
    unknown = [f for f in findings if f.code == "unknown-model" and (id(f) in context or _overlaps(f.span, want))]
    if unknown and _wanted(only, types.CodeActionKind.QuickFix):
        from .model_actions import unknown_model_fixes  # "Change to gpt-4o-mini" on a misspelt model

        offered += unknown_model_fixes(
            snap, unknown, lambda found: _diagnostics_for(ls, snap, found, context), lambda edits: workspace_edit(snap, edits, client)
        )
    model_findings = [f for f in findings if f.code in MODEL_CODES and (id(f) in context or _overlaps(f.span, want))]
    if (on_model or model_findings) and (
        _wanted(only, types.CodeActionKind.RefactorRewrite) or _wanted(only, types.CodeActionKind.QuickFix)
    ):
        suggestions = suggestions_for(snap)
        overflow = [f for f in model_findings if f.code in MODEL_CODES]  # what a switch answers, as a quick fix
        for candidate in suggestions.candidates if suggestions else ():
            if not candidate.edits:
                continue
            action = _model_action(ls, snap, candidate, overflow, context, client)
            if _wanted(only, action.kind):
                offered.append(action)
    offered += effort_actions.code_actions(snap, want, only, client)  # "Set reasoning effort to low (...)"
    return offered


def _wanted(only: Sequence[str] | None, kind: str | None) -> bool:
    """LSP kinds are hierarchical: asking for `refactor` includes `refactor.rewrite`."""
    if not only:
        return True
    kind = kind or ""
    return any(kind == k or kind.startswith(k + ".") or k == "" for k in only)


def _overlaps(span: Span, want: Span) -> bool:
    return span.start <= want.end and want.start <= span.end


def _matching_diagnostics(snap: Snapshot, findings: list[Finding], sent: Sequence[types.Diagnostic]) -> dict[int, types.Diagnostic]:
    """The client's diagnostics (from the request context) by the finding they show: same code and range."""
    ours = [d for d in sent if d.source == diagnostics.SOURCE and d.code is not None]
    if not ours:
        return {}
    by_key = {(str(d.code), d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character): d for d in ours}
    matched = {}
    for f in findings:
        r = range_of(snap.lines, f.span)
        d = by_key.get((f.code, r.start.line, r.start.character, r.end.line, r.end.character))
        if d is not None:
            matched[id(f)] = d
    return matched


def _may_trim_here(snap: Snapshot, want: Span) -> bool:
    """Whether a trim could apply at the cursor, without asking the engine: an include, a blank line,
    trailing whitespace, an HTML comment, a list item or a Markdown part's first line on the selected lines."""
    a = snap.analysis
    assert a is not None
    for count in a.messages:
        if any(_overlaps(ic.include.span, want) for ic in count.includes):
            return True
    lines = snap.lines
    first, last = lines.line_of(want.start), lines.line_of(want.end)
    for line in range(first, min(last, first + MAX_SCANNED_LINES) + 1):
        content = lines.line_text(line)
        if not content.strip() or content[-1:] in (" ", "\t") or "<!--" in content:
            return True
        if content.lstrip()[:1] in ("#", "`", "~", "|", "<", "-", "*", "+"):
            return True
    return False


def _fix_is_here(fix: Fix, snap: Snapshot, want: Span) -> bool:
    """A fix belongs at the cursor when it is on one of its findings, on the include it shortens, or
    (blank lines, trailing whitespace) on a line it edits."""
    if any(_overlaps(f.span, want) for f in fix.findings):
        return True
    if fix.kind in ("shorten-include", "shorten-part", "move-section", "drop-section"):
        return _overlaps(fix.span, want)
    if fix.kind in ("collapse-blank-lines", "trailing-whitespace", "remove-html-comments", "remove-duplicate-items"):
        lines = snap.lines
        first, last = lines.line_of(want.start), lines.line_of(want.end)
        for edit in fix.edits:
            start = lines.line_of(edit.span.start)
            end = lines.line_of(max(edit.span.start, edit.span.end - 1))
            if start <= last and first <= end:
                return True
    return False


# ---- actions ----


def _diagnostics_for(
    ls: PromptwiseServer, snap: Snapshot, findings: Iterable[Finding], context: dict[int, types.Diagnostic]
) -> list[types.Diagnostic] | None:
    """The diagnostics an action fixes: the client's own objects for those it sent, ours for the others
    (none when diagnostics are switched off and the client sent none)."""
    out: list[types.Diagnostic] = []
    other_files: dict = {}
    for f in findings:
        if id(f) in context:
            out.append(context[id(f)])
        elif ls.state.settings.diagnostics:
            out.append(diagnostics.to_diagnostic(f, snap, ls, other_files))
    return out or None


def _trim_action(ls: PromptwiseServer, snap: Snapshot, fix: Fix, context: dict[int, types.Diagnostic], client: _Client) -> types.CodeAction:
    preferred = fix.safe and (fix.kind == "remove-duplicate" or (fix.kind == "trim-to-budget" and fix.remaining == 0))
    action = types.CodeAction(
        title=fix.title + ("…" if fix.needs_confirmation else ""),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=_diagnostics_for(ls, snap, fix.findings, context),
        is_preferred=preferred or None,
        data={"uri": snap.uri, "version": snap.version, "fix": _fix_key(fix)},
    )
    if not client.resolve_edit:
        action.edit = _trim_edit(snap, fix, client)
    return action


def safe_trims_for(snap: Snapshot) -> tuple[str, list[Fix], int, float | None]:
    """The text after every safe trim (what `promptwise check --fix` writes), the trims applied, and
    the tokens and cost per call they save together."""
    entry = _entry(snap)
    if entry.fix_all is None:
        entry.fix_all = (snap.text, [], 0, None)
        from ..fixes import apply_safe_trims  # imported on first use, as trim_fixes
        from ..fixes.apply import UNTOUCHABLE

        before = snap.analysis
        if before is not None and not any(f.code in UNTOUCHABLE for f in snap.findings()):
            try:
                text, after, applied = apply_safe_trims(dataclasses.replace(before, findings=snap.findings()), snap.config)
                cost = None if before.cost_per_call is None or after.cost_per_call is None else before.cost_per_call - after.cost_per_call
                entry.fix_all = (text, applied, before.prompt_tokens - after.prompt_tokens, cost)
            except Exception:  # no fix is better than a broken editor
                log.exception("safe trims failed for %s", snap.uri)
    return entry.fix_all


def _fix_all_action(snap: Snapshot, client: _Client) -> types.CodeAction | None:
    text, applied, tokens, cost = safe_trims_for(snap)
    if not applied:
        return None
    from ..fixes.edits import diff_edits, saving_text

    return types.CodeAction(
        title=f"Apply all safe trims ({saving_text(tokens, cost)})",
        kind=FIX_ALL,
        # The edit comes with the action: editors apply source.fixAll on save without resolving it.
        edit=workspace_edit(snap, diff_edits(snap.text, text), client),
    )


def _fix_key(fix: Fix) -> list[Any]:
    return [fix.kind, fix.span.start, fix.span.end, fix.title]


def _trim_edit(snap: Snapshot, fix: Fix, client: _Client) -> types.WorkspaceEdit:
    label = fix.description or fix.title
    edit = workspace_edit(snap, fix.edits, client, confirm=(fix.title, label) if fix.needs_confirmation else None)
    return with_new_files(edit, fix.new_files) if fix.new_files else edit


def _model_action(
    ls: PromptwiseServer,
    snap: Snapshot,
    candidate: Suggestion,
    overflow: list[Finding],
    context: dict[int, types.Diagnostic],
    client: _Client,
) -> types.CodeAction:
    if overflow:
        kind = types.CodeActionKind.QuickFix
        found = _diagnostics_for(ls, snap, overflow, context)
    else:
        kind, found = types.CodeActionKind.RefactorRewrite, None
    action = types.CodeAction(
        title=candidate.title,
        kind=kind,
        diagnostics=found,
        data={"uri": snap.uri, "version": snap.version, "model": candidate.title},
    )
    if not client.resolve_edit:
        action.edit = workspace_edit(snap, candidate.edits, client)
    return action


def workspace_edit(snap: Snapshot, edits: Sequence[TextEdit], client: _Client, confirm: tuple[str, str] | None = None) -> types.WorkspaceEdit:
    """Engine edits (code-point spans of this version's text) as an LSP WorkspaceEdit with UTF-16 ranges.

    A versioned TextDocumentEdit when the client takes documentChanges, so an edit computed for an
    older version is refused rather than misplaced; `changes` otherwise. `confirm` (label,
    description) marks every edit with a change annotation that needs confirmation.
    """
    lines = snap.lines
    ordered = sorted(edits, key=lambda e: (e.span.start, e.span.end))
    if not client.document_changes:
        plain = [types.TextEdit(range=range_of(lines, e.span), new_text=e.new_text) for e in ordered]
        return types.WorkspaceEdit(changes={snap.uri: plain})
    annotations = None
    text_edits: list[types.TextEdit | types.AnnotatedTextEdit] = []
    if confirm is not None and client.annotations:
        label, description = confirm
        annotations = {CONFIRM: types.ChangeAnnotation(label=label, needs_confirmation=True, description=description)}
        text_edits = [types.AnnotatedTextEdit(range=range_of(lines, e.span), new_text=e.new_text, annotation_id=CONFIRM) for e in ordered]
    else:
        text_edits = [types.TextEdit(range=range_of(lines, e.span), new_text=e.new_text) for e in ordered]
    document = types.TextDocumentEdit(
        text_document=types.OptionalVersionedTextDocumentIdentifier(uri=snap.uri, version=snap.version),
        edits=text_edits,  # type: ignore[arg-type]
    )
    return types.WorkspaceEdit(document_changes=[document], change_annotations=annotations)


# ---- codeAction/resolve ----


async def resolve(ls: PromptwiseServer, action: types.CodeAction) -> types.CodeAction:
    """Fill in the edit of the action the user picked, for the document version it was offered for."""
    await ls.ready()
    data = action.data if isinstance(action.data, dict) else {}
    uri, version = data.get("uri"), data.get("version")
    if action.edit is not None or not isinstance(uri, str):
        return action
    doc = ls.state.get(uri)
    snap = await ls.analysis(uri) if doc is not None and doc.version == version else None
    if snap is None or snap.analysis is None or snap.version != version:
        log.info("code action %r is for version %s of %s, which changed; not resolved", action.title, version, uri)
        return action
    await ls.analyzer.run(_resolve_edit, action, snap, data, _Client.of(ls))
    return action


def _resolve_edit(action: types.CodeAction, snap: Snapshot, data: dict, client: _Client) -> None:
    try:
        if "fix" in data:
            key = list(data["fix"])
            fix = next((f for f in fixes_for(snap) if _fix_key(f) == key), None)
            if fix is not None:
                action.edit = _trim_edit(snap, fix, client)
        elif "model" in data:
            suggestions = suggestions_for(snap)
            candidate = next((c for c in suggestions.candidates if c.title == data["model"]), None) if suggestions else None
            if candidate is not None and candidate.edits:
                action.edit = workspace_edit(snap, candidate.edits, client)
        elif "effort" in data:
            effort_actions.resolve_edit(action, snap, data, client)
    except Exception:
        log.exception("resolving code action %r failed", action.title)
