"""Budgets in dollars, per call and per month, from the frontmatter and from config globs."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptwise.analysis import analyze_file
from promptwise.config import load_config

PROMPT = "---\nname: x\nmodel:\n  id: gpt-4.1\n{extra}---\nsystem:\nYou review contracts. Be precise and brief.\n\nuser:\nReview it.\n"


def write(tmp_path: Path, extra: str = "", config: str | None = None) -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)
    if config is not None:
        (tmp_path / "promptwise.toml").write_text(config, encoding="utf-8")
    path = tmp_path / "review.prompty"
    path.write_text(PROMPT.format(extra=extra), encoding="utf-8")
    return path


def findings(path: Path, *codes: str):
    analysis = analyze_file(path, load_config(path))
    return analysis, [f for f in analysis.findings if f.code in codes]


def test_over_a_per_call_budget_from_the_frontmatter(tmp_path: Path) -> None:
    analysis, (found,) = findings(write(tmp_path, "promptwise:\n  budget_usd: 0.001\n"), "over-cost-budget", "near-cost-budget")
    cost = analysis.cost_per_call
    assert cost is not None and cost > 0.001
    assert found.code == "over-cost-budget" and found.severity.value == "error"
    assert found.data == {"per": "call", "cost_usd": cost, "budget_usd": 0.001}
    assert "over the budget of $0.00100 per call" in found.message and "frontmatter promptwise.budget_usd" in found.message
    # On the model line, where the switches that meet it are offered.
    assert analysis.document.text[found.span.start : found.span.end] == "gpt-4.1"


def test_near_a_budget_from_a_config_glob_and_within_one(tmp_path: Path) -> None:
    path = write(tmp_path)
    cost = analyze_file(path, load_config(path)).cost_per_call
    assert cost is not None
    write(tmp_path, config=f'[budgets_usd]\n"**/*.prompty" = {cost / 0.9:.10f}\n')
    _, (near,) = findings(path, "over-cost-budget", "near-cost-budget")
    assert near.code == "near-cost-budget" and 'budgets_usd["**/*.prompty"] in promptwise.toml' in near.message
    write(tmp_path, config=f'[budgets_usd]\n"**/*.prompty" = {cost * 2:.10f}\n')
    assert findings(path, "over-cost-budget", "near-cost-budget")[1] == []


def test_a_monthly_budget_needs_a_volume(tmp_path: Path) -> None:
    path = write(tmp_path, "promptwise:\n  budget_usd_per_month: 1\n")
    _, (unchecked,) = findings(path, "cost-budget-unchecked", "over-cost-budget")
    assert "calls_per_day" in unchecked.message
    path = write(tmp_path, "promptwise:\n  budget_usd_per_month: 1\n  calls_per_day: 5000\n")
    analysis, (over,) = findings(path, "cost-budget-unchecked", "over-cost-budget")
    assert over.code == "over-cost-budget" and over.data["per"] == "month"
    assert over.data["cost_usd"] == pytest.approx(analysis.estimate.per_month)
    assert "at 5,000 calls a day" in over.message


@pytest.mark.parametrize("value", ["-5", "0", "lots"])
def test_a_budget_that_is_not_a_positive_amount_is_reported_and_ignored(tmp_path: Path, value: str) -> None:
    analysis, found = findings(write(tmp_path, f"promptwise:\n  budget_usd: {value}\n"), "invalid-frontmatter", "over-cost-budget")
    assert [f.code for f in found] == ["invalid-frontmatter"]
    assert analysis.cost_budget.per_call is None


def test_a_bad_config_value_is_reported_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, config='[budgets_usd]\n"**/*.prompty" = -1\n')
    config = load_config(path)
    (problem,) = config.problems
    assert "budgets_usd" in problem.message and problem.line == 1
    assert config.settings.budgets_usd == {}
