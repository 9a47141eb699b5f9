"""Measured usage from evals: cached, cache-write and reasoning tokens per call from the usage details providers
return (through litellm), priced part by part with the cost model at the run's service tier, and kept per
prompt x model x effort in the run store for the editor (`promptwise.evals.usage.measured_usage`)."""

from __future__ import annotations

import json
import os
import re

import pytest
from fake_server import Rule

from promptwise.evals import RunOptions, run_suite
from promptwise.evals import usage as measured
from promptwise.evals.billing import CallTokens, price_call, tokens_of
from promptwise.evals.calls import Completion
from promptwise.evals.reports import markdown, save_run
from promptwise.evals.usage import measured_usage

REASONING_PROMPT = """\
---
name: Ticket triage
model:
  id: gpt-5
  parameters:
    reasoning_effort: high
inputs:
  ticket:
    type: string
---
system:
You triage support tickets for Northwind. Reply with a category line, then a short reply.

user:
Ticket: {{ticket}}
"""

ONE_CASE = """
models: [gpt-5]
cases:
  - name: dented leg
    vars: {ticket: The desk leg arrived dented}
    assert:
      - type: icontains
        value: damage
"""

# gpt-5 in the bundled price map (per token): input 1.25e-06, cached input 1.25e-07, output 1e-05;
# batch: input 6.25e-07, cached 6.25e-08, output 5e-06. Reasoning has no price of its own: billed as output.
GPT5 = {"input": 1.25e-6, "cached": 1.25e-7, "output": 1e-5}
GPT5_BATCH = {"input": 6.25e-7, "cached": 6.25e-8, "output": 5e-6}


def reasoning_call(**kw) -> Rule:
    """3,000 prompt tokens (2,048 from the cache), 100 visible output tokens and 900 reasoning tokens."""
    fields = {"reply": "TRIAGE: damage", "usage": {"prompt_tokens": 3000, "completion_tokens": 100}, "cached_tokens": 2048, "reasoning_tokens": 900}
    fields.update(kw)
    return Rule(**fields)


def hand_priced(price: dict[str, float]) -> float:
    return (3000 - 2048) * price["input"] + 2048 * price["cached"] + (100 + 900) * price["output"]


@pytest.fixture
def reasoning(project):
    project.write("triage.prompty", REASONING_PROMPT)
    return project


async def test_cached_and_reasoning_tokens_are_recorded_per_call_and_summed(reasoning):
    reasoning.server.add(reasoning_call())
    result = await run_suite(reasoning.suite(ONE_CASE))
    r = result.results[0]
    assert r.status == "passed", r.error
    # OpenAI's completion_tokens include the reasoning: 100 visible + 900 reasoning.
    assert (r.prompt_tokens, r.cached_tokens, r.cache_write_tokens, r.completion_tokens, r.reasoning_tokens) == (3000, 2048, None, 1000, 900)
    assert r.reasoning_effort == "high"
    # $0.00119 uncached + $0.000256 cached + $0.001 output + $0.009 reasoning
    assert r.cost == pytest.approx(0.011446)
    assert r.cost == pytest.approx(hand_priced(GPT5))
    parts = {p.part: p for p in r.cost_parts}
    assert {k: (p.tokens, p.price_field) for k, p in parts.items()} == {
        "input": (952, "input_cost_per_token"),
        "cache_read": (2048, "cache_read_input_token_cost"),
        "output": (100, "output_cost_per_token"),
        "reasoning": (900, "output_cost_per_token"),  # the map lists no reasoning price: billed as output
    }
    summary = result.models[0]
    assert (summary.prompt_tokens, summary.cached_tokens, summary.completion_tokens, summary.reasoning_tokens) == (3000, 2048, 1000, 900)
    assert summary.cost == pytest.approx(0.011446)
    assert result.suites[0].service_tier == "standard"
    # The list price of the same tokens, as before: the cache and the reasoning change the figure.
    assert 3000 * GPT5["input"] + 1000 * GPT5["output"] != pytest.approx(r.cost)


async def test_the_request_carries_the_effort_and_the_report_shows_the_parts(reasoning):
    reasoning.server.add(reasoning_call())
    result = await run_suite(reasoning.suite(ONE_CASE))
    assert reasoning.server.calls()[0].body.get("reasoning_effort") == "high"
    text = markdown(result)
    assert "| gpt-5 | 1 | 0 | 0 | 3,000 | 2,048 | 1,000 | 900 |" in text
    assert "cached input at the cache read price" in text
    assert "## Measured usage" in text and "| triage.prompty | gpt-5 | high | 1 | 100 / 100 | 900 / 900 | 2,048 / 2,048 |" in text


