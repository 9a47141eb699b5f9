"""The runner against the fake server over a real socket: rendering, usage and cost, cache, retries, errors,
model-graded assertions, concurrency, progress and cancellation."""

from __future__ import annotations

import asyncio
import json

import pytest
from fake_server import Rule, last_user_text

from promptwise.evals import CancelToken, RunOptions, load_suite, run_suite
from promptwise.evals.runner import prepare

TWO_CASES = """
models: [fake-gpt]
cases:
  - name: dented leg
    vars: {customer: Ana, ticket: The desk leg arrived dented}
    assert:
      - type: icontains
        value: damage
  - name: late order
    vars: {ticket: My order is two weeks late}
    assert:
      - type: contains
        value: shipping
"""


def reply_by_ticket(body):
    text = last_user_text(body)
    if "dented" in text:
        return "TRIAGE: damage\nREPLY: a replacement leg ships today"
    return "TRIAGE: shipping\nREPLY: your order is on its way"


async def test_cases_are_rendered_called_and_priced(project):
    project.server.reply(None, reply_by_ticket)
    path = project.suite(TWO_CASES + "params:\n  temperature: 0\n  seed: 3\n")
    result = await run_suite(path)
    assert [(r.case, r.status) for r in result.results] == [("dented leg", "passed"), ("late order", "passed")]
    calls = project.server.calls()
    assert len(calls) == 2
    bodies = sorted((c.body for c in calls), key=lambda b: "dented" in last_user_text(b))
    assert bodies[0]["messages"] == [
        {"role": "system", "content": "You triage support tickets for Northwind. Reply with a category line, then a short reply."},
        {"role": "user", "content": "Customer: there\nTicket: My order is two weeks late"},  # the declared default fills in
    ]
    assert bodies[1]["messages"][1]["content"] == "Customer: Ana\nTicket: The desk leg arrived dented"
    # The prompt's own parameters are sent, the suite's override them.
    assert bodies[0]["model"] == "fake-gpt" and bodies[0]["max_tokens"] == 200
    assert bodies[0]["temperature"] == 0 and bodies[0]["seed"] == 3
    first = result.results[0]
    # Usage as the server billed it; cost at the config's price ($1 / $2 per million).
    assert first.prompt_tokens is not None and first.completion_tokens == 9
    assert first.cost == pytest.approx(first.prompt_tokens * 1e-6 + first.completion_tokens * 2e-6)
    assert first.latency_ms > 0 and first.attempts == 1 and not first.cached
    assert first.output == "TRIAGE: damage\nREPLY: a replacement leg ships today"
    assert first.assertions[0].reason == "output contains 'damage' (ignoring case)"
    summary = result.models[0]
    assert (summary.model, summary.passed, summary.failed, summary.errored) == ("fake-gpt", 2, 0, 0)
    assert result.spent == pytest.approx(sum(r.cost for r in result.results))
    assert result.exit_code == 0


async def test_failures_say_why_and_exit_1(project):
    project.server.reply(None, "TRIAGE: other")
    result = await run_suite(project.suite(TWO_CASES))
    assert [r.status for r in result.results] == ["failed", "failed"]
    assert result.results[0].failures[0].reason == "output does not contain 'damage' (ignoring case)"
    assert result.exit_code == 1


async def test_a_rerun_comes_from_the_cache_and_costs_nothing(project):
    project.server.reply(None, reply_by_ticket)
    path = project.suite(TWO_CASES)
    first = await run_suite(path)
    assert len(project.server.calls()) == 2 and first.cached == 0
    again = await run_suite(path)
    assert len(project.server.calls()) == 2  # no new requests
    assert again.cached == 2 and again.spent == 0
    assert [r.output for r in again.results] == [r.output for r in first.results]
    assert [r.cost for r in again.results] == [r.cost for r in first.results]  # what the call cost, for the cost assertion
    assert all(r.cached and r.attempts == 0 for r in again.results)
    cache_files = list((project.root / ".promptwise" / "cache").rglob("*.json"))
    assert len(cache_files) == 2
    bypass = await run_suite(path, RunOptions(use_cache=False))
    assert len(project.server.calls()) == 4 and bypass.cached == 0
    # A change to a case's vars is a different request: a miss.
    path.write_text(path.read_text().replace("two weeks late", "three weeks late"))
    await run_suite(path)
    assert len(project.server.calls()) == 5


