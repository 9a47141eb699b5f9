"""Inlay hints: tokens after each role header and include, and the file's total, cost and context share on the model line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from ..analysis import Analysis, MessageCount
from ..text import LineIndex
from ..analysis.sections import DEFAULT_MIN_TOKENS
from . import eval_results, labels, section_hints
from .lifecycle import survives
from .positions import end_of_text, line_end, offset_of, position

if TYPE_CHECKING:
    from .server import PromptwiseServer


def register(server: PromptwiseServer) -> None:
    server.feature(types.TEXT_DOCUMENT_INLAY_HINT, types.InlayHintOptions(resolve_provider=False))(inlay_hints)


@survives([])
async def inlay_hints(ls: PromptwiseServer, params: types.InlayHintParams) -> list[types.InlayHint] | None:
    snap = await ls.analysis(params.text_document.uri)
    if not ls.state.settings.inlay_hints:
        return []
    # The last eval result on each case line of a suite (or cases file).
    evals = eval_results.inlay_hints(ls, params.text_document.uri, params.range)
    if snap is None or snap.analysis is None:
        return evals
    lines = snap.lines
    first = offset_of(lines, params.range.start)
    last = offset_of(lines, params.range.end)
    hints = hints_between(snap.analysis, lines, first, last, snap.config.settings.section_min_tokens)
    for hint in evals:  # the hint length is a limit for every label promptwise emits
        if isinstance(hint.label, str):
            hint.label = labels.clip(hint.label)
    if evals:
        hints = sorted(hints + evals, key=lambda h: (h.position.line, h.position.character))
    return hints


def hints_between(
    analysis: Analysis, lines: LineIndex, first: int, last: int, section_min_tokens: int = DEFAULT_MIN_TOKENS
) -> list[types.InlayHint]:
    """Hints whose anchor offset lies in [first, last]; only those are placed and worded."""
    hints: list[tuple[int, str, str]] = []
    total_at = _total_anchor(analysis, lines)
    if first <= total_at <= last:
        hints.append((total_at, _total_label(analysis), _total_tooltip(analysis)))
    # A lone implicit message (AGENTS.md, a plain prompt) is the whole file: the total says it all.
    several = len(analysis.messages) > 1
    for count in analysis.messages:
        message = count.message
        if message.span.end < first or message.span.start > last:
            continue
        if several or len(message.header):
            at = _message_anchor(count, lines)
            if first <= at <= last and at != total_at:
                hints.append((at, _message_label(count, analysis), _message_tooltip(count, analysis)))
        for ic in count.includes:
            at = ic.include.span.end
            if first <= at <= last and ic.include.error is None:
                hints.append((at, _include_label(ic.tokens, analysis.exact), _include_tooltip(ic, analysis)))
    # Each Markdown heading of a long message; not one the file's total already sits on.
    taken = {h[0] for h in hints}
    hints += [h for h in section_hints.hints(analysis, lines, first, last, section_min_tokens) if h[0] not in taken]
    hints.sort(key=lambda h: h[0])
    return [
        types.InlayHint(
            position=position(lines, offset),
            label=labels.clip(label),
            padding_left=True,
            tooltip=types.MarkupContent(kind=types.MarkupKind.Markdown, value=tooltip),
        )
        for offset, label, tooltip in hints
    ]


# ---- where ----


def _total_anchor(analysis: Analysis, lines: LineIndex) -> int:
    """After the model's name when the file names one, else at the end of the first line."""
    doc = analysis.document
    if doc.model_span is not None:
        return end_of_text(lines, doc.model_span)
    return line_end(lines, 0)


def _message_anchor(count: MessageCount, lines: LineIndex) -> int:
    message = count.message
    if len(message.header):
        return end_of_text(lines, message.header)
    return line_end(lines, message.body.start)


# ---- what ----


