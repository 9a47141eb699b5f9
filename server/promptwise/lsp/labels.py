"""Short, human wording for numbers shown in the editor: token counts, prices, shares, sizes, and the cost model's figures with their sources."""

from __future__ import annotations

import math
from datetime import date

from ..analysis import Analysis
from ..catalog import ModelCard, today
from ..pricing.cost import CallCost
from ..pricing.estimate import Estimate
from ..pricing.prices import SERVICE_TIERS
from ..pricing.reasoning import Reasoning


def tokens(n: int, exact: bool = True) -> str:
    return f"{'' if exact else '~'}{n:,} token{'' if n == 1 else 's'}"


def money(value: float | None) -> str:
    """Two significant digits below a dollar ($0.00083, $0.014, $0.25), cents above ($1,234.50)."""
    if value is None:
        return "n/a"
    if value <= 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    decimals = max(2, 1 - math.floor(math.log10(value)))
    return f"${value:.{decimals}f}"


def share(value: float | None) -> str:
    if value is None:
        return "n/a"
    if 0 < value < 0.005:
        return "<1%"
    return f"{value:.0%}"


def compact(n: int) -> str:
    """128000 -> 128K, 1048576 -> 1M, 8192 -> 8K."""
    for unit, size in (("M", 1_000_000), ("K", 1_000)):
        if n >= size:
            value = n / size
            text = f"{value:.0f}" if value >= 100 or abs(value - round(value)) < 0.05 else f"{value:.1f}"
            return f"{text}{unit}"
    return str(n)


def estimate_note(analysis: Analysis) -> str:
    """Why a count is not exact: the analysis's reasons (the tokenizer, images, tools not in the file...)."""
    return f"estimate ({analysis.exact_reason or 'approximate counting'})"


def accuracy(analysis: Analysis) -> str:
    return f"exact ({analysis.tokenizer.encoding})" if analysis.exact else estimate_note(analysis)


def model_name(analysis: Analysis) -> str:
    card: ModelCard | None = analysis.card
    return card.name if card is not None else analysis.model


# ---- inlay hint length ----

# VS Code shortens inlay hints longer than this by default (editor.inlayHints.maximumLength): every label fits it.
MAX_HINT = 43


def clip(label: str, limit: int = MAX_HINT) -> str:
    """A hint label cut to `limit` characters, with an ellipsis when anything was cut."""
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def fit(*candidates: str, limit: int = MAX_HINT) -> str:
    """The first (richest) candidate that fits the hint length, else the last one clipped."""
    for text in candidates:
        if len(text) <= limit:
            return text
    return clip(candidates[-1], limit)


def unit_per_million(price_per_token: float | None) -> str:
    """A per-token price as dollars per million tokens, without losing digits: $0.075, $1.25, $10.00."""
    if price_per_token is None:
        return "n/a"
    value = price_per_token * 1e6
    text = f"{value:,.4f}".rstrip("0")
    whole, _, decimals = text.partition(".")
    return f"${whole}.{decimals.ljust(2, '0')}"


def cost_is_rough(analysis: Analysis) -> bool:
    """Whether the dollar figure gets a `~`: it rests on estimated tokens or on assumed reasoning."""
    return not analysis.exact or (analysis.reasoning.kind == "assumed" and analysis.reasoning.tokens > 0)


def cost_hint(analysis: Analysis) -> str:
    """`$0.00047/call warm`, `~$0.0050/call`, or `no price`."""
    est = analysis.estimate
    if est is None or est.per_call is None:
        return "no price"
    return f"{'~' if cost_is_rough(analysis) else ''}{money(est.per_call.total)}/call{' warm' if est.cached else ''}"


def rough_note(analysis: Analysis) -> str | None:
    """What the `~` in a hint means here, when there is one."""
    why = []
    if not analysis.exact:
        why.append("the token count is an estimate")
    if analysis.reasoning.kind == "assumed" and analysis.reasoning.tokens > 0:
        why.append(f"the {analysis.reasoning.tokens:,} reasoning tokens are assumed ({analysis.reasoning.source})")
    return f"`~`: {' and '.join(why)}" if why else None


# ---- the cost model in words (tooltips and hovers) ----


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def parts_table(cost: CallCost, exact: bool = True) -> list[str]:
    """part | tokens | per 1M | cost | tokens from | price from, one row per part of the call."""
    out = ["| part | tokens | per 1M | cost | tokens from | price from |", "|---|---:|---:|---:|---|---|"]
    for p in cost.parts:
        source = _token_source(p.part, p.source, exact)
        field = f"`{p.price_field}`" + (f" ({p.note})" if p.note else "")
        out.append(f"| {p.name} | {p.tokens:,} | {unit_per_million(p.unit_price)} | {money(p.cost)} | {_cell(source)} | {_cell(field)} |")
    return out


def _token_source(part: str, source: str, exact: bool) -> str:
    """Where a part's token figure comes from, led by its kind: counted, estimated, measured, configured or assumed."""
    if part.startswith(("input", "cache")):
        return "estimated" if source == "counted" and not exact else source
    if source == "counted" or source.startswith(("measured", "configured", "assumed")):
        return source
    if "eval call" in source:
        return f"measured: {source}"
    if "assumed" in source:
        return f"assumed: {source.removesuffix(', assumed')}"
    if "default" in source or ("upper bound" in source and "budget" in source):
        return f"assumed: {source}"
    return f"configured: {source}"