async def test_repeats_are_separate_calls_cached_separately(project):
    project.server.reply(None, reply_by_ticket)
    path = project.suite(TWO_CASES + "repeat: 3\n")
    result = await run_suite(path)
    assert len(result.results) == 6 and len(project.server.calls()) == 6
    assert [(r.case, r.repeat) for r in result.results[:3]] == [("dented leg", 0), ("dented leg", 1), ("dented leg", 2)]
    assert result.results[1].label == "dented leg (repeat 2)"
    again = await run_suite(path, RunOptions(repeat=4))
    assert again.cached == 6 and len(project.server.calls()) == 8


async def test_models_from_options_replace_the_suites(project):
    project.server.reply(None, reply_by_ticket)
    result = await run_suite(project.suite(TWO_CASES), RunOptions(models=["fake-gpt", "fake-judge"]))
    assert [(r.case, r.model) for r in result.results] == [
        ("dented leg", "fake-gpt"),
        ("dented leg", "fake-judge"),
        ("late order", "fake-gpt"),
        ("late order", "fake-judge"),
    ]
    assert sorted(c.body["model"] for c in project.server.calls()) == ["fake-gpt", "fake-gpt", "fake-judge", "fake-judge"]


# ---- provider errors ----

ONE_CASE = """
models: [fake-gpt]
cases:
  - name: only
    vars: {ticket: flaky please}
    assert: [{type: contains, value: ok}]
"""


async def test_429_is_retried_after_retry_after(project):
    project.server.fail("flaky", status=429, retry_after=1, times=1)
    project.server.reply(None, "ok")
    result = await run_suite(project.suite(ONE_CASE))
    (r,) = result.results
    assert r.status == "passed" and r.attempts == 2
    first, second = project.server.calls()
    assert second.at - first.at >= 0.9  # waited for Retry-After, not the 0.01 s backoff


async def test_5xx_is_retried_then_the_case_errors_and_the_run_goes_on(project):
    project.server.fail("flaky", status=500)
    project.server.reply(None, "ok")
    path = project.suite(ONE_CASE + "  - name: healthy\n    vars: {ticket: fine}\n    assert: [{type: contains, value: ok}]\n")
    result = await run_suite(path)
    errored, healthy = result.results
    assert errored.status == "errored" and healthy.status == "passed"
    assert errored.error == "InternalServerError (HTTP 500): fake server error 500 (gave up after 3 attempts)"
    assert errored.attempts == 3 and errored.output is None and errored.assertions == []
    assert len([c for c in project.server.calls() if "flaky" in last_user_text(c.body)]) == 3  # 1 + retries = 2
    assert result.exit_code == 2
    assert result.models[0].errored == 1 and result.models[0].passed == 1


async def test_a_500_that_clears_passes(project):
    project.server.fail("flaky", status=503, times=1)
    project.server.reply(None, "ok")
    (r,) = (await run_suite(project.suite(ONE_CASE))).results
    assert r.status == "passed" and r.attempts == 2


async def test_401_is_not_retried(project):
    project.server.api_key = "sk-right"
    (r,) = (await run_suite(project.suite(ONE_CASE))).results
    assert r.status == "errored"
    assert r.error == "AuthenticationError (HTTP 401): Incorrect API key provided."
    assert len(project.server.calls()) == 1


async def test_a_call_that_times_out_errors(project):
    project.server.add(Rule(match="flaky", latency=3.0))
    (r,) = (await run_suite(project.suite(ONE_CASE + "timeout: 0.5\n"))).results
    assert r.status == "errored" and r.error == "timed out after 0.5 s"
    assert len(project.server.calls()) == 1


async def test_malformed_json_errors(project):
    project.server.add(Rule(match="flaky", malformed=True))
    (r,) = (await run_suite(project.suite(ONE_CASE))).results
    assert r.status == "errored"
    assert r.error.startswith("InternalServerError (HTTP 500): Expecting value")
    assert r.error.endswith("(gave up after 3 attempts)")


