"""Where a long message's tokens go, in the editor: a hint on each Markdown heading with its section's
tokens and share, and a hover on a heading listing the largest parts with what they cost per 1,000 calls.

Instruction files always get them; other formats' messages from `section_min_tokens` up. The hints
read only the headings in the range the editor asks for (see analysis.sections), so a keystroke in a
1 MiB file pays for a few sections, not an outline of the whole file.
"""

from __future__ import annotations

from lsprotocol import types

from ..analysis import Analysis
from ..analysis.sections import Breakdown, Part, breakdown, per_1000, sections_starting_between, wants_breakdown
from ..text import LineIndex
from . import labels
from .positions import end_of_text, range_of

MAX_LISTED = 8


def hints(a: Analysis, lines: LineIndex, first: int, last: int, min_tokens: int) -> list[tuple[int, str, str]]:
    """(offset, label, tooltip) for each heading whose line starts in [first, last]."""
    doc = a.document
    out = []
    fences = lines.fence_lines() if lines.text is doc.text else None
    for index, count in enumerate(a.messages):
        body = count.message.body
        if body.end < first or body.start > last or count.message.on_use:
            continue
        if not wants_breakdown(doc.format, count.content_tokens, min_tokens):
            continue
        for part in sections_starting_between(doc.text, body.start, body.end, max(first, body.start), min(last, body.end), fences):
            if part.heading is None:
                continue
            tokens = a.tokenizer.count(doc.text[part.span.start : part.span.end])
            part = part.counted(tokens)
            share = tokens / count.content_tokens if count.content_tokens else 0.0
            label = labels.clip(f"{labels.tokens(tokens, a.exact)} · {labels.share(share)}")
            out.append((end_of_text(lines, part.heading), label, _tooltip(a, index, part, share)))
    return out


def _tooltip(a: Analysis, index: int, part: Part, share: float) -> str:
    cold, warm = per_1000(a, index, part)
    out = [f"**{part.title or 'Section'}**: {part.tokens:,} tokens as written, {labels.share(share)} of its message"]
    if cold is not None:
        out.append(f"\n{_costs(cold, warm)} per 1,000 calls on `{labels.model_name(a)}`")
    if not a.exact:
        out.append(f"\n{labels.estimate_note(a)}")
    return "\n".join(out)


def _costs(cold: float, warm: float | None) -> str:
    if warm is None or abs(warm - cold) < 1e-12:
        return labels.money(cold)
    return f"{labels.money(warm)} warm, {labels.money(cold)} cold"


def heading_hover(a: Analysis, lines: LineIndex, offset: int, min_tokens: int) -> types.Hover | None:
    """On a heading line: the message's largest parts (sections, code blocks, tables, examples, includes)."""
    doc = a.document
    for index, count in enumerate(a.messages):
        body = count.message.body
        if not (body.start <= offset <= body.end) or not wants_breakdown(doc.format, count.content_tokens, min_tokens):
            continue
        found = sections_starting_between(doc.text, body.start, body.end, _line_start(doc.text, offset, body.start), offset)
        heading = next((p for p in reversed(found) if p.heading is not None and p.heading.start <= offset <= p.heading.end), None)
        if heading is None:
            return None
        parts = breakdown(doc.text, count.message, index, count.content_tokens, a.tokenizer.count)
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=_table(a, parts)),
            range=range_of(lines, heading.heading),
        )
    return None


def _table(a: Analysis, bd: Breakdown) -> str:
    whole = a.messages[bd.message].message.body
    listed = [p for p in bd.largest(MAX_LISTED + 1) if (p.span.start, p.span.end) != (whole.start, whole.end)][:MAX_LISTED]
    rows = []
    for p in listed:
        cold, warm = per_1000(a, bd.message, p)
        cost = "n/a" if cold is None else _costs(cold, warm)
        rows.append(f"| {p.kind}: {_cell(p.title)} | {p.tokens:,} | {labels.share(bd.share(p))} | {cost} |")
    out = [
        f"**Where this message's {bd.tokens:,} tokens go** on `{labels.model_name(a)}`",
        "",
        "| part | tokens | share | per 1,000 calls |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        "Parts are counted as written; a section includes its subsections, code blocks and tables. "
        "Warm: the part is read from the prompt cache, as on every call after the first.",
    ]
    if not a.exact:
        out.append(f"\n{labels.estimate_note(a)}")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")[:60]


def _line_start(text: str, offset: int, floor: int) -> int:
    return max(floor, text.rfind("\n", floor, offset) + 1, text.rfind("\r", floor, offset) + 1)
