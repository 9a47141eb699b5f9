"""Budgets in dollars: per call, and per month where the file has a volume.

A token budget caps what is sent; a dollar budget caps what is paid, so it also moves with the
model, the cache, the reasoning effort and the output. The per-call figure checked is the one shown
everywhere else (warm when the provider caches the stable prefix); the monthly one is the projected
spend at the file's calls per day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..formats import Finding, Severity
from ..text import Span
from ..units import money

if TYPE_CHECKING:
    from ..config import LoadedConfig
    from . import Analysis

CODES = ("over-cost-budget", "near-cost-budget")


@dataclass(frozen=True)
class CostBudget:
    per_call: float | None = None
    per_call_source: str | None = None
    per_month: float | None = None
    per_month_source: str | None = None


def cost_budget_for(analysis: "Analysis", config: "LoadedConfig") -> CostBudget:
    """The file's dollar budgets: its `promptwise:` block first, else the last matching config glob."""
    doc = analysis.document
    name = config.path.name if config.path else "settings"
    per_call, call_source = doc.budget_usd, "frontmatter promptwise.budget_usd"
    if per_call is None:
        per_call, glob = config.cost_budget_for(doc.path)
        call_source = f'budgets_usd["{glob}"] in {name}' if glob else None
    per_month, month_source = doc.budget_usd_per_month, "frontmatter promptwise.budget_usd_per_month"
    if per_month is None:
        per_month, glob = config.monthly_cost_budget_for(doc.path)
        month_source = f'budgets_usd_per_month["{glob}"] in {name}' if glob else None
    return CostBudget(per_call, call_source if per_call else None, per_month, month_source if per_month else None)


def cost_budget_findings(analysis: "Analysis", config: "LoadedConfig", anchor: Span) -> list[Finding]:
    """over-cost-budget (error) past a dollar budget, near-cost-budget (warning) from `warn_at` of it."""
    budget = analysis.cost_budget
    found: list[Finding] = []
    estimate = analysis.estimate
    basis = "warm" if estimate is not None and estimate.cached else "cold"
    rough = "" if analysis.exact else " (estimate)"
    if budget.per_call and analysis.cost_per_call is not None:
        found += _check(
            analysis.cost_per_call, budget.per_call, f"per call ({basis}){rough}", "per call", budget.per_call_source,
            config, anchor, {"per": "call"},
        )
    if budget.per_month:
        per_month = estimate.per_month if estimate is not None else None
        if per_month is None:
            found.append(
                Finding(
                    "cost-budget-unchecked",
                    Severity.INFO,
                    f"the monthly budget of {money(budget.per_month)} ({budget.per_month_source}) cannot be checked: "
                    "set promptwise.calls_per_day in the frontmatter or [volumes] in promptwise.toml",
                    anchor,
                    data={"per": "month", "budget_usd": budget.per_month},
                )
            )
        else:
            volume = f" at {estimate.calls_per_day:,g} calls a day" if estimate and estimate.calls_per_day else ""
            found += _check(
                per_month, budget.per_month, f"per month{volume}{rough}", "per month", budget.per_month_source,
                config, anchor, {"per": "month"},
            )
    return found


def _check(
    cost: float, budget: float, what: str, per: str, source: str | None, config: "LoadedConfig", anchor: Span, data: dict
) -> list[Finding]:
    share = cost / budget
    data = {**data, "cost_usd": cost, "budget_usd": budget}
    if cost > budget:
        return [
            Finding(
                "over-cost-budget",
                Severity.ERROR,
                f"{money(cost)} {what}, over the budget of {money(budget)} {per} by {money(cost - budget)} "
                f"({share:.0%}; budget from {source})",
                anchor,
                data=data,
            )
        ]
    if share >= config.settings.warn_at:
        return [
            Finding(
                "near-cost-budget",
                Severity.WARNING,
                f"{money(cost)} {what} uses {share:.0%} of the budget of {money(budget)} {per} "
                f"(warning at {config.settings.warn_at:.0%}; budget from {source})",
                anchor,
                data=data,
            )
        ]
    return []
