"""How the CLI shows what a call costs: the cost parts, cold and warm, reasoning and volumes, with sources.

One place for `check` and `count`, so the table, the JSON and the text say the same thing.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..analysis import Analysis
from ..formats import Finding
from ..pricing.cost import CallCost
from ..pricing.estimate import Estimate
from . import output

WARM_MARK = " w"  # after a per-call figure in the table: warm, the stable prefix read from the prompt cache
WARM_FOOTER = "w = warm: the stable prefix read from the prompt cache, as on every call after the first; `promptwise count FILE` shows the cold first call"


def basis(estimate: Estimate | None) -> str | None:
    """What `cost_per_call` is: "warm" (the cached prefix read on a repeated call) or "cold" (nothing cached)."""
    if estimate is None or estimate.per_call is None:
        return None
    return "warm" if estimate.cached else "cold"


def per_call_cell(a: Analysis) -> str:
    """The table's cost/call: warm when the provider caches the prefix, marked so."""
    mark = WARM_MARK if basis(a.estimate) == "warm" else ""
    return output.money(a.cost_per_call) + mark


def per_month_cell(a: Analysis) -> str:
    est = a.estimate
    return "-" if est is None or est.per_month is None else output.money(est.per_month)


def has_volume(analyses: Sequence[Analysis | None]) -> bool:
    return any(a is not None and a.estimate is not None and a.estimate.per_month is not None for a in analyses)


def cost_json(a: Analysis) -> dict[str, Any]:
    """The JSON fields every command gives beside `cost_per_call`: its basis, the estimate and reasoning."""
    est = a.estimate
    r = a.reasoning
    return {
        "basis": basis(est),
        "cold_cost_per_call": est.cold.total if est is not None and est.cold is not None else None,
        "per_1000_calls": est.per_1000 if est is not None else None,
        "per_month": est.per_month if est is not None else None,
        "reasoning": {"effort": r.effort, "tokens": r.tokens, "kind": r.kind, "source": r.source, "effort_source": r.effort_source},
        "estimate": est.to_json() if est is not None else None,
    }


def finding_properties(f: Finding) -> dict[str, Any]:
    """A finding's data (tokens, dollars, dates at stake) as plain JSON values, for SARIF `properties`."""
    return {str(k): _plain(v) for k, v in f.data.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def unit_price(per_token: float) -> str:
    """A token price as people read it: dollars per million tokens."""
    text = f"{per_token * 1_000_000:,.4f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}/M"


def parts_table(title: str, cost: CallCost) -> list[str]:
    """`title` then one line per part: tokens, unit price, cost, where the tokens and the price come from."""
    rows = [
        [p.name, output.tokens(p.tokens), unit_price(p.unit_price), output.money(p.cost), output.message_line(f"{p.source}; {p.price_field}")]
        for p in cost.parts
    ]
    rows.append(["total", "", "", output.money(cost.total), ""])
    table = output.table(["part", "tokens", "price", "cost", "source; price field"], rows, right=(1, 2, 3))
    lines = [title, *(f"  {line}" for line in table.splitlines())]
    lines.extend(f"  {output.message_line(n)}" for n in cost.notes)
    return lines


def text_lines(a: Analysis) -> list[str]:
    """What `count` prints about the cost: cold and warm parts, caching, reasoning, per 1,000 calls and per month."""
    est = a.estimate
    if est is None or est.cold is None:
        return [f"no price for {output.printable(a.model)} in the catalog: tokens only"]
    tier = est.cold.service_tier
    lines = []
    if est.cached and est.warm is not None:
        lines += parts_table("cold: the first call (nothing cached yet)", est.cold)
        lines += parts_table("warm: every later call (the stable prefix read from the cache)", est.warm)
    else:
        lines += parts_table("per call (nothing cached: the same on every call)", est.cold)
    lines.append(f"caching: {output.message_line(est.caching)}")
    lines.append(f"reasoning: {reasoning_line(a)}")
    if tier != "standard":
        lines.append(f"service tier: {output.printable(tier)}")
    basis_word = "warm" if est.cached else "cold"
    lines.append(f"per call: {output.money(a.cost_per_call)} ({basis_word})")
    per_1000 = est.per_1000
    if per_1000 is not None:
        how = "one cold call, then warm" if est.cached else "every call cold"
        lines.append(f"per 1,000 calls: {output.money(per_1000)} ({how})")
    if est.per_month is not None and est.calls_per_day is not None:
        source = f", {output.message_line(est.volume_source)}" if est.volume_source else ""
        lines.append(f"per month: {output.money(est.per_month)} at {est.calls_per_day:,g} calls a day for 30 days{source}")
    return lines


def reasoning_line(a: Analysis) -> str:
    r = a.reasoning
    if r.kind == "none" and r.effort is None:
        return f"none ({output.message_line(r.source)})"
    if r.effort == "none":
        return f"off, none priced ({r.kind}: {output.message_line(r.effort_source or r.source)})"
    effort = f" at {output.printable(r.effort)} effort" if r.effort else ""
    p95 = f", p95 {r.p95:,}" if r.p95 is not None else ""
    budget = f", budget {r.budget:,}" if r.budget is not None else ""
    why = f"; effort: {output.message_line(r.effort_source)}" if r.effort_source else ""
    return f"{r.tokens:,} tokens{effort} ({r.kind}: {output.message_line(r.source)}{p95}{budget}){why}"