async def test_anthropic_cache_reads_and_writes_are_priced_at_their_own_rates(project):
    project.write(
        "triage.prompty",
        REASONING_PROMPT.replace("id: gpt-5", "id: claude-sonnet-4-5").replace("  parameters:\n    reasoning_effort: high\n", ""),
    )
    # As litellm reports an Anthropic call: 500 uncached + 2,000 read + 1,000 written = 3,500 prompt tokens.
    project.server.add(
        Rule(
            reply="TRIAGE: damage",
            usage={"prompt_tokens": 500, "completion_tokens": 50},
            cached_tokens=2000,
            cache_write_tokens=1000,
            usage_style="anthropic",
        )
    )
    result = await run_suite(project.suite(ONE_CASE.replace("gpt-5", "claude-sonnet-4-5")))
    r = result.results[0]
    assert r.status == "passed", r.error
    assert (r.prompt_tokens, r.cached_tokens, r.cache_write_tokens, r.reasoning_tokens) == (3500, 2000, 1000, 0)
    assert r.reasoning_effort == "none"  # extended thinking is off unless the request enables it, as the analysis says
    # claude-sonnet-4-5: input 3e-06, cache read 3e-07, cache write 3.75e-06 (1.25x), output 1.5e-05
    assert r.cost == pytest.approx(500 * 3e-6 + 2000 * 3e-7 + 1000 * 3.75e-6 + 50 * 1.5e-5)
    assert {p.part: p.price_field for p in r.cost_parts}["cache_write"] == "cache_creation_input_token_cost"


def test_usage_is_read_from_litellm_usage_objects():
    from promptwise.evals.calls import load_litellm

    litellm = load_litellm()
    openai_style = litellm.Usage(
        prompt_tokens=3000,
        completion_tokens=1000,
        prompt_tokens_details={"cached_tokens": 2048},
        completion_tokens_details={"reasoning_tokens": 900},
    )
    assert tokens_of(openai_style) == CallTokens(3000, 1000, 2048, None, 900)
    anthropic_style = litellm.Usage(prompt_tokens=3500, completion_tokens=50, cache_read_input_tokens=2000, cache_creation_input_tokens=1000)
    found = tokens_of(anthropic_style)
    assert (found.cached_tokens, found.cache_write_tokens, found.output_tokens) == (2000, 1000, 50)
    assert tokens_of(None) == CallTokens()
    assert tokens_of({"prompt_tokens": True, "completion_tokens": -3}) == CallTokens()  # not counts


def test_a_cache_entry_written_before_the_details_were_recorded_still_loads():
    reply = Completion.from_cache({"text": "hi", "prompt_tokens": 10, "completion_tokens": 2, "cost": 0.1, "latency_ms": 5})
    assert (reply.cached_tokens, reply.reasoning_tokens) == (None, None)
    assert reply.tokens.output_tokens == 2
    again = Completion.from_cache(Completion("hi", None, 10, 7, None, 1.0, cached_tokens=4, reasoning_tokens=5).to_cache())
    assert (again.cached_tokens, again.reasoning_tokens, again.tokens.output_tokens) == (4, 5, 2)


async def test_batch_tier_prices_with_the_batches_fields(reasoning):
    reasoning.server.add(reasoning_call())
    result = await run_suite(reasoning.suite(ONE_CASE), RunOptions(service_tier="batch"))
    r = result.results[0]
    assert r.cost == pytest.approx(hand_priced(GPT5_BATCH))
    assert {p.price_field for p in r.cost_parts} == {"input_cost_per_token_batches", "cache_read_input_token_cost_batches", "output_cost_per_token_batches"}
    assert result.suites[0].service_tier == "batch"
    assert "at the batch tier's prices" in markdown(result)


def test_the_cli_flag_prices_the_run_at_batch(reasoning, cli):
    reasoning.server.add(reasoning_call())
    reasoning.suite(ONE_CASE)
    out = reasoning.root / "out.json"
    result = cli("eval", "--service-tier", "batch", "--json", str(out), cwd=reasoning.root)
    assert result.code == 0, result.err
    saved = json.loads(out.read_text())
    assert saved["results"][0]["cost"] == pytest.approx(hand_priced(GPT5_BATCH))
    assert saved["suites"][0]["service_tier"] == "batch"
    assert "costs at the batch tier's prices" in result.out
    assert len(reasoning.server.calls()) == 1  # one ordinary call: the tier prices it, it does not send it


