"""`--cheapest` over models x reasoning efforts: cheapest configuration first, each priced by the cost model with
the reasoning expected at its effort, the calls sent at that effort, stopping at the first that passes as many."""

from __future__ import annotations

import pytest
from fake_server import Rule, last_user_text

from promptwise.analysis import analyze, analyze_file
from promptwise.config import load_config
from promptwise.evals import RunOptions, find_cheapest, load_suite, run_suite
from promptwise.evals.cheapest import trial_suites
from promptwise.fixes.edits import apply_edits
from promptwise.fixes.reasoning_edits import effort_edits
from promptwise.formats import parse_document
from promptwise.routing.efforts import effort_pass_rates

# Two made-up reasoning models, priced so that the order is known: with 1,000 / 3,000 / 10,000 reasoning
# tokens assumed at low / medium / high and 200 output tokens, acme-think-mini at low and medium, then
# acme-think at low, then acme-think-mini at high, then acme-think at medium are cheaper than acme-think at high.
MODELS = """
allowed_providers = ["acme"]
expected_output_tokens = 200

[evals]
retries = 0
timeout = 5

[models.acme-think]
provider = "acme"
input_cost_per_million = 1.0
output_cost_per_million = 10.0
context_window = 200000
supports = ["reasoning"]
tokenizer = "o200k_base"

[models.acme-think-mini]
provider = "acme"
input_cost_per_million = 0.2
output_cost_per_million = 2.0
context_window = 200000
supports = ["reasoning"]
tokenizer = "o200k_base"
"""

PROMPT = """---
name: Ticket triage
model:
  id: acme-think
  parameters:
    reasoning_effort: high
---
system:
Classify the ticket as damage or billing. Reply with the category only.

user:
{{ticket}}
"""

SUITE = """
prompt: triage.prompty
cases:
  - name: dented
    vars: {ticket: The desk leg arrived dented}
    assert: [{type: contains, value: damage}]
  - name: charged twice
    vars: {ticket: I was charged twice}
    assert: [{type: contains, value: billing}]
"""


def answers(good: set[tuple[str, str]]):
    """Right answers from the (model, effort) pairs in `good`; the effort is the one the request sends."""

    def reply(body):
        pair = (body["model"].split("/")[-1], body.get("reasoning_effort"))
        if pair not in good:
            return "not sure"
        return "damage" if "dented" in last_user_text(body) else "billing"

    return reply


@pytest.fixture
def triage(project):
    project.write("promptwise.toml", 'default_model = "acme-think"\n' + MODELS)
    project.write("triage.prompty", PROMPT)
    project.suite(SUITE)
    return project


async def cheapest(project, limit: int = 5):
    suite = load_suite(project.root / "triage.evals.yaml")
    options = RunOptions()
    baseline = await run_suite(suite, options)
    return await find_cheapest(suite, baseline, options, limit=limit)


def program(project, good: set[tuple[str, str]]) -> None:
    """Replies as `answers`, each billing the reasoning tokens assumed at the effort sent (so measured = priced)."""
    for effort, tokens in (("low", 1000), ("medium", 3000), ("high", 10000)):
        project.server.add(Rule(match=lambda body, e=effort: body.get("reasoning_effort") == e, reply=answers(good), reasoning_tokens=tokens))


def sent(project) -> list[tuple[str, str | None]]:
    return list(dict.fromkeys((c.body["model"].split("/")[-1], c.body.get("reasoning_effort")) for c in project.server.calls()))


async def test_tries_model_effort_pairs_cheapest_first_and_names_the_effort(triage):
    program(triage, {("acme-think", "high"), ("acme-think", "low"), ("acme-think-mini", "high")})
    found = await cheapest(triage)
    assert found.current == "acme-think" and found.current_effort == "high" and found.current_passed == 2
    assert [(t.model, t.reasoning_effort) for t in found.tried] == [
        ("acme-think-mini", "low"),
        ("acme-think-mini", "medium"),
        ("acme-think", "low"),
    ]
    assert found.tried[0].verdict == "passes 0/2, fewer than acme-think's 2"
    # acme-think-mini at high would pass too, but acme-think at low is cheaper and is tried first.
    assert (found.chosen, found.chosen_effort) == ("acme-think", "low")
    # Each configuration's calls went out at its effort.
    assert sent(triage) == [("acme-think", "high"), ("acme-think-mini", "low"), ("acme-think-mini", "medium"), ("acme-think", "low")]
    # The estimate for each is the cost model's for the file at that effort: the edited file analysed.
    prompt = triage.root / "triage.prompty"
    config = load_config(prompt)
    before = analyze_file(prompt, config)
    text = prompt.read_text()
    after = analyze(parse_document(prompt, apply_edits(text, effort_edits(before.document, "low")), before.document.format), config)
    assert found.tried[2].estimated_cost_per_call == pytest.approx(after.cost_per_call)
    # Measured on both sides (the replies billed the reasoning assumed at each effort): 9,000 reasoning tokens at $10/M.
    assert found.saving_per_call == pytest.approx(9000 * 10 / 1e6)
    assert found.saving_per_call == pytest.approx(before.cost_per_call - after.cost_per_call)
    assert after.reasoning.tokens == 1000 and before.reasoning.tokens == 10000


async def test_stops_at_the_limit_and_says_configurations(triage):
    triage.server.reply(None, answers({("acme-think", "high")}))
    found = await cheapest(triage, limit=2)
    assert [(t.model, t.reasoning_effort) for t in found.tried] == [("acme-think-mini", "low"), ("acme-think-mini", "medium")]
    assert found.chosen is None and found.chosen_effort is None
    assert found.note == "none of the 2 cheaper configuration(s) (model x effort) tried passes as many cases as acme-think"


def test_the_estimate_covers_every_configuration_that_may_run(triage):
    suite = load_suite(triage.root / "triage.evals.yaml")
    trials = trial_suites(suite, RunOptions(), limit=5)
    assert [(t.targets[0].label, t.params.get("reasoning_effort")) for t in trials] == [
        ("acme-think-mini", "low"),
        ("acme-think-mini", "medium"),
        ("acme-think", "low"),
        ("acme-think-mini", "high"),
        ("acme-think", "medium"),
    ]


def test_cli_names_the_effort_and_results_record_it(triage, cli):
    program(triage, {("acme-think", "high"), ("acme-think", "low")})
    result = cli("eval", "triage.evals.yaml", "--cheapest", cwd=triage.root)
    assert result.code == 0, result.out + result.err
    assert "cheapest passing model for triage.evals.yaml: acme-think at low effort (2/2 like acme-think), saving $" in result.out
    # The trials' pass rates per effort are evidence for the editor's effort actions.
    rates = effort_pass_rates(triage.root, triage.root / "triage.prompty", "acme-think")
    assert rates == {"high": (2, 2), "low": (2, 2)}
    assert effort_pass_rates(triage.root, triage.root / "triage.prompty", "acme-think-mini") == {"low": (0, 2), "medium": (0, 2)}
