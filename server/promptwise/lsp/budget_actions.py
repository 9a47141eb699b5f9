"""What the over-budget diagnostic says when no trim gets the file within its budget, and the edit that
creates the file a moved section goes to."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lsprotocol import types

from ..analysis.sections import breakdowns
from ..formats import Finding
from ..units import money

if TYPE_CHECKING:
    from ..fixes import Fix
    from .documents import Snapshot

TITLE = "Trim to budget"


def nothing_reaches_budget(snap: "Snapshot", fixes: list["Fix"], finding: Finding) -> types.CodeAction | None:
    """A disabled action saying why no trim on offer fits the budget, naming the largest parts to cut by
    hand; None when one of the trims does fit it."""
    a = snap.analysis
    assert a is not None
    if finding.code == "over-budget":
        budget = a.budget or 0
        fits = [f for f in fixes if f.tokens_after <= budget]
        over = f"{a.prompt_tokens - budget:,} tokens over the budget of {budget:,}"
        best = min((f.tokens_after for f in fixes), default=a.prompt_tokens)
        closest = f"; the most a single trim saves leaves {best - budget:,} over" if fixes else ""
    else:
        budget_usd = finding.data.get("budget_usd") or 0.0
        per = finding.data.get("per", "call")
        cost_after = [f.result.cost_per_call for f in fixes if f.result is not None and f.result.cost_per_call is not None]
        fits = [c for c in cost_after if per == "call" and c <= budget_usd]
        over = f"{money(finding.data.get('cost_usd'))} per {per}, over the budget of {money(budget_usd)}"
        closest = "; a cheaper model or a lower reasoning effort may (see the model line's actions)"
    if fits:
        return None
    return types.CodeAction(
        title=TITLE,
        kind=types.CodeActionKind.QuickFix,
        disabled=types.CodeActionDisabled(reason=f"no trim on offer fits: {over}{closest}.{_largest(snap)}"),
    )


def _largest(snap: "Snapshot", limit: int = 3) -> str:
    """" The largest parts: ..." from the sections, code blocks and includes of the biggest messages."""
    a = snap.analysis
    parts = []
    for bd in breakdowns(a, min_tokens=1):
        parts += [p for p in bd.parts if p.kind != "section" or p.level > 0]
    if not parts:  # no Markdown structure: name the messages
        named = sorted(a.messages, key=lambda c: -c.tokens)[:limit]
        listed = [f"{c.message.role} message ({c.tokens:,})" for c in named]
    else:
        whole = {(c.message.body.start, c.message.body.end) for c in a.messages}
        parts = [p for p in parts if (p.span.start, p.span.end) not in whole]
        listed = [f"{p.title or p.kind} ({p.tokens:,})" for p in sorted(parts, key=lambda p: -p.tokens)[:limit]]
    return f" The largest parts: {', '.join(listed)}." if listed else ""


def with_new_files(edit: types.WorkspaceEdit, files: dict[Path, str]) -> types.WorkspaceEdit:
    """The edit, preceded by the creation of each new file with its text (never over an existing file)."""
    changes: list = []
    for path, text in files.items():
        uri = path.resolve().as_uri()
        changes.append(types.CreateFile(uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=False)))
        changes.append(
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
                edits=[types.TextEdit(range=types.Range(types.Position(0, 0), types.Position(0, 0)), new_text=text)],
            )
        )
    changes += list(edit.document_changes or [])
    return types.WorkspaceEdit(document_changes=changes, change_annotations=edit.change_annotations)