def test_the_tier_falls_back_to_the_config(reasoning, cli):
    from conftest import project_config

    reasoning.write("promptwise.toml", project_config().replace('default_model = "fake-gpt"\n', 'default_model = "fake-gpt"\nservice_tier = "flex"\n'))
    reasoning.server.add(reasoning_call())
    reasoning.suite(ONE_CASE)
    out = reasoning.root / "out.json"
    assert cli("eval", "--json", str(out), cwd=reasoning.root).code == 0
    saved = json.loads(out.read_text())
    assert saved["suites"][0]["service_tier"] == "flex"
    assert {p["price_field"] for p in saved["results"][0]["cost_parts"]} == {
        "input_cost_per_token_flex", "cache_read_input_token_cost_flex", "output_cost_per_token_flex",
    }  # fmt: skip


def test_unpriced_models_have_no_parts():
    assert price_call(None, CallTokens(10, 5)) is None


# ---- the run store ----

FOUR_REPEATS = ONE_CASE + "repeat: 4\n"


def program_reasoning(server, amounts):
    for n in amounts:
        server.add(reasoning_call(reasoning_tokens=n, times=1))


async def saved_run(project, suite_text=FOUR_REPEATS, **options):
    result = await run_suite(project.suite(suite_text), RunOptions(**options))
    save_run(result, project.root)
    return result


async def test_measured_usage_gives_medians_and_p95_for_the_same_text(reasoning):
    program_reasoning(reasoning.server, [100, 200, 300, 1000])
    result = await saved_run(reasoning)
    assert [g.calls for g in result.usage] == [4]
    prompt = reasoning.root / "triage.prompty"
    text = prompt.read_text()
    found = measured_usage(reasoning.root, prompt, "gpt-5", "high", text)
    assert found is not None and found.calls == 4 and found.current
    assert (found.reasoning_tokens.median, found.reasoning_tokens.p95) == (250.0, 1000.0)
    assert (found.output_tokens.median, found.cached_tokens.median, found.prompt_tokens.p95) == (100.0, 2048.0, 3000.0)
    assert found.when == result.started_at
    # However the editor spells the model, and with the editor's line endings.
    assert measured_usage(reasoning.root, prompt, "openai/gpt-5", "HIGH", text.replace("\n", "\r\n")) == found
    assert measured_usage(reasoning.root, prompt, "gpt-4o", "high", text) is None  # another model
    assert measured_usage(reasoning.root, prompt, "gpt-5", "low", text) is None  # another effort
    assert measured_usage(reasoning.root, reasoning.root / "other.prompty", "gpt-5", "high", text) is None


async def test_after_an_edit_the_earlier_text_is_used_and_labelled(reasoning):
    program_reasoning(reasoning.server, [100, 200, 300, 1000])
    await saved_run(reasoning)
    prompt = reasoning.root / "triage.prompty"
    edited = prompt.read_text().replace("a short reply", "a one-line reply")
    found = measured_usage(reasoning.root, prompt, "gpt-5", "high", edited)
    assert found is not None and not found.current and found.calls == 4
    # A run on the edited text takes over, and counts only its own calls.
    prompt.write_text(edited)
    program_reasoning(reasoning.server, [50, 60, 70, 80])
    await saved_run(reasoning, use_cache=False)
    now = measured_usage(reasoning.root, prompt, "gpt-5", "high", edited)
    assert now is not None and now.current and now.calls == 4 and now.reasoning_tokens.p95 == 80.0
    assert measured_usage(reasoning.root, prompt, "gpt-5", "high", "some text no run used").reasoning_tokens.p95 == 80.0  # the latest


async def test_runs_on_one_text_are_merged_and_cached_replies_not_counted_twice(reasoning):
    program_reasoning(reasoning.server, [100, 200, 300, 1000])
    first = await saved_run(reasoning)
    again = await saved_run(reasoning)  # every reply from the response cache
    assert again.cached == 4 and again.usage == []
    prompt = reasoning.root / "triage.prompty"
    assert measured_usage(reasoning.root, prompt, "gpt-5", "high", prompt.read_text()).calls == 4
    program_reasoning(reasoning.server, [400, 400, 400, 400])
    await saved_run(reasoning, use_cache=False)
    merged = measured_usage(reasoning.root, prompt, "gpt-5", "high", prompt.read_text())
    assert merged.calls == 8 and merged.reasoning_tokens.median == 400.0 and merged.when >= first.started_at


async def test_a_corrupt_store_returns_none_and_spoils_no_other_run(reasoning):
    prompt = reasoning.root / "triage.prompty"
    text = prompt.read_text()
    runs = reasoning.root / ".promptwise" / "runs"
    (runs / "20990101-000000-000000").mkdir(parents=True)
    (runs / "20990101-000000-000000" / "usage.json").write_text("{not json")
    assert measured_usage(reasoning.root, prompt, "gpt-5", "high", text) is None
    (runs / "20990101-000000-000000" / "usage.json").write_text(json.dumps({"v": 1, "groups": [{"prompt": 3}, "x", {"samples": []}]}))
    assert measured_usage(reasoning.root, prompt, "gpt-5", "high", text) is None
    assert measured_usage(reasoning.root / "nowhere", prompt, "gpt-5", "high", text) is None
    program_reasoning(reasoning.server, [100, 200, 300, 1000])
    await saved_run(reasoning)
    assert measured_usage(reasoning.root, prompt, "gpt-5", "high", text).calls == 4


