"""Code actions "Set reasoning effort to low (12/12 cases pass, -$3.10 per 1,000 calls)" on a reasoning model.

Offered on the model line, on the effort setting, and on a `reasoning-over-max-output` warning, one per
other effort the model takes (`routing.efforts`). Kind `refactor.rewrite`, like a model switch: another
effort changes how the model answers, so auto-fix never applies it. The engine's options are computed
once per document version and eval evidence; the edit is filled in on codeAction/resolve when the client
resolves edits.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Sequence

from lsprotocol import types

from ..text import Span
from . import evidence

if TYPE_CHECKING:
    from ..routing.efforts import EffortOptions
    from .code_actions import _Client
    from .documents import Snapshot

log = logging.getLogger(__name__)

KIND = types.CodeActionKind.RefactorRewrite
FINDINGS = ("reasoning-over-max-output",)
_computed: OrderedDict[str, tuple[Any, tuple, "EffortOptions | None"]] = OrderedDict()
_LIMIT = 32


def options_for(snap: Snapshot) -> EffortOptions | None:
    """The other efforts of this version's model, with the latest eval pass rates at each."""
    if snap.analysis is None:
        return None
    key = evidence.fingerprint(snap.config.root)
    found = _computed.get(snap.uri)
    if found is not None and found[0] is snap and found[1] == key:
        return found[2]
    from ..routing.efforts import effort_options, effort_pass_rates  # on first use: the first hints do not wait for it

    options = None
    try:
        a = snap.analysis
        rates = effort_pass_rates(snap.config.root, snap.path, a.card.name if a.card else a.model)
        options = effort_options(a, snap.config, pass_rates=rates)
    except Exception:  # an option we cannot price is not worth a broken editor
        log.exception("reasoning effort options for %s failed", snap.uri)
    _computed[snap.uri] = (snap, key, options)
    _computed.move_to_end(snap.uri)
    while len(_computed) > _LIMIT:
        _computed.popitem(last=False)
    return options


def _here(snap: Snapshot, want: Span) -> bool:
    """On a line of the model setting, the effort setting or a reasoning finding (the key counts, not only its value)."""
    a = snap.analysis
    assert a is not None
    doc = a.document
    spans = [s for s in (doc.model_span, doc.reasoning_span) if s is not None]
    spans += [f.span for f in a.findings if f.code in FINDINGS]
    if doc.model_span is None and doc.reasoning_span is None:
        spans.append(Span(0, snap.lines.line_start(1) if snap.lines.line_count > 1 else len(snap.text)))  # where the total's hint is
    lines = snap.lines
    first, last = lines.line_of(want.start), lines.line_of(want.end)
    return any(lines.line_of(s.start) <= last and first <= lines.line_of(max(s.start, s.end - 1)) for s in spans)


def code_actions(snap: Snapshot, want: Span, only: Sequence[str] | None, client: _Client) -> list[types.CodeAction]:
    from .code_actions import _wanted, workspace_edit

    a = snap.analysis
    if a is None or a.card is None or "reasoning" not in a.card.supports or not _wanted(only, KIND) or not _here(snap, want):
        return []
    options = options_for(snap)
    out = []
    for option in options.options if options else ():
        action = types.CodeAction(title=option.title, kind=KIND, data={"uri": snap.uri, "version": snap.version, "effort": option.title})
        if not client.resolve_edit:
            action.edit = workspace_edit(snap, option.edits, client)
        out.append(action)
    return out


def resolve_edit(action: types.CodeAction, snap: Snapshot, data: dict, client: _Client) -> None:
    from .code_actions import workspace_edit

    options = options_for(snap)
    option = next((o for o in options.options if o.title == data.get("effort")), None) if options else None
    if option is not None:
        action.edit = workspace_edit(snap, option.edits, client)
