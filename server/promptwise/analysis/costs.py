"""Pricing an analysed prompt with the cost model, and the findings about what its calls cost.

- `deprecated-model`: the model's deprecation date from the price map is near or past;
- `long-context-tier`: the input crosses, or is within 10% of, a threshold that reprices the whole call;
- `cache-busting`: per-call content sits before stable text, which then falls out of the prompt cache;
- `cache-breakpoint`: a provider that caches only at explicit breakpoints would cache the stable prefix;
- `reasoning-over-max-output`: the reasoning expected does not fit the output limit the file sets.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from ..catalog import today
from ..evals import usage as eval_usage
from ..formats import Finding, Related, Severity
from ..pricing.cost import Usage, price_usage
from ..pricing.estimate import Prefix, estimate_call
from ..pricing.prices import long_context_thresholds, unit_price
from ..pricing.reasoning import effort_for, expected_reasoning
from ..text import Span

if TYPE_CHECKING:
    from ..config import LoadedConfig
    from ..evals.usage import MeasuredUsage
    from . import Analysis

NEAR_TIER = 0.9  # within 10% of a long-context threshold
MIN_BUSTED = 256  # stable tokens behind per-call content worth a finding


def price(a: "Analysis", config: "LoadedConfig", prefix: Prefix) -> None:
    """Fill in `a.reasoning` and `a.estimate`: the output, reasoning, tiers and volumes the call is priced with."""
    doc, card = a.document, a.card
    level, _ = effort_for(card, doc.reasoning_effort, doc.reasoning_budget, doc.uses_reasoning)
    measured = _measured(config, a, level)
    name = config.path.name if config.path else "settings"
    a.reasoning = expected_reasoning(
        card, doc.reasoning_effort, doc.reasoning_budget, doc.uses_reasoning, dict(config.settings.reasoning), name, measured
    )
    if card is None or not card.priced:
        return
    output, output_source = a.expected_output_tokens, output_source_of(a, config)
    if doc.expected_output_tokens is None and doc.max_output_tokens is not None and a.reasoning.tokens:
        # A max output bounds reasoning and visible output together: price the bound, not the bound plus reasoning.
        output = max(0, doc.max_output_tokens - a.reasoning.tokens)
        output_source = "the file's max output less the reasoning (an upper bound)"
    if measured is not None and measured.calls:
        output = round(measured.output_tokens.median)
        earlier = "" if measured.current else ", on an earlier version of the file"
        output_source = f"median over {measured.calls:,} eval call{'s' if measured.calls != 1 else ''}{earlier}"
    calls, volume_source = doc.calls_per_day, "frontmatter promptwise.calls_per_day"
    if calls is None:
        calls, glob = config.volume_for(doc.path)
        volume_source = f'volumes["{glob}"] in {name}' if glob else None
    a.estimate = estimate_call(
        card,
        a.prompt_tokens,
        prefix,
        output,
        output_source,
        a.reasoning,
        doc.service_tier or config.settings.service_tier,
        config.settings.caching,
        calls,
        volume_source,
    )


def output_source_of(a: "Analysis", config: "LoadedConfig") -> str:
    doc = a.document
    if doc.expected_output_tokens is not None:
        return "expected_output_tokens in the file"
    if doc.max_output_tokens is not None:
        return "the file's max output (an upper bound)"
    return f"expected_output_tokens default ({config.settings.expected_output_tokens:,}), assumed"


def _measured(config: "LoadedConfig", a: "Analysis", effort: str | None) -> "MeasuredUsage | None":
    """Eval usage measured for this file, model and effort, when evals have run (None otherwise, and for a
    run store in any state: it never fails the analysis)."""
    return eval_usage.measured_usage(config.root, a.document.path, a.card.name if a.card else a.model, effort, a.document.text)


def cost_findings(a: "Analysis", config: "LoadedConfig") -> list[Finding]:
    found = [*_deprecation(a, config), *_reasoning_room(a)]
    if a.estimate is not None and a.estimate.cold is not None:
        found += [*_long_context(a), *_cache_busting(a), *_breakpoint(a)]
    return found


def _model_span(a: "Analysis") -> Span:
    from . import _anchor

    return _anchor(a)


def _deprecation(a: "Analysis", config: "LoadedConfig") -> list[Finding]:
    card = a.card
    if card is None or not card.deprecation_date or a.document.model is None:
        return []  # a default model is the config's choice: its hover says when it retires
    try:
        retires = date.fromisoformat(card.deprecation_date)
    except ValueError:
        return []
    days = (retires - today()).days
    where = f"(deprecation_date in the {card.source})" if card.source else ""
    if days < 0:
        return [Finding("deprecated-model", Severity.ERROR, f"{card.name} was retired on {retires.isoformat()}, {-days:,} day{'s' if days != -1 else ''} ago {where}: calls to it may fail", _model_span(a), data={"date": retires.isoformat(), "days_left": days})]
    if days <= config.settings.suggest_min_days_left:
        when = "today" if days == 0 else f"in {days:,} day{'s' if days != 1 else ''}"
        return [Finding("deprecated-model", Severity.WARNING, f"{card.name} retires on {retires.isoformat()}, {when} {where}", _model_span(a), data={"date": retires.isoformat(), "days_left": days})]
    return []


def _reasoning_room(a: "Analysis") -> list[Finding]:
    doc, reasoning = a.document, a.reasoning
    limit = doc.max_output_tokens
    if limit is None or not reasoning.tokens:
        return []
    needed = max(reasoning.tokens, reasoning.budget or 0)
    if needed < limit:
        return []
    span = doc.reasoning_span or _model_span(a)
    return [
        Finding(
            "reasoning-over-max-output",
            Severity.WARNING,
            f"the max output of {limit:,} tokens leaves no room for a reply: {needed:,} reasoning tokens "
            f"({reasoning.kind}: {reasoning.source}) count against it; raise the max output or lower the effort",
            span,
            data={"max_output": limit, "reasoning": needed},
        )
    ]


def _long_context(a: "Analysis") -> list[Finding]:
    card, est = a.card, a.estimate
    assert card is not None and est is not None and est.cold is not None
    tokens = a.prompt_tokens
    for threshold in reversed(long_context_thresholds(card)):
        if tokens > threshold:
            base = price_usage(card, _usage_of(est.cold), est.cold.service_tier, long_context=False)
            extra = (est.cold.total - base.total) * 1000 if base else 0.0
            return [Finding("long-context-tier", Severity.WARNING, f"{tokens:,} input tokens are over {card.name}'s {threshold:,}-token tier: every token of the call is at the long-context price, +${extra:,.2f} per 1,000 calls", _model_span(a), data={"threshold": threshold, "extra_per_1000": extra})]
        if tokens >= threshold * NEAR_TIER:
            over = price_usage(card, Usage(threshold + 1, 0, 0, est.output_tokens, est.reasoning.tokens), est.cold.service_tier)
            under = price_usage(card, Usage(threshold + 1, 0, 0, est.output_tokens, est.reasoning.tokens), est.cold.service_tier, long_context=False)
            extra = (over.total - under.total) * 1000 if over and under else 0.0
            return [Finding("long-context-tier", Severity.INFO, f"{tokens:,} input tokens are within {threshold - tokens:,} of {card.name}'s {threshold:,}-token tier: crossing it reprices the whole call, +${extra:,.2f} per 1,000 calls", _model_span(a), data={"threshold": threshold, "extra_per_1000": extra})]
    return []


def _usage_of(cost) -> Usage:
    return Usage(
        sum(p.tokens for p in cost.parts if p.part in ("input", "cache_read", "cache_write")),
        cost.tokens("cache_read"),
        cost.tokens("cache_write"),
        cost.tokens("output"),
        cost.tokens("reasoning"),
    )


def _cache_busting(a: "Analysis") -> list[Finding]:
    est, card = a.estimate, a.card
    assert est is not None and card is not None
    prefix, rule = est.prefix, est.rule
    if rule is None or prefix.per_call_message is None or prefix.static_after < MIN_BUSTED:
        return []
    stable = prefix.tokens + prefix.static_after  # the prefix with every variable moved after the stable text
    if rule.automatic:
        better = est.warm_total_with(card, rule.cached(stable))
    elif prefix.breakpoints:
        better = est.warm_total_with(card, stable if stable >= rule.min_prefix else 0)
    else:
        return []  # the breakpoint finding says what to do first
    if est.warm is None or better is None:
        return []
    lost = (est.warm.total - better) * 1000
    if lost <= 0:
        return []
    count = a.messages[prefix.per_call_message]
    var = next(v for v in count.message.variables if v.name == prefix.per_call_name)
    return [
        Finding(
            "cache-busting",
            Severity.WARNING,
            f"'{var.name}' changes on every call and comes before {prefix.static_after:,} stable tokens: they fall out of "
            f"{card.name}'s prompt cache on every call, +${lost:,.2f} per 1,000 calls; move per-call content after the stable text",
            var.span,
            related=_static_after(a, prefix.per_call_message),
            data={"tokens": prefix.static_after, "per_1000": lost},
        )
    ]


def _static_after(a: "Analysis", index: int) -> list[Related]:
    """The largest stable parts the per-call content keeps out of the cache (worded only for those shown)."""
    sizes: list[tuple[int, int]] = []
    for i in range(index, len(a.messages)):
        count = a.messages[i]
        if count.message.on_use:
            continue
        stable = count.tokens - (count.stable_tokens or 0) if count.message.variables else count.tokens
        if stable >= 32:
            sizes.append((stable, i))
    sizes.sort(reverse=True)
    path, out = a.document.path, []
    for stable, i in sizes[:3]:
        message = a.messages[i].message
        label = f"the rest of this {message.role} message" if i == index or message.variables else f"{message.role} message"
        where = message.header if len(message.header) else message.body
        out.append(Related(path, where, f"{label}: about {stable:,} tokens not cached"))
    return out


def _breakpoint(a: "Analysis") -> list[Finding]:
    est, card = a.estimate, a.card
    assert est is not None and card is not None
    rule, prefix = est.rule, est.prefix
    if rule is None or rule.automatic or prefix.breakpoints or prefix.tokens < rule.min_prefix or est.cold is None:
        return []
    marked = est.warm_total_with(card, prefix.tokens)
    if marked is None:
        return []
    saving = (est.cold.total - marked) * 1000
    if saving <= 0:
        return []
    write = unit_price(card, "cache_write", est.cold.service_tier, est.cold.long_context)
    ratio = write.price / est.cold.parts[0].unit_price if write and est.cold.parts[0].unit_price else 1.0
    return [
        Finding(
            "cache-breakpoint",
            Severity.INFO,
            f"{rule.provider} caches only up to a cache_control breakpoint, and this prompt sets none: one after its "
            f"{prefix.tokens:,} stable tokens would save ${saving:,.2f} per 1,000 calls (the first call writes the cache at "
            f"{ratio:.2f}x the input price)",
            _model_span(a),
            data={"tokens": prefix.tokens, "saving_per_1000": saving},
        )
    ]
