"""`promptwise eval --cascade`: the cascade chosen from per-case results on several models, its projected
pass rate and blended cost (checked by hand), LLM-judged assertions never gating, and the LiteLLM Router config."""

from __future__ import annotations

import os

import pytest
import yaml
from fake_server import last_user_text

from promptwise.evals import RunOptions, load_suite, run_suite
from promptwise.evals.cascade import CascadePlan, ModelRecord, find_cascade, plan_pair, propose, router_config
from promptwise.evals.results import AssertionResult, CaseResult

# Every reply is billed as 1,000 prompt tokens and 10 completion tokens, so each call's cost is known:
# fake-lite 1,000 x $0.10/M + 10 x $0.40/M = $0.000104; fake-gpt 1,000 x $1/M + 10 x $2/M = $0.00102.
LITE = 0.000104
GPT = 0.00102
USAGE = {"prompt_tokens": 1000, "completion_tokens": 10}

MODELS = """
[models."fake-lite"]
provider = "openai"
input_cost_per_million = 0.1
output_cost_per_million = 0.4
context_window = 100000

[models."fake-mid"]
provider = "openai"
input_cost_per_million = 0.5
output_cost_per_million = 1.0
context_window = 100000
"""

PROMPT = """---
name: Ticket triage
model:
  id: fake-gpt
---
system:
Classify the ticket as damage, billing or shipping. Reply with the category only.

user:
{{ticket}}
"""

SUITE = """
prompt: triage.prompty
models: [fake-gpt, fake-lite]
cases:
  - name: dented
    vars: {ticket: The desk leg arrived dented}
    assert: [{type: contains, value: damage}]
  - name: charged twice
    vars: {ticket: I was charged twice}
    assert: [{type: contains, value: billing}]
  - name: late parcel
    vars: {ticket: Where is my parcel}
    assert: [{type: contains, value: shipping}]
  - name: bent hinge
    vars: {ticket: The hinge came bent}
    assert: [{type: contains, value: damage}]
"""


def answers(wrong_on: dict[str, set[str]]):
    """The right category, except for the tickets (by a word in them) listed for a model."""

    def reply(body):
        text = last_user_text(body)
        right = "damage" if ("dented" in text or "bent" in text) else "billing" if "charged" in text else "shipping"
        if any(word in text for word in wrong_on.get(body["model"].split("/")[-1], ())):
            return "not sure"
        return right

    return reply


@pytest.fixture
def triage(project):
    from conftest import project_config

    project.write("promptwise.toml", project_config(MODELS))
    project.write("triage.prompty", PROMPT)
    project.suite(SUITE)
    return project


async def cascade_of(project, models=None, limit=3):
    suite = load_suite(project.root / "triage.evals.yaml")
    options = RunOptions(models=models)
    baseline = await run_suite(suite, options)
    return baseline, await find_cascade(suite, baseline, options, limit=limit)


async def test_try_the_cheap_model_and_escalate_on_its_failed_assertions(triage):
    triage.server.reply(None, answers({"fake-lite": {"hinge"}}), usage=USAGE)
    baseline, found = await cascade_of(triage)
    assert {m.label: (m.passed, m.calls) for m in found.models} == {"fake-gpt": (4, 4), "fake-lite": (3, 4)}
    plan = found.chosen
    assert plan is not None and (plan.first, plan.then) == ("fake-lite", "fake-gpt")
    assert plan.summary == "try fake-lite, escalate to fake-gpt when contains fails"
    # By hand: fake-lite on all 4 calls, fake-gpt on the 1 it gets wrong; all 4 then pass.
    assert (plan.passed, plan.calls, plan.escalations) == (4, 4, 1)
    assert plan.gates == {"contains": 1}
    assert plan.cost_per_1000_calls == pytest.approx((4 * LITE + 1 * GPT) / 4 * 1000)  # $0.359
    assert found.best_single.label == "fake-gpt"
    assert found.saving_per_1000_calls == pytest.approx(GPT * 1000 - 0.359)
    # The suite already had both models' results: no call beyond the suite's own run.
    assert len(triage.server.calls()) == 8


async def test_no_cascade_when_the_cheap_model_fails_where_the_other_does(triage):
    triage.server.reply(None, answers({"fake-lite": {"hinge"}, "fake-gpt": {"hinge"}}), usage=USAGE)
    _, found = await cascade_of(triage)
    # Escalating the hinge case to fake-gpt gains nothing: fake-gpt gets it wrong too, so fake-gpt alone
    # (3/4) is matched by fake-lite alone, and no pair escalates to a pass for less.
    assert found.chosen is None
    assert "no cascade of these models passes as many case runs as" in found.note