def _total_label(a: Analysis) -> str:
    """`3,155 tokens · $0.00047/call warm`: the rest is in the tooltip, so the hint fits VS Code's length.

    A skill's or rule's on-use tokens, then the default model's name, are kept while they fit."""
    count = labels.tokens(a.prompt_tokens, a.exact)
    cost = labels.cost_hint(a)
    named = f" on {labels.model_name(a)}" if a.document.model is None else ""
    # A skill's or rule's body: not per call, but what using it adds.
    on_use = f" · +{'' if a.exact else '~'}{a.on_use_tokens:,} on use" if a.on_use_tokens else ""
    return labels.fit(
        f"{count}{named}{on_use} · {cost}", f"{count}{on_use} · {cost}", f"{count}{named} · {cost}", f"{count} · {cost}"
    )


def _message_label(count: MessageCount, a: Analysis) -> str:
    text = labels.tokens(count.tokens, a.exact)
    if count.message.on_use:
        return labels.clip(text + " · on use")  # outside the per-call total, so a share of it would mislead
    if a.prompt_tokens:
        text += f" · {labels.share(count.tokens / a.prompt_tokens)}"
    return labels.clip(text)


def _include_label(n: int, exact: bool) -> str:
    return labels.clip(f"+{'' if exact else '~'}{n:,} token{'' if n == 1 else 's'}")


def _total_tooltip(a: Analysis) -> str:
    rows = []
    for count in a.messages:
        if count.message.on_use:
            continue  # not sent on every call: its own line below
        label = count.message.role + (f" ({count.message.name})" if count.message.name else "")
        rows.append(f"| {label} message | {count.tokens:,} |")
    if a.tools_tokens:
        rows.append(f"| tool definitions | {a.tools_tokens:,} |")
    if a.reply_priming:
        rows.append(f"| reply priming | {a.reply_priming:,} |")
    out = [
        f"**{a.prompt_tokens:,} input tokens per call** on `{labels.model_name(a)}`, {labels.accuracy(a)}",
        "",
        "| sent on every call | tokens |",
        "|---|---:|",
        *rows,
        "",
        *labels.cost_section(a),
    ]
    deprecation = labels.deprecation_line(a.card)
    if deprecation:
        out.append(f"\n{deprecation}")
    context = labels.context_line(a)
    if context:
        out.append(f"\n{context}")
    if a.on_use_tokens:
        out.append(f"\nOn use: {a.on_use_tokens:,} tokens more when the agent uses it, not in the per-call count")
    if a.budget:
        out.append(f"\nBudget: {a.prompt_tokens:,} of {a.budget:,} ({labels.share(a.budget_share)}; {a.budget_source})")
    return "\n".join(out)


def _message_tooltip(count: MessageCount, a: Analysis) -> str:
    message = count.message
    included = sum(ic.tokens for ic in count.includes)
    out = [
        f"**{message.role} message**" + (f" ({message.name})" if message.name else "") + f": {count.tokens:,} tokens"
        + (
            ", sent only when it is used, not on every call"
            if message.on_use
            else (f", {labels.share(count.tokens / a.prompt_tokens)} of {a.prompt_tokens:,}" if a.prompt_tokens else "")
        ),
        "",
        f"- text: {max(0, count.content_tokens - included):,}",
    ]
    if count.includes:
        out.append(f"- includes: {included:,}")
    out.append(f"- message framing: {count.framing_tokens:,}")
    cost = a.cost_of(count.tokens)
    if cost is not None:
        out.append(f"\n{labels.money(cost)} of input per call on `{labels.model_name(a)}` {labels.input_price_words(a)}")
    if not a.exact:
        out.append(f"\n{labels.estimate_note(a)}")
    return "\n".join(out)


def _include_tooltip(ic, a: Analysis) -> str:
    inc = ic.include
    where = f" from `{inc.path}`" if inc.path else ""
    out = [f"**{inc.target}** brings in {ic.tokens:,} tokens{where}"]
    if not a.exact:
        out.append(f"\n{labels.estimate_note(a)}")
    return "\n".join(out)