def days_left(card: ModelCard | None) -> tuple[date, int] | None:
    """The model's deprecation date from the price map and the days until it (negative once past)."""
    if card is None or not card.deprecation_date:
        return None
    try:
        retires = date.fromisoformat(card.deprecation_date)
    except ValueError:
        return None
    return retires, (retires - today()).days


def deprecation_line(card: ModelCard | None) -> str | None:
    found = days_left(card)
    if found is None:
        return None
    retires, days = found
    where = f" (deprecation_date in the {card.source})" if card and card.source else ""
    if days < 0:
        return f"**Retired** on {retires.isoformat()}, {-days:,} day{'s' if days != -1 else ''} ago{where}: calls to it may fail"
    when = "today" if days == 0 else f"in {days:,} day{'s' if days != 1 else ''}"
    return f"**Retires** on {retires.isoformat()}, {when}{where}"


def reasoning_line(r: Reasoning) -> str | None:
    """`10,000 tokens per call at high effort, assumed (promptwise's default for high effort)` and where the effort comes from."""
    if r.effort is None:
        return None
    if r.tokens == 0:
        return f"**Reasoning**: none ({r.kind}: {r.source}; {r.effort_source})"
    text = f"**Reasoning**: {r.tokens:,} tokens per call at {r.effort} effort, **{r.kind}** ({r.source})"
    if r.p95 is not None:
        text += f"; p95 {r.p95:,}"
    if r.budget:
        text += f"; thinking budget {r.budget:,}"
    if r.effort_source:
        text += f". Effort: {r.effort_source}"
    return text


def context_line(a: Analysis) -> str | None:
    window = a.context_window
    if not window:
        return None
    parts = [f"{a.prompt_tokens:,} input", f"{a.expected_output_tokens:,} output reserved"]
    if a.reasoning.tokens:
        parts.append(f"{a.reasoning.tokens:,} reasoning ({a.reasoning.kind})")
    return f"Context: {a.context_needed:,} of {window:,} tokens ({share(a.context_share)}): {' + '.join(parts)}"


def cost_section(a: Analysis) -> list[str]:
    """Markdown lines: warm and cold parts, caching, reasoning, output, per 1,000 calls and per month."""
    est: Estimate | None = a.estimate
    if est is None or est.cold is None or est.per_call is None:
        name = model_name(a)
        return [f"No price for `{name}`: add it under `[models.\"{name}\"]` in promptwise.toml."]
    out: list[str] = []
    rough = "~" if cost_is_rough(a) else ""
    if est.cached and est.warm is not None:
        out += [
            f"**{rough}{money(est.warm.total)} per call warm** (the stable prefix read from the cache), "
            f"{rough}{money(est.cold.total)} cold (the first call)",
            "",
            "Warm call:",
            "",
            *parts_table(est.warm, a.exact),
            "",
            "Cold call:",
            "",
            *parts_table(est.cold, a.exact),
        ]
    else:
        out += [f"**{rough}{money(est.cold.total)} per call** (nothing cached: every call alike)", "", *parts_table(est.cold, a.exact)]
    out.append("")
    caching = f"**Caching**: {est.caching}"
    if est.rule is not None:
        caching += f". Rule: {est.rule.source}; an unused prefix stays cached about {est.rule.lifetime_minutes} minutes"
    out.append(caching)
    line = reasoning_line(est.reasoning)
    if line:
        out += ["", line]
    out += ["", f"**Output**: {est.output_tokens:,} tokens per call ({_token_source('output', est.output_source, a.exact)})"]
    per = est.per_call
    if per.service_tier != "standard":
        out += ["", f"**Service tier**: {per.service_tier} prices (the price map's `{SERVICE_TIERS.get(per.service_tier, '')}` fields where it lists them)"]
    if per.long_context:
        out += ["", f"**Long-context tier**: the input is over {per.long_context:,} tokens, so every part is at the `_above_{per.long_context // 1000}k_tokens` price"]
    notes = [n for n in per.notes if not n.startswith("the input is over")]
    if notes:
        out += ["", "Prices: " + "; ".join(notes)]
    basis = "one cold call, then warm" if est.cached else "every call alike"
    out += ["", f"**Per 1,000 calls**: {rough}{money(est.per_1000)} ({basis})"]
    if est.per_month is not None and est.calls_per_day is not None:
        lifetime = est.rule.lifetime_minutes if est.rule else 5
        cold = f"; at most one cold call per {lifetime}-minute cache lifetime" if est.cached else ""
        out.append(
            f"\n**Per month**: {rough}{money(est.per_month)} at {est.calls_per_day:,g} calls a day "
            f"({est.volume_source or 'set volume'}; 30 days{cold})"
        )
    else:
        out.append("\nPer month: set `promptwise.calls_per_day` in the frontmatter or `[volumes]` in promptwise.toml")
    note = rough_note(a)
    if note:
        out += ["", note]
    return out


def input_price_words(a: Analysis) -> str:
    """How a slice of the input is priced: at the uncached input price, naming its field."""
    cold = a.estimate.cold if a.estimate else None
    if cold is None or not cold.parts:
        return ""
    return f"at the uncached input price (`{cold.parts[0].price_field}`)"
