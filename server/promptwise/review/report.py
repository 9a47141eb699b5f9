"""How a comparison reads: a terminal table, a Markdown PR comment, JSON, and GitHub annotations."""

from __future__ import annotations

import json
import math
from typing import Any

from ..cli import output
from ..units import money
from .model import Comparison, FileChange, SideFigures

# The Markdown comment starts with this, so a CI job can find and update its own comment.
MARKER = "<!-- promptwise-diff -->"
# GitHub shows ten annotations of a kind per step: the biggest increases first.
MAX_ANNOTATIONS = 10


def signed_money(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) < 5e-11:
        return "$0"
    size = abs(value)
    # A per-call change is often a millionth of a dollar: keep two significant digits instead of "$0.00000".
    text = money(size) if size >= 0.0001 else f"${size:.{max(2, 1 - math.floor(math.log10(size)))}f}"
    return ("+" if value > 0 else "-") + text


def signed_tokens(value: int) -> str:
    return f"{value:+,}" if value else "0"


def monthly(c: Comparison) -> bool:
    return c.totals.delta_per_month is not None


def summary(c: Comparison) -> str:
    """"+1,240 tokens/call, +$38.00/month across 4 prompts" (per 1,000 calls when no file has a volume)."""
    t = c.totals
    if not t.prompts:
        return "no prompt file changed"
    spend = f"{signed_money(t.delta_per_month)}/month" if monthly(c) else f"{signed_money(t.delta_per_1000_calls)} per 1,000 calls"
    noun = "prompt" if t.prompts == 1 else "prompts"
    over = f"; {len(t.over_budget)} over budget" if t.over_budget else ""
    return f"{signed_tokens(t.delta_tokens)} tokens/call, {spend} across {t.prompts} {noun}{over}"


def sides_line(c: Comparison) -> str:
    how = "" if c.base_reason in ("given", "HEAD") else f", the {c.base_reason}"
    head = c.head_label if c.head is None else f"{c.head_label} ({c.head[:12]})"
    model = f"; every file priced as {c.model}" if c.model else ""
    with_volume = sum(1 for f in c.files if any(s is not None and s.per_month is not None for s in (f.base, f.head)))
    partly = f"; per month covers the {with_volume} of {len(c.files)} files with a volume" if monthly(c) and with_volume < len(c.files) else ""
    return f"base {c.base_label} ({c.base[:12]}{how}) -> {head}{model}{partly}"


def file_label(f: FileChange) -> str:
    return f"{f.old_path} -> {f.path}" if f.old_path else f.path


def change_label(f: FileChange) -> str:
    return f"affected via {', '.join(f.via)}" if f.status == "affected" else f.status


def _tokens_cell(f: FileChange) -> str:
    b = f.base.tokens if f.base and f.base.tokens is not None else None
    h = f.head.tokens if f.head and f.head.tokens is not None else None
    if b is None and h is None:
        return "-"
    return f"{output.tokens(b) if b is not None else '-'} -> {output.tokens(h) if h is not None else '-'}"


def _cost_cell(side: SideFigures | None) -> str:
    if side is None or side.cost_per_call is None:
        return "-"
    return money(side.cost_per_call) + (" w" if side.basis == "warm" else "")


def _budget_cell(f: FileChange) -> str:
    h = f.head or f.base
    if h is None or not h.budget:
        return "-"
    share = output.percent(h.budget_share)
    return f"{share} of {h.budget:,}" + (" OVER" if f.pushed_over_budget else "")


def _findings_cell(f: FileChange) -> str:
    parts = []
    if f.findings_gained:
        parts.append(f"+{len(f.findings_gained)}")
    if f.findings_lost:
        parts.append(f"-{len(f.findings_lost)}")
    return " ".join(parts) or "-"


def _rows(c: Comparison) -> tuple[list[str], list[list[str]]]:
    per = "per month" if monthly(c) else "per 1k calls"
    headers = ["file", "change", "tokens", "delta", "cost/call", "delta/call", per, "budget", "findings"]
    rows = []
    for f in c.files:
        spend = f.delta_per_month if monthly(c) else f.delta_per_1000_calls
        rows.append(
            [
                file_label(f),
                f.status,
                _tokens_cell(f),
                signed_tokens(f.delta_tokens),
                _cost_cell(f.head),
                signed_money(f.delta_cost_per_call),
                signed_money(spend),
                _budget_cell(f),
                _findings_cell(f),
            ]
        )
    return headers, rows


