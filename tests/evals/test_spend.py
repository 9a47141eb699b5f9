"""The estimate before an eval run (calls, tokens, dollars; cached responses left out) against what the run
really costs on the fake server, and --max-spend / evals.max_spend refusing a run before any call."""

from __future__ import annotations

import os
import re

import pytest
import tiktoken
from conftest import project_config, run
from fake_server import Rule, last_user_text

from promptwise.evals import reports
from promptwise.evals.runner import RunOptions, prepare, run_prepared
from promptwise.evals.spend import RunEstimate, about, estimate_run
from promptwise.evals.suite import load_suite

OUTPUT = 12  # the file's expected output, and what the fake model answers with unless told otherwise

PROMPT = """\
---
name: Ticket triage
model:
  id: fake-gpt
promptwise:
  expected_output_tokens: 12
---
system:
You triage support tickets for Northwind. Reply with a category line, then a short reply.

user:
Ticket: {{ticket}}
"""

SUITE = """\
models: [fake-gpt]
concurrency: 1
cases:
  - vars: {ticket: The desk leg arrived dented and scratched}
    assert: [{type: contains, value: TRIAGE}]
  - vars: {ticket: My order is two weeks late}
    assert: [{type: contains, value: TRIAGE}]
  - vars: {ticket: I was charged twice for one chair, please refund one}
    assert: [{type: contains, value: TRIAGE}]
"""

REASONING_PROMPT = PROMPT.replace("id: fake-gpt", "id: fake-reasoner\n  parameters:\n    reasoning_effort: low")

# The tokenizer is declared, so counts are exact and the estimate can be compared call for call.
MODELS = """
[models."fake-reasoner"]
provider = "openai"
input_cost_per_million = 1.0
output_cost_per_million = 4.0
context_window = 100000
supports = ["reasoning"]
tokenizer = "o200k_base"

[reasoning]
low = 300
"""



def _o200k():
    """tiktoken itself, loaded from litellm's files: the independent reference for exact counts."""
    from promptwise.tokens.encodings import tokenizers_dir

    os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(tokenizers_dir()))
    return tiktoken.get_encoding("o200k_base")


_O200K = _o200k()


def config(evals: str = "") -> str:
    text = project_config(MODELS).replace('[models."fake-gpt"]\n', '[models."fake-gpt"]\ntokenizer = "o200k_base"\n')
    return text.replace("[evals]\n", "[evals]\n" + evals)


def openai_count(messages) -> int:
    """OpenAI's published rule for chat input, applied to the request as the server received it."""
    return sum(3 + len(_O200K.encode(m["role"])) + len(_O200K.encode(m["content"])) for m in messages) + 3


class CountingRule(Rule):
    """Answers every call with the usage a provider reports: the request's real input tokens, `output`
    visible output tokens (and the rule's reasoning tokens). The suite runs one call at a time."""

    def __init__(self, output: int = OUTPUT, **kw) -> None:
        super().__init__(reply=lambda body: "TRIAGE: " + last_user_text(body)[:20], **kw)
        self.output = output

    def applies(self, body, text, endpoint) -> bool:
        found = super().applies(body, text, endpoint)
        if found and endpoint == "chat":
            self.usage = {"prompt_tokens": openai_count(body["messages"]), "completion_tokens": self.output}
        return found


@pytest.fixture
def triage(project):
    (project.root / "promptwise.toml").write_text(config(), encoding="utf-8")
    project.write("triage.prompty", PROMPT)
    project.suite(SUITE)
    return project


def estimate(path, options: RunOptions | None = None) -> RunEstimate:
    return estimate_run([prepare(load_suite(path), options or RunOptions())])


def really(path, options: RunOptions | None = None):
    options = options or RunOptions()
    return run(run_prepared([prepare(load_suite(path), options)], options))


def test_the_estimate_is_the_cost_of_the_run_when_the_output_is_as_expected(triage):
    triage.server.add(CountingRule())
    suite = triage.root / "triage.evals.yaml"
    before = estimate(suite)
    result = really(suite)
    calls = triage.server.calls()
    assert len(calls) == 3 and all(r.status == "passed" for r in result.results)
    assert before.calls == 3 and before.cached == 0
    assert before.input_tokens == sum(openai_count(c.body["messages"]) for c in calls) == sum(r.prompt_tokens for r in result.results)
    assert before.output_tokens == 3 * OUTPUT == sum(r.completion_tokens for r in result.results)
    assert before.cost == pytest.approx(result.spent, rel=1e-9) and result.spent > 0
    assert before.describe() == f"about 3 calls, {before.input_tokens:,} input + 36 output tokens, ~{about(result.spent)}"


def test_the_next_estimate_uses_the_output_the_runs_measured(triage):
    triage.server.add(CountingRule(output=30))
    suite = triage.root / "triage.evals.yaml"
    first = estimate(suite)
    measured = really(suite)
    reports.save_run(measured, triage.root)  # as `promptwise eval` and the editor save a run
    spent = measured.spent
    assert first.output_tokens == 3 * OUTPUT and first.cost < spent  # the model said more than the file expects
    fresh = RunOptions(use_cache=False)
    second = estimate(suite, fresh)
    assert second.output_tokens == 3 * 30 and second.parts[0].output_source == "median over 3 eval calls"
    assert second.cost == pytest.approx(really(suite, fresh).spent, rel=1e-9)


