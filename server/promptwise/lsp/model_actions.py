"""The quick fix on a model name the catalog does not know: "Change to gpt-4o-mini", its did-you-mean."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable

from lsprotocol import types

from ..formats import Finding

if TYPE_CHECKING:
    from .documents import Snapshot

DiagnosticsFor = Callable[[Iterable[Finding]], "list[types.Diagnostic] | None"]


def unknown_model_fixes(snap: Snapshot, findings: list[Finding], diagnostics_for: DiagnosticsFor, edit_for) -> list[types.CodeAction]:
    """One preferred quick fix per unknown-model finding with a suggestion (`data["suggestion"]`).

    A typo's correction repairs the text, unlike a switch to a cheaper model, so it is a `quickfix`
    and preferred. `edit_for(edits)` builds the WorkspaceEdit (code_actions.workspace_edit); the edit is
    one value, cheap enough to send with the action.
    """
    from ..fixes.model_edits import Unwritable, correction_edit

    doc = snap.analysis.document if snap.analysis is not None else None
    if doc is None:
        return []
    actions = []
    for finding in findings:
        suggestion = finding.data.get("suggestion") if finding.code == "unknown-model" else None
        if not suggestion:
            continue
        try:
            edit, value, note = correction_edit(doc, suggestion)
        except Unwritable:
            continue
        actions.append(
            types.CodeAction(
                title=f"Change to {value}" + (f" ({note})" if note else ""),
                kind=types.CodeActionKind.QuickFix,
                diagnostics=diagnostics_for([finding]),
                is_preferred=True,
                edit=edit_for([edit]),
            )
        )
    return actions