def to_text(c: Comparison) -> str:
    """The terminal table: one row per file, why affected files are listed, then the summary."""
    lines = [output.printable(sides_line(c))]
    if c.files:
        headers, rows = _rows(c)
        lines += ["", output.table(headers, [[output.printable(x) for x in r] for r in rows], right=(2, 3, 4, 5, 6))]
        why = [f"{output.printable(f.path)}: {output.printable(change_label(f))}" for f in c.files if f.status == "affected"]
        if why:
            lines += ["", *why]
        gained = [(f, g) for f in c.files for g in f.findings_gained]
        if gained:
            lines.append("")
            lines += [f"{output.printable(f.path)}:{g.line}: new {g.severity} {g.code} {output.message_line(g.message)}" for f, g in gained]
        if any(f.head and f.head.basis == "warm" for f in c.files):
            lines.append("w = warm: the stable prefix read from the prompt cache, as on every call after the first")
    lines += ["", summary(c)]
    return "\n".join(lines)


def to_markdown(c: Comparison) -> str:
    """A PR comment: the hidden marker, the summary line, a table, then details in a collapsed section."""
    lines = [MARKER, f"**promptwise: {_md(summary(c))}**", "", f"<sub>{_arrows(_md(sides_line(c)))}</sub>"]
    if not c.files:
        return "\n".join(lines) + "\n"
    headers, rows = _rows(c)
    rows = [[_md_file(f), *[_arrows(_md(x)) for x in r[1:]]] for f, r in zip(c.files, rows)]
    lines += ["", "| " + " | ".join(headers) + " |", "|" + "|".join(["---", "---", "---:", "---:", "---:", "---:", "---:", "---", "---"]) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "<details><summary>Details per file</summary>", ""]
    for f in c.files:
        lines += _details(f, c)
    lines += ["</details>", ""]
    return "\n".join(lines)


def _details(f: FileChange, c: Comparison) -> list[str]:
    out = [f"#### {_md_file(f)} ({_md(change_label(f))})", ""]
    b, h = f.base, f.head
    if b and h and b.model != h.model:
        out.append(f"- model: `{_code(b.model or '-')}` → `{_code(h.model or '-')}`")
    elif (h or b) and (h or b).model:  # type: ignore[union-attr]
        out.append(f"- model: `{_code((h or b).model)}`")  # type: ignore[union-attr,arg-type]
    out.append(f"- tokens/call: {_tokens_cell(f).replace(' -> ', ' → ')} ({signed_tokens(f.delta_tokens)})")
    out.append(f"- cost/call: {_cost_cell(b)} → {_cost_cell(h)} ({signed_money(f.delta_cost_per_call)}); cold {money(b.cold_cost_per_call) if b else '-'} → {money(h.cold_cost_per_call) if h else '-'}")
    if b and h and b.cached_tokens != h.cached_tokens:
        out.append(f"- cached prefix: {b.cached_tokens:,} → {h.cached_tokens:,} tokens")
    if f.delta_per_month is not None:
        out.append(f"- per month: {signed_money(f.delta_per_month)}")
    elif f.delta_per_1000_calls is not None:
        out.append(f"- per 1,000 calls: {signed_money(f.delta_per_1000_calls)}")
    if (h or b) and (h or b).budget:  # type: ignore[union-attr]
        over = " **over budget**" if f.pushed_over_budget else ""
        out.append(f"- budget: {_md(_budget_cell(f).replace(' OVER', ''))}{over}")
    parts = _parts(b, h)
    if parts:
        out += ["", "| part | line | base | head | delta |", "|---|---:|---:|---:|---:|", *parts]
    for title, found in (("findings gained", f.findings_gained), ("findings lost", f.findings_lost)):
        if found:
            out += ["", f"{title}:", *[f"- {g.severity} `{_code(g.code)}` (line {g.line}): {_md(g.message)}" for g in found]]
    out.append("")
    return out