def test_reasoning_is_estimated_at_the_effort_the_calls_are_sent_with(triage):
    triage.write("triage.prompty", REASONING_PROMPT)
    triage.suite(SUITE.replace("[fake-gpt]", "[fake-reasoner]"))
    triage.server.add(CountingRule(reasoning_tokens=300))
    suite = triage.root / "triage.evals.yaml"
    before = estimate(suite)
    assert before.reasoning_tokens == 900 and before.parts[0].reasoning_source == "[reasoning] low in promptwise.toml"
    result = really(suite)
    assert [r.reasoning_effort for r in result.results] == ["low"] * 3 and sum(r.reasoning_tokens for r in result.results) == 900
    assert before.cost == pytest.approx(result.spent, rel=1e-9)
    assert "(900 of them reasoning)" in before.describe()


def test_cached_responses_are_left_out(triage, cli):
    triage.server.add(CountingRule())
    first = cli("eval", "--repeat", "2", cwd=triage.root)
    assert first.code == 0, first.err
    line = re.search(r"estimate: (.*)", first.err).group(1)
    assert line.startswith("about 6 calls, ") and "cached" not in line
    # One more case: only its calls are new.
    triage.suite(SUITE + "  - vars: {ticket: Where is my parcel}\n    assert: [{type: contains, value: TRIAGE}]\n")
    again = cli("eval", "--repeat", "2", cwd=triage.root)
    assert re.search(r"estimate: about 2 calls, \d+ input \+ 24 output tokens, ~\$[0-9.]+; 6 cached responses not re-run", again.err), again.err
    assert len(triage.server.calls()) == 8
    cached = cli("eval", "--repeat", "2", cwd=triage.root)
    assert "estimate: no model calls: 8 cached responses not re-run" in cached.err


def test_max_spend_refuses_the_run_with_the_estimate_and_makes_no_call(triage, cli):
    triage.server.add(CountingRule())
    expected = estimate(triage.root / "triage.evals.yaml")
    refused = cli("eval", "--max-spend", "0.00001", cwd=triage.root)
    assert refused.code == 2
    assert (
        f"promptwise eval: refused: the run would cost ~{about(expected.cost)}, above --max-spend $0.000010 ({expected.describe()}); no call was made"
        in refused.err
    )
    assert triage.server.calls() == [] and not (triage.root / ".promptwise" / "runs").exists()
    allowed = cli("eval", "--max-spend", "1", cwd=triage.root)
    assert allowed.code == 0 and len(triage.server.calls()) == 3


def test_the_configs_max_spend_refuses_too_and_the_flag_overrides_it(triage, cli):
    triage.server.add(CountingRule())
    (triage.root / "promptwise.toml").write_text(config("max_spend = 0\n"), encoding="utf-8")
    refused = cli("eval", cwd=triage.root)
    assert refused.code == 2 and "above evals.max_spend in promptwise.toml $0 (about 3 calls" in refused.err
    assert triage.server.calls() == []
    assert cli("eval", "--max-spend", "0.5", cwd=triage.root).code == 0
    # Everything cached: nothing to spend, so nothing to refuse.
    cached = cli("eval", cwd=triage.root)
    assert cached.code == 0 and "estimate: no model calls: 3 cached responses not re-run" in cached.err


def test_an_unpriced_model_cannot_pass_a_spending_limit(triage, cli):
    triage.server.add(CountingRule())
    refused = cli("eval", "--model", "my-private-model", "--max-spend", "5", cwd=triage.root)
    assert refused.code == 2 and triage.server.calls() == []
    assert "cost unknown: my-private-model has no price" in refused.err
    assert "--max-spend $5.00: the run calls my-private-model, which has no price, so its cost cannot be checked" in refused.err


def test_bad_max_spend_values_are_refused(triage, cli):
    for value in ("-1", "nan", "inf"):
        bad = cli("eval", "--max-spend", value, cwd=triage.root)
        assert bad.code == 2 and "--max-spend must be a number of dollars, 0 or more" in bad.err


CHEAP_PROMPT = """---
model:
  id: gpt-4o
  parameters:
    max_tokens: 100
---
system:
Classify the ticket as damage, billing or shipping. Reply with the category only.

user:
{{ticket}}
"""

CHEAP_SUITE = """
cases:
  - vars: {ticket: The leg arrived dented}
    assert: [{type: equals, value: damage}]
  - vars: {ticket: I was charged twice}
    assert: [{type: equals, value: billing}]
"""


def test_cheapest_is_estimated_over_every_model_it_may_try(project, cli):
    config = project.root / "promptwise.toml"
    config.write_text('allowed_providers = ["openai"]\n' + config.read_text())
    project.write("classify.prompty", CHEAP_PROMPT)
    project.suite(CHEAP_SUITE, name="classify.evals.yaml")
    project.server.reply(None, lambda body: "damage" if "dented" in last_user_text(body) else "billing")
    plain = cli("eval", "classify.evals.yaml", "--max-spend", "0", cwd=project.root)
    assert "estimate: about 2 calls" in plain.err and plain.code == 2
    result = cli("eval", "classify.evals.yaml", "--cheapest", "--max-candidates", "3", cwd=project.root)
    assert result.code == 0, result.err
    line = re.search(r"estimate: (.*)", result.err).group(1)
    assert line.startswith("about 8 calls, ") and "(an upper bound: the run, then all 3 other configurations the search may try)" in line
    # The search stopped at the first cheaper model that passes: fewer calls than the bound.
    assert len(project.server.calls()) == 4