async def test_a_missing_api_key_variable_errors_without_a_call(project, monkeypatch):
    monkeypatch.delenv("PROMPTWISE_TEST_MISSING_KEY", raising=False)
    project.user.route(project.server.url, key_env="PROMPTWISE_TEST_MISSING_KEY")
    (r,) = (await run_suite(project.suite(ONE_CASE))).results
    assert r.status == "errored"
    assert r.error == "environment variable PROMPTWISE_TEST_MISSING_KEY (api_key_env for fake-gpt) is not set"
    assert project.server.calls() == []


async def test_errors_are_not_cached(project):
    project.server.fail("flaky", status=500, times=3)
    project.server.reply(None, "ok")
    path = project.suite(ONE_CASE)
    assert (await run_suite(path)).results[0].status == "errored"
    again = (await run_suite(path)).results[0]
    assert again.status == "passed" and not again.cached


# ---- model-graded assertions ----

GRADED = """
models: [fake-gpt]
judge_model: fake-judge
embedding_model: fake-embed
cases:
  - name: polite
    vars: {ticket: please be polite}
    assert:
      - type: llm-rubric
        value: The reply is polite.
  - name: rude
    vars: {ticket: be rude}
    assert:
      - type: llm-rubric
        value: The reply is polite.
"""


def judge(body):
    output = body["messages"][1]["content"].split("<output>", 1)[1]
    polite = "thank you" in output
    return json.dumps({"pass": polite, "reason": "says thank you" if polite else "no courtesy at all"})


async def test_llm_rubric_is_graded_by_the_judge_model(project):
    project.server.reply(lambda b: b["model"] == "fake-judge", judge)
    project.server.reply("polite", "thank you for writing")
    project.server.reply(None, "go away")
    result = await run_suite(project.suite(GRADED))
    polite, rude = result.results
    assert polite.status == "passed" and polite.assertions[0].reason == "judge fake-judge: says thank you"
    assert rude.status == "failed" and rude.assertions[0].reason == "judge fake-judge: no courtesy at all"
    judged = [c.body for c in project.server.calls() if c.body["model"] == "fake-judge"]
    assert len(judged) == 2
    assert judged[0]["temperature"] == 0 and judged[0]["response_format"] == {"type": "json_object"}
    assert "The reply is polite." in judged[0]["messages"][1]["content"]
    assert polite.grading_cost > 0
    # Judge replies are cached too.
    again = await run_suite(project.suite(GRADED))
    assert [r.status for r in again.results] == ["passed", "failed"] and len(project.server.calls()) == 4


async def test_a_judge_that_fails_errors_the_case(project):
    project.server.reply(lambda b: b["model"] == "fake-judge" and "thank" in str(b), "I think it is fine")
    project.server.fail(lambda b: b["model"] == "fake-judge", status=500)
    project.server.reply("polite", "thank you for writing")
    project.server.reply(None, "go away")
    polite, rude = (await run_suite(project.suite(GRADED))).results
    assert polite.status == "errored"
    assert polite.error == "grading failed: the judge did not reply with JSON {pass, reason}: 'I think it is fine'"
    assert polite.output == "thank you for writing"  # the model's own call worked
    assert rude.status == "errored"
    assert rude.error == "grading failed: judge fake-judge: InternalServerError (HTTP 500): fake server error 500 (gave up after 3 attempts)"


SIMILAR = """
models: [fake-gpt]
embedding_model: fake-embed
defaults:
  assert:
    - type: similar
      value: a replacement leg ships today
      threshold: 0.8
cases:
  - name: close
    vars: {ticket: close}
  - name: far
    vars: {ticket: far}
  - name: far but negated
    vars: {ticket: far again}
    assert:
      - type: not-similar
        value: a replacement leg ships today
        threshold: 0.8
"""


async def test_similar_uses_embeddings(project):
    project.server.reply("close", "a replacement leg ships today")
    project.server.reply(None, "completely unrelated words about invoices")
    result = await run_suite(project.suite(SIMILAR))
    close, far, negated = result.results
    assert close.status == "passed" and close.assertions[0].reason == "cosine similarity 1.000 >= 0.8 with the reference"
    assert far.status == "failed" and far.assertions[0].reason.startswith("cosine similarity ")
    assert far.assertions[0].score < 0.8
    assert negated.status == "failed"  # defaults.similar fails, the case's not-similar passes
    assert [a.passed for a in negated.assertions] == [False, True]
    embedded = [t for c in project.server.calls("embeddings") for t in c.body["input"]]
    assert embedded.count("a replacement leg ships today") == 1  # the reference is embedded once