def _parts(b: SideFigures | None, h: SideFigures | None) -> list[str]:
    from .lines import _pairs

    rows = []
    for old, new in _pairs(b.messages if b else [], h.messages if h else []):
        m = new or old
        assert m is not None
        label = m.role + (f" ({m.name})" if m.name else "")
        delta = (new.tokens if new else 0) - (old.tokens if old else 0)
        rows.append(f"| {_md(label)} | {m.line} | {old.tokens if old else '-'} | {new.tokens if new else '-'} | {signed_tokens(delta)} |")
    return rows


def to_json(c: Comparison) -> dict[str, Any]:
    """The comparison as `schemas/promptwise.diff.schema.json` describes it."""
    return c.model_dump(mode="json")


def to_json_text(c: Comparison) -> str:
    return json.dumps(to_json(c), indent=2, ensure_ascii=False)


def github_annotations(c: Comparison) -> list[str]:
    """`::warning` on the changed lines that raised the cost most, `::error` on files pushed over their
    budget, and one `::notice` with the summary."""
    found = []
    for f in c.files:
        cost_up = (f.delta_cost_per_call or 0) > 0
        spend = (f.delta_per_month if f.delta_per_month is not None else f.delta_per_1000_calls) or 0.0
        for change in f.lines:
            if change.tokens > 0 or (change.note and cost_up):
                # The lines' share of the file's rise in spend, by their share of its tokens.
                share = spend * change.tokens / f.delta_tokens if f.delta_tokens > 0 else spend
                found.append((share, change.tokens, f, change))
        if f.status == "affected" and (f.delta_tokens > 0 or cost_up):
            found.append((spend, f.delta_tokens, f, None))
    found.sort(key=lambda x: (-x[0], -x[1], x[2].path))
    out = []
    for f in c.files:
        if f.pushed_over_budget and f.head:
            share = output.percent(f.head.budget_share)
            out.append(f"::error file={_prop(f.path)},line=1,title=over budget::{_escape(f'{f.path} is over its budget: {f.head.tokens:,} tokens, {share} of {f.head.budget:,}')}")
    for _, tokens, f, change in found[:MAX_ANNOTATIONS]:
        spend = f"{signed_money(f.delta_per_month)}/month" if f.delta_per_month is not None else f"{signed_money(f.delta_per_1000_calls)} per 1,000 calls"
        totals = f"the file: {signed_tokens(f.delta_tokens)} tokens/call, {signed_money(f.delta_cost_per_call)}/call, {spend}"
        if change is None:
            where = f"file={_prop(f.via[0])}" if f.via else f"file={_prop(f.path)}"
            if f.via and f.via_line:
                where += f",line={f.via_line}"
            text = f"this change adds {tokens:,} tokens/call to {f.path} ({totals})"
            out.append(f"::warning {where},title=promptwise diff::{_escape(text)}")
            continue
        what = f"{signed_tokens(tokens)} tokens/call" + (f"; {change.note}" if change.note else "")
        props = f"file={_prop(f.path)},line={change.line},endLine={change.end_line},title=promptwise diff"
        out.append(f"::warning {props}::{_escape(f'{what} ({totals})')}")
    out.append(f"::notice title=promptwise diff::{_escape(summary(c))}")
    return out


def _escape(value: str) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return output.printable(value)  # no terminal escapes in the workflow log


def _prop(value: str) -> str:
    return _escape(value).replace(":", "%3A").replace(",", "%2C")


def _md(text: str) -> str:
    """Text for a Markdown table cell or line: no HTML, no table breaks, one line."""
    text = output.message_line(text)
    for ch in "\\|<>*_[]`":
        text = text.replace(ch, "\\" + ch)
    return text


def _md_file(f: FileChange) -> str:
    return f"`{_code(f.old_path)}` → `{_code(f.path)}`" if f.old_path else f"`{_code(f.path)}`"


def _arrows(text: str) -> str:
    return text.replace(" -\\> ", " → ")


def _code(text: str) -> str:
    """Text for inside a `code span`: backticks and line breaks cannot end it early."""
    return output.message_line(text).replace("`", "'").replace("|", "\\|")