async def test_one_model_suite_runs_the_cheaper_models_it_has_no_results_for(triage):
    triage.write("promptwise.toml", triage.root.joinpath("promptwise.toml").read_text().replace('default_model = "fake-gpt"', 'default_model = "fake-gpt"\nallowed_providers = ["openai"]'))
    triage.server.reply(None, answers({"fake-lite": {"hinge", "parcel"}}), usage=USAGE)
    _, found = await cascade_of(triage, models=["fake-gpt"], limit=2)
    labels = [m.label for m in found.models]
    assert labels[0] == "fake-gpt" and set(labels) >= {"fake-gpt", "fake-lite"}
    called = {c.body["model"].split("/")[-1] for c in triage.server.calls()}
    assert {"fake-gpt", "fake-lite"} <= called
    assert found.spent > 0
    # fake-judge and fake-mid (the same price, $0.00051 a call) are cheaper than fake-gpt and pass all four:
    # escalating fake-lite's two misses to one of them costs (4 x $0.000104 + 2 x $0.00051) / 4 a call.
    plan = found.chosen
    assert plan is not None and plan.first == "fake-lite" and plan.then in ("fake-judge", "fake-mid")
    assert (plan.passed, plan.escalations) == (4, 2)
    assert plan.cost_per_1000_calls == pytest.approx((4 * LITE + 2 * 0.00051) / 4 * 1000)


def _case(index: int, status: str, cost: float, assertions: list[tuple[str, bool]]) -> CaseResult:
    return CaseResult(
        suite="s", case=f"c{index}", case_index=index, model="m", status=status, cost=cost,
        assertions=[AssertionResult(type=t, passed=ok, reason="") for t, ok in assertions],
    )


def test_llm_judged_failures_do_not_escalate():
    cheap = ModelRecord("cheap", {
        (0, 0): _case(0, "passed", 1.0, [("contains", True)]),
        (1, 0): _case(1, "failed", 1.0, [("contains", True), ("llm-rubric", False)]),  # only the judge objects
        (2, 0): _case(2, "failed", 1.0, [("regex", False), ("similar", False)]),
    }, passed=1, calls=3, cost=3.0)
    dear = ModelRecord("dear", {k: _case(k[0], "passed", 10.0, []) for k in cheap.results}, passed=3, calls=3, cost=30.0)
    plan = plan_pair(cheap, dear)
    assert isinstance(plan, CascadePlan)
    # Case 1 stays as the cheap model answered; case 2 escalates on its regex (not on `similar`).
    assert (plan.passed, plan.escalations, plan.judged_misses) == (2, 1, 1)
    assert plan.gates == {"regex": 1}
    assert plan.cost == pytest.approx(3 * 1.0 + 10.0)
    found = propose("s", [cheap, dear])
    assert found.chosen is None  # 2/3 < dear's 3/3


def test_the_written_config_loads_in_litellms_router(triage, cli):
    triage.server.reply(None, answers({"fake-lite": {"hinge"}}), usage=USAGE)
    result = cli("eval", "triage.evals.yaml", "--cascade", "--cascade-out", "cascade.yaml", cwd=triage.root)
    assert result.code == 1, result.out + result.err  # fake-lite fails a case of the suite itself
    assert "proposed: try fake-lite, escalate to fake-gpt when contains fails: 4/4 pass (100%), $0.3590 per 1,000 calls blended" in result.out
    text = (triage.root / "cascade.yaml").read_text()
    assert text.startswith("# promptwise cascade for triage.evals.yaml: try fake-lite, escalate to fake-gpt")
    assert "cannot gate an escalation" in text
    config = yaml.safe_load(text)
    assert [m["model_name"] for m in config["model_list"]] == ["fake-lite", "fake-gpt"]
    assert config["router_settings"]["fallbacks"] == [{"fake-lite": ["fake-gpt"]}]
    assert all(m["litellm_params"]["api_base"] == triage.server.url for m in config["model_list"])
    assert "api_key" not in str(config)  # no key is written; the user config named no variable

    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    router = litellm.Router(model_list=config["model_list"], fallbacks=config["router_settings"]["fallbacks"])
    deployed = {m["model_name"]: m["litellm_params"]["model"] for m in router.registry().all()}
    assert deployed == {m["model_name"]: m["litellm_params"]["model"] for m in config["model_list"]}
    assert router.settings().fallbacks == [{"fake-lite": ["fake-gpt"]}]
    calls = len(triage.server.calls())
    del router
    assert len(triage.server.calls()) == calls  # building the router called nothing


def test_cascade_out_without_a_cascade_fails_clearly(triage, cli):
    triage.server.reply(None, answers({}), usage=USAGE)
    suite = triage.root / "triage.evals.yaml"
    suite.write_text(SUITE.replace("models: [fake-gpt, fake-lite]", "models: [fake-gpt]"))
    result = cli("eval", "triage.evals.yaml", "--cascade-out", "cascade.yaml", cwd=triage.root)
    assert result.code == 2
    assert "--cascade-out cascade.yaml: no cascade to write" in result.err
    assert not (triage.root / "cascade.yaml").exists()


def test_router_config_needs_a_chosen_plan():
    from promptwise.evals.cascade import CascadeResult

    with pytest.raises(ValueError):
        router_config(CascadeResult(suite="s"))
