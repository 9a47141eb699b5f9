"""Reasoning effort actions end to end: offered on a reasoning model's effort line, one per other effort the model
takes, the figure in the title equal to the server's own breakdown once the edit is applied, and the eval pass
rate at that effort in the title when a run recorded one."""

from __future__ import annotations

import json
import re

import pytest
from lsprotocol import types as t

from promptwise.fixes.edits import money
from tests.lsp.conftest import Session
from tests.lsp.test_code_actions import apply, at, code_actions

pytestmark = pytest.mark.asyncio(loop_scope="session")

EFFORT = re.compile(r"^Set reasoning effort to (?P<effort>\w+) \((?:(?P<passed>\d+)/(?P<ran>\d+) cases pass, )?(?P<sign>[-+])(?P<money>\$[\d.,]+) per 1,000 calls\)$")

PLAN = """---
name: Migration planner
model:
  api: chat
  configuration:
    type: openai
    name: gpt-5.2
  parameters:
    reasoning_effort: high
    max_completion_tokens: 16000
promptwise:
  expected_output_tokens: 1500
sample:
  change: Split the order status into its own table.
---
system:
You plan database schema migrations: what to change, in which order, how to roll back.

user:
{{change}}
"""


def lab(session: Session, name: str, text: str):
    folder = session.root / "effort-lab"
    folder.mkdir(exist_ok=True)
    (folder / "promptwise.toml").write_text('default_model = "gpt-4o-mini"\n', encoding="utf-8")
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def efforts(actions: list[t.CodeAction]) -> dict[str, t.CodeAction]:
    found = {}
    for action in actions:
        m = EFFORT.match(action.title)
        if m:
            assert action.kind == t.CodeActionKind.RefactorRewrite and not action.is_preferred
            found[m.group("effort")] = action
    return found


async def test_lower_and_higher_efforts_with_the_saving_the_breakdown_shows(session):
    path = lab(session, "plan.prompty", PLAN)
    uri = session.open(path)
    await session.diagnostics(uri)
    offered = efforts(await code_actions(session, uri, at(PLAN, "high")))
    # gpt-5.2 takes none, low, medium, high and xhigh (the price map's flags).
    assert sorted(offered) == ["low", "medium", "none", "xhigh"]
    assert EFFORT.match(offered["xhigh"].title).group("sign") == "+"
    action = offered["low"]
    m = EFFORT.match(action.title)
    assert m.group("sign") == "-" and m.group("passed") is None
    before, after = await apply(session, uri, action)
    assert "    reasoning_effort: low\n" in session.texts[uri]
    assert m.group("money") == money(before["cost"]["per1000"] - after["cost"]["per1000"])
    assert after["totals"]["promptTokens"] == before["totals"]["promptTokens"]  # the frontmatter is not sent
    # Now at low: high is offered back, as a cost.
    again = efforts(await code_actions(session, uri, at(session.texts[uri], "low")))
    assert "high" in again and EFFORT.match(again["high"].title).group("sign") == "+"
    session.close(uri)


async def test_adds_the_setting_where_the_runtime_reads_it(session):
    text = PLAN.replace("    reasoning_effort: high\n", "")
    path = lab(session, "plan-default.prompty", text)
    uri = session.open(path)
    await session.diagnostics(uri)
    offered = efforts(await code_actions(session, uri, at(text, "gpt-5.2")))
    assert "medium" in offered  # gpt-5.2 runs at its default, none, without a setting
    before, after = await apply(session, uri, offered["medium"])
    assert "    max_completion_tokens: 16000\n    reasoning_effort: medium\n" in session.texts[uri]
    m = EFFORT.match(offered["medium"].title)
    assert m.group("sign") == "+" and m.group("money") == money(after["cost"]["per1000"] - before["cost"]["per1000"])
    session.close(uri)


async def test_the_pass_rate_at_an_effort_is_in_the_title(session):
    path = lab(session, "plan-evals.prompty", PLAN)
    run = path.parent / ".promptwise" / "runs" / "20260101-000000-000000"
    run.mkdir(parents=True, exist_ok=True)
    results = [
        {"suite": "plan-evals.evals.yaml", "model": "gpt-5.2", "status": "passed", "reasoning_effort": "low"} for _ in range(12)
    ] + [{"suite": "plan-evals.evals.yaml", "model": "gpt-5.2", "status": "failed", "reasoning_effort": "none"}]
    (run / "results.json").write_text(
        json.dumps({"suites": [{"path": "plan-evals.evals.yaml", "prompt": "plan-evals.prompty"}], "results": results})
    )
    uri = session.open(path)
    await session.diagnostics(uri)
    actions = await code_actions(session, uri, at(PLAN, "reasoning_effort"))
    offered = efforts(actions)
    assert "low" in offered, [a.title for a in actions]
    low = EFFORT.match(offered["low"].title)
    assert (low.group("passed"), low.group("ran")) == ("12", "12")
    none = EFFORT.match(offered["none"].title)
    assert (none.group("passed"), none.group("ran")) == ("0", "1")
    assert EFFORT.match(offered["medium"].title).group("passed") is None
    session.close(uri)


async def test_not_offered_on_a_model_that_does_not_reason_or_away_from_the_model(session):
    text = PLAN.replace("gpt-5.2", "gpt-4o").replace("    reasoning_effort: high\n", "")
    path = lab(session, "plain.prompty", text)
    uri = session.open(path)
    await session.diagnostics(uri)
    assert efforts(await code_actions(session, uri, at(text, "gpt-4o"))) == {}
    session.close(uri)
    path = lab(session, "plan-away.prompty", PLAN)
    uri = session.open(path)
    await session.diagnostics(uri)
    assert efforts(await code_actions(session, uri, at(PLAN, "schema migrations"))) == {}
    session.close(uri)