async def test_embedding_errors_error_the_case(project):
    project.server.fail(None, status=500, endpoint="embeddings")
    project.server.reply(None, "words")
    result = await run_suite(project.suite(SIMILAR))
    assert {r.status for r in result.results} == {"errored"}
    # Cases share an embedding request: the one whose call failed says why, the others that it failed.
    errors = [r.error for r in result.results]
    assert all(e.startswith("grading failed: embedding fake-embed: ") for e in errors)
    assert any(e.startswith("grading failed: embedding fake-embed: InternalServerError (HTTP 500)") for e in errors)


# ---- tools, formats, warnings ----


async def test_tools_are_sent_and_tool_calls_are_the_output(project):
    project.write(
        "lookup.prompty",
        """---
model:
  id: fake-gpt
tools:
  - name: lookup_order
    description: Fetch an order.
    parameters:
      type: object
      properties:
        order_id: {type: string}
      required: [order_id]
---
user:
Where is {{order}}?
""",
    )
    call = {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order_id": "NW-1"}'}}
    project.server.reply(None, None, tool_calls=[call])
    path = project.suite(
        "cases:\n  - vars: {order: NW-1}\n    assert:\n      - type: is-json\n      - type: contains\n        value: lookup_order\n",
        name="lookup.evals.yaml",
    )
    (r,) = (await run_suite(path)).results
    assert r.status == "passed", r.assertions
    assert r.tool_calls == [{"name": "lookup_order", "arguments": {"order_id": "NW-1"}}]
    assert json.loads(r.output) == r.tool_calls
    sent = project.server.calls()[0].body
    assert sent["tools"][0]["function"]["name"] == "lookup_order"


async def test_dotprompt_cases_render_through_handlebars(project):
    project.write(
        "review.prompt",
        """---
model: fake-gpt
config:
  temperature: 0.1
  maxOutputTokens: 300
input:
  schema:
    diff: string
    guidelines?: string
  default:
    diff: "(none)"
output:
  format: json
---
{{role "system"}}
You review diffs.
{{role "user"}}
Review this:
{{diff}}
{{#if guidelines}}Guidelines: {{guidelines}}{{/if}}
""",
    )
    project.server.reply(None, '{"verdict": "approve", "comments": []}')
    path = project.suite(
        """
        cases:
          - vars: {diff: "+x = 1", guidelines: Be brief.}
            assert: [{type: is-json}]
          - vars: {}
            assert: [{type: is-json}]
        """,
        name="review.evals.yaml",
    )
    result = await run_suite(path)
    assert [r.status for r in result.results] == ["passed", "passed"]
    bodies = sorted((c.body for c in project.server.calls()), key=lambda b: b["messages"][1]["content"])
    # As Dotprompt sends it: the newline after a role tag is kept; the body (frontmatter present) is trimmed.
    assert bodies[0]["messages"][1]["content"] == "\nReview this:\n(none)\n"
    assert bodies[1]["messages"][1]["content"] == "\nReview this:\n+x = 1\nGuidelines: Be brief."
    assert bodies[0]["response_format"] == {"type": "json_object"}
    assert bodies[0]["temperature"] == 0.1 and bodies[0]["max_tokens"] == 300


async def test_a_missing_variable_is_a_warning_on_the_case(project):
    project.server.reply(None, "ok")
    path = project.suite("cases:\n  - vars: {customer: Ana}\n    assert: [{type: contains, value: ok}]\n")
    (r,) = (await run_suite(path)).results
    assert r.status == "passed"
    assert r.warnings == ["variable 'ticket' has no value in this case: it was sent empty, as the runtime renders it"]
    assert project.server.calls()[0].body["messages"][1]["content"] == "Customer: Ana\nTicket:"


async def test_suites_with_problems_are_reported_not_run(project):
    bad = project.suite("cases:\n  - vars: {}\n")
    result = await run_suite(bad)
    assert result.results == [] and result.exit_code == 2
    assert result.suites[0].problems == [
        "triage.evals.yaml:2:5: case 'case 1' has no assertions: add an 'assert' list (or defaults.assert)"
    ] or result.suites[0].problems[0].endswith("case 'case 1' has no assertions: add an 'assert' list (or defaults.assert)")
    project.write("broken.prompty", "user:\n{% if %}\n")
    broken = project.suite("cases: [{vars: {}, assert: [{type: contains, value: x}]}]\n", name="broken.evals.yaml")
    result = await run_suite(broken)
    assert result.results == [] and "Jinja2" in result.suites[0].problems[0]
    assert project.server.calls() == []


# ---- concurrency, progress, cancellation ----


def many_cases(n: int) -> str:
    lines = ["models: [fake-gpt]", "cases:"]
    for i in range(n):
        lines += [f"  - name: case {i}", f"    vars: {{ticket: ticket {i}}}", "    assert: [{type: contains, value: echo}]"]
    return "\n".join(lines) + "\n"


async def test_concurrency_is_bounded(project):
    project.server.latency = 0.1
    result = await run_suite(project.suite(many_cases(12)), RunOptions(concurrency=3))
    assert len(result.results) == 12 and result.exit_code == 0
    assert project.server.max_in_flight == 3


async def test_progress_is_reported_after_each_case(project):
    events = []
    path = project.suite(many_cases(5))
    await run_suite(path, progress=lambda p: events.append((p.done, p.total, p.passed, p.last is not None)))
    assert events[0] == (0, 5, 0, False)
    assert [e[0] for e in events] == [0, 1, 2, 3, 4, 5]
    assert events[-1] == (5, 5, 5, True)


# litellm creates its provider coroutine in a worker thread; a cancel that lands there leaves it unawaited.
LITELLM_UNAWAITED = "ignore:coroutine 'OpenAIChatCompletion.acompletion' was never awaited:RuntimeWarning"


@pytest.mark.filterwarnings(LITELLM_UNAWAITED)
async def test_a_cancel_token_stops_the_run_and_keeps_what_finished(project):
    project.server.latency = 0.2
    token = CancelToken()

    def progress(p):
        if p.done >= 2:
            token.cancel()

    result = await run_suite(project.suite(many_cases(20)), RunOptions(concurrency=2), progress=progress, cancel=token)
    assert result.cancelled and result.exit_code == 2
    assert 2 <= len(result.results) < 20
    assert len(project.server.calls()) < 20


@pytest.mark.filterwarnings(LITELLM_UNAWAITED)
async def test_cancelling_the_task_cancels_the_run(project):
    project.server.latency = 0.3
    path = project.suite(many_cases(10))
    started = asyncio.Event()
    task = asyncio.ensure_future(run_suite(path, RunOptions(concurrency=2), progress=lambda p: started.set()))
    await started.wait()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(project.server.calls()) <= 4


async def test_loaded_suites_can_be_run_directly(project):
    project.server.reply(None, reply_by_ticket)
    loaded = load_suite(project.suite(TWO_CASES))
    prepared = prepare(loaded, RunOptions())
    assert [t.model for t in prepared.targets] == ["litellm_proxy/fake-gpt"]
    result = await run_suite(loaded)
    assert result.exit_code == 0


async def test_an_internal_error_costs_one_case_not_the_run(project, monkeypatch):
    from promptwise.evals import runner

    real = runner.check

    async def flaky_check(assertion, seen, *rest):
        if "dented" in seen.vars.get("ticket", ""):
            raise KeyError("boom")
        return await real(assertion, seen, *rest)

    monkeypatch.setattr(runner, "check", flaky_check)
    project.server.reply(None, reply_by_ticket)
    result = await run_suite(project.suite(TWO_CASES))
    broken, fine = result.results
    assert broken.status == "errored" and broken.error == "promptwise could not run this case: KeyError: 'boom'"
    assert fine.status == "passed"


def test_a_token_can_be_cancelled_after_its_run(project):
    project.server.reply(None, reply_by_ticket)
    token = CancelToken()
    snapshots = []
    result = asyncio.run(run_suite(project.suite(TWO_CASES), cancel=token, progress=snapshots.append))
    token.cancel()  # the run's loop is closed: nothing left to stop, and no error
    assert not result.cancelled and token.cancelled
    assert [p.done for p in snapshots] == [0, 1, 2]  # each report is a snapshot, not one shared object