async def test_a_store_the_repository_carries_is_never_a_blocked_endless_or_outside_read(reasoning, tmp_path_factory):
    """A cloned repository may hold its own .promptwise/runs: a usage.json that is a FIFO, a link to
    /dev/zero, a link out of the workspace or too large is skipped, and the real runs still count."""
    import threading

    from promptwise import access

    program_reasoning(reasoning.server, [100, 200, 300, 1000])
    await saved_run(reasoning)
    prompt = reasoning.root / "triage.prompty"
    text = prompt.read_text()
    runs = reasoning.root / ".promptwise" / "runs"
    for name in ("29990101-fifo", "29990101-zero", "29990101-outside", "29990101-huge"):
        (runs / name).mkdir()
    os.mkfifo(runs / "29990101-fifo" / "usage.json")  # a plain open() waits for a writer forever
    os.symlink("/dev/zero", runs / "29990101-zero" / "usage.json")  # a plain read() never ends
    outside = tmp_path_factory.mktemp("outside") / "usage.json"
    outside.write_text((runs / next(p.name for p in runs.iterdir() if not p.name.startswith("2999")) / "usage.json").read_text())
    os.symlink(outside, runs / "29990101-outside" / "usage.json")
    with open(runs / "29990101-huge" / "usage.json", "wb") as handle:
        handle.truncate(65 * 1024 * 1024)  # sparse: over the 16 MiB limit without the disk
    measured._listed.clear()
    access.set_workspace([reasoning.root])
    answers: list = []
    try:
        # On a thread of its own, so that a read that blocks fails this test instead of hanging the suite.
        reader = threading.Thread(target=lambda: answers.append(measured_usage(reasoning.root, prompt, "gpt-5", "high", text)), daemon=True)
        reader.start()
        reader.join(30)
    finally:
        access.set_workspace(None)
    assert not reader.is_alive(), "reading the run store blocked"
    [found] = answers
    assert found is not None and found.calls == 4  # the saved run alone: the copy outside was not read


async def test_the_store_is_read_again_only_when_a_run_changes(reasoning, monkeypatch):
    program_reasoning(reasoning.server, [100, 200, 300, 1000])
    await saved_run(reasoning)
    prompt = reasoning.root / "triage.prompty"
    text = prompt.read_text()
    assert measured_usage(reasoning.root, prompt, "gpt-5", "high", text) is not None
    opened = []
    real = measured._build
    monkeypatch.setattr(measured, "_build", lambda *a: opened.append(a) or real(*a))
    for _ in range(3):
        measured_usage(reasoning.root, prompt, "gpt-5", "high", text)
    assert opened == []
    usage_file = next(reasoning.root.glob(".promptwise/runs/*/usage.json"))
    data = json.loads(usage_file.read_text())
    data["groups"][0]["samples"]["reasoning"] = [7, 7, 7, 7]
    usage_file.write_text(json.dumps(data))
    os.utime(usage_file, ns=(1, 1))  # a rewrite within the file system's timestamp tick is still seen
    # Another process's run is seen once the folder is listed again, after a short pause (not per keystroke).
    assert measured_usage(reasoning.root, prompt, "gpt-5", "high", text).reasoning_tokens.median != 7.0
    monkeypatch.setattr(measured, "RELIST_SECONDS", 0.0)
    assert measured_usage(reasoning.root, prompt, "gpt-5", "high", text).reasoning_tokens.median == 7.0
    assert len(opened) == 1


async def test_after_a_run_the_editor_prices_the_prompt_with_measured_figures(reasoning):
    from promptwise.analysis import analyze_file
    from promptwise.config import load_config
    from promptwise.lsp.hover import model_card

    prompt = reasoning.root / "triage.prompty"
    before = analyze_file(prompt)
    assert before.reasoning.kind != "measured"
    program_reasoning(reasoning.server, [100, 200, 300, 1000])
    await saved_run(reasoning)
    after = analyze_file(prompt)
    assert (after.reasoning.kind, after.reasoning.tokens, after.reasoning.p95) == ("measured", 250, 1000)
    assert re.search(r"\b4 (eval )?calls", after.reasoning.source)
    assert "measured" in model_card(after, load_config(prompt))
