"""Routing ranks cheaper models by the full cost of a call: caching, reasoning, retirements; and says what each figure rests on.

Prices are the bundled price map's (litellm's model_prices_and_context_window.json), written out here so
that a change in the map shows up as a failing hand computation rather than a silently different ranking.
The date is the one tests/conftest.py pins (2026-12-01): gpt-5, gpt-5-mini and gpt-5-nano retire on
2026-12-11, in 10 days.
"""

from __future__ import annotations

import json

import pytest

from promptwise.analysis import Analysis, analyze_file
from promptwise.catalog import Catalog, ModelCard
from promptwise.config import load_config
from promptwise.routing import Suggestions, suggest_models

OPENAI_ONLY = 'allowed_providers = ["openai"]\nexpected_output_tokens = 500\n'

# gpt-5.4 does not reason unless asked (price map default_reasoning_effort "none").
PLAIN = """---
name: Reply
model: gpt-5.4
inputs:
  ticket:
    type: string
---
system:
Answer the customer's question in two sentences.

user:
{{ticket}}
"""

# Per token, from the bundled price map.
GPT_5_4 = (2.5e-06, 1.5e-05)
GPT_5_4_NANO = (2e-07, 1.25e-06)  # default_reasoning_effort "none"
GPT_5_4_MINI = (7.5e-07, 4.5e-06)  # default_reasoning_effort "none"
GPT_6_LUNA = (1e-07, 5e-07, 1e-08)  # input, output, cache read; reasons at the provider's default, medium
GPT_5_NANO = (5e-08, 4e-07)  # retires 2026-12-11
MEDIUM, HIGH = 3000, 10000  # reasoning tokens assumed per call (pricing/reasoning.py ASSUMED_TOKENS)


def suggest(project, name: str, text: str, **kw) -> tuple[Analysis, Suggestions]:
    path = project.write(name, text)
    config = load_config(path)
    analysis = analyze_file(path, config)
    assert isinstance(analysis, Analysis), analysis
    return analysis, suggest_models(analysis, config, **kw)


def by_name(found: Suggestions):
    return {c.card.name: c for c in found.candidates}


def test_the_bundled_prices_these_tests_compute_with():
    catalog = Catalog.bundled()
    for name, prices in {"gpt-5.4": GPT_5_4, "gpt-5.4-nano": GPT_5_4_NANO, "gpt-5.4-mini": GPT_5_4_MINI, "gpt-5-nano": GPT_5_NANO}.items():
        card = catalog.get(name)
        assert (card.input_cost_per_token, card.output_cost_per_token) == prices, name
    luna = catalog.get("gpt-6-luna")
    assert (luna.input_cost_per_token, luna.output_cost_per_token, luna.prices["cache_read_input_token_cost"]) == GPT_6_LUNA
    assert luna.default_reasoning_effort is None and "reasoning" in luna.supports
    assert catalog.get("gpt-5-nano").deprecation_date == "2026-12-11"


def test_a_reasoning_candidate_is_ranked_with_its_reasoning(make_project):
    project = make_project(OPENAI_ONLY)
    analysis, found = suggest(project, "reply.prompty", PLAIN, limit=3)
    p = analysis.prompt_tokens
    assert found.current_cost == pytest.approx(p * GPT_5_4[0] + 500 * GPT_5_4[1])
    assert found.current_basis == "cold, reasoning off"
    # gpt-6-luna has the lowest list prices, but 3,000 reasoning tokens a call put it behind gpt-5.4-nano.
    assert GPT_6_LUNA[0] < GPT_5_4_NANO[0] and GPT_6_LUNA[1] < GPT_5_4_NANO[1]
    assert [c.card.name for c in found.candidates] == ["gpt-5.4-nano", "gpt-6-luna", "gpt-5.4-mini"]
    nano, luna, mini = found.candidates
    assert nano.cost_per_call == pytest.approx(p * GPT_5_4_NANO[0] + 500 * GPT_5_4_NANO[1])
    assert luna.cost_per_call == pytest.approx(p * GPT_6_LUNA[0] + (500 + MEDIUM) * GPT_6_LUNA[1])
    assert mini.cost_per_call == pytest.approx(p * GPT_5_4_MINI[0] + 500 * GPT_5_4_MINI[1])
    assert nano.basis == "cold, reasoning off"
    assert luna.basis == "cold, reasoning 3,000 assumed (medium)"
    assert luna.reasoning_tokens == MEDIUM
    assert (
        "priced with 3,000 reasoning tokens a call, assumed (promptwise's default for medium effort): "
        "run the prompt's evals to measure them"
    ) in luna.caveats
    assert found.requirements == []  # the file asks for no reasoning: a model that does not reason qualifies
    assert "caching and reasoning included" in found.reason
    assert not any("not in this price" in c for s in found.candidates for c in s.caveats)


def test_the_files_effort_prices_the_current_model_and_every_candidate(make_project):
    text = PLAIN.replace("model: gpt-5.4\n", "model:\n  id: gpt-5.4\n  parameters:\n    reasoning_effort: high\n")
    project = make_project(OPENAI_ONLY)
    analysis, found = suggest(project, "reply.prompty", text, limit=3)
    p = analysis.prompt_tokens
    assert found.requirements == ["reasoning"]
    assert found.current_cost == pytest.approx(p * GPT_5_4[0] + (500 + HIGH) * GPT_5_4[1])
    assert found.current_basis == "cold, reasoning 10,000 assumed (high)"
    nano = by_name(found)["gpt-5.4-nano"]
    assert nano.cost_per_call == pytest.approx(p * GPT_5_4_NANO[0] + (500 + HIGH) * GPT_5_4_NANO[1])
    assert nano.basis == "cold, reasoning 10,000 assumed (high)"
    assert all(c.basis.endswith("reasoning 10,000 assumed (high)") for c in found.candidates)


def test_configured_reasoning_replaces_the_assumed_figure(make_project):
    project = make_project(OPENAI_ONLY + "\n[reasoning]\nmedium = 500\n")
    analysis, found = suggest(project, "reply.prompty", PLAIN, limit=3)
    p = analysis.prompt_tokens
    luna = by_name(found)["gpt-6-luna"]
    assert luna.basis == "cold, reasoning 500 configured (medium)"
    assert luna.cost_per_call == pytest.approx(p * GPT_6_LUNA[0] + (500 + 500) * GPT_6_LUNA[1])
    assert found.candidates[0] is luna  # with 500 reasoning tokens it is the cheapest again


def test_measured_reasoning_is_named_with_its_calls(make_project, monkeypatch):
    from promptwise.evals import usage

    def measured(root, prompt, model, effort, text=None):
        if model != "gpt-6-luna":
            return None
        stat = usage.Stat
        return usage.MeasuredUsage(12, stat(400, 600), stat(1200, 2400), stat(0, 0), stat(40, 40), True, "2026-11-30T10:00:00Z")

    monkeypatch.setattr(usage, "measured_usage", measured)
    project = make_project(OPENAI_ONLY)
    analysis, found = suggest(project, "reply.prompty", PLAIN, limit=3)
    luna = by_name(found)["gpt-6-luna"]
    assert luna.basis == "cold, reasoning 1,200 measured (medium, median over 12 eval calls), output 400 measured"
    assert luna.cost_per_call == pytest.approx(analysis.prompt_tokens * GPT_6_LUNA[0] + (400 + 1200) * GPT_6_LUNA[1])
    assert not any(c.startswith("priced with") for c in luna.caveats)  # measured, not assumed


def test_a_cached_prefix_prices_warm_and_says_so(make_project):
    policy = " ".join(f"Rule {i}: cite the order number, stay polite and never promise a refund date." for i in range(120))
    text = PLAIN.replace("Answer the customer's question in two sentences.", policy)
    project = make_project(OPENAI_ONLY)
    analysis, found = suggest(project, "reply.prompty", text, limit=3)
    luna = by_name(found)["gpt-6-luna"]
    est = analysis.estimate
    assert est is not None and est.cached
    cached = est.cached_tokens  # the same o200k count for every candidate here
    assert cached >= 1024 and (cached - 1024) % 128 == 0 and cached <= analysis.prompt_tokens
    assert found.current_basis == f"warm ({cached:,} cached), reasoning off"
    assert luna.basis == f"warm ({cached:,} cached), reasoning 3,000 assumed (medium)"
    p = analysis.prompt_tokens
    assert luna.cost_per_call == pytest.approx((p - cached) * GPT_6_LUNA[0] + cached * GPT_6_LUNA[2] + (500 + MEDIUM) * GPT_6_LUNA[1])


def test_a_model_retiring_in_10_days_is_not_suggested_and_the_exclusion_says_why(make_project):
    project = make_project(OPENAI_ONLY)
    analysis, found = suggest(project, "reply.prompty", PLAIN, limit=10)
    assert "gpt-5-nano" not in by_name(found)
    why = {e.model: e for e in found.excluded}
    assert why["gpt-5-nano"].reason == "retires on 2026-12-11 (in 10 days)"
    # Ruled out though cheaper: priced like any candidate, with its reasoning.
    assert why["gpt-5-nano"].cost_per_call == pytest.approx(analysis.prompt_tokens * GPT_5_NANO[0] + (500 + MEDIUM) * GPT_5_NANO[1])
    assert all(c.card.deprecation_date is None or c.card.deprecation_date >= "2027-03-01" for c in found.candidates)


def test_suggest_min_days_left_decides_what_is_too_soon(make_project):
    project = make_project(OPENAI_ONLY + "suggest_min_days_left = 5\n")
    _analysis, found = suggest(project, "reply.prompty", PLAIN, limit=10)
    nano = by_name(found)["gpt-5-nano"]
    assert "retires on 2026-12-11 (in 10 days)" in nano.caveats


def test_a_made_up_retiring_model_goes_into_the_explanation(make_project):
    def card(name, price, **kw):
        return ModelCard(name, "acme", input_cost_per_token=price / 1e6, output_cost_per_token=4 * price / 1e6,
                         context_window=128000, max_output_tokens=16000, tokenizer="o200k_base", **kw)

    catalog = Catalog({c.name: c for c in [card("acme-pro", 10), card("acme-soon", 0.1, deprecation_date="2026-12-11")]})
    project = make_project('allowed_providers = ["acme"]\nexpected_output_tokens = 500\n')
    path = project.write("reply.prompty", PLAIN.replace("gpt-5.4", "acme-pro"))
    config = load_config(path)
    from promptwise.analysis import analyze
    from promptwise.formats import Format, parse_document

    analysis = analyze(parse_document(path, path.read_text(), Format.PROMPTY), config, catalog)
    found = suggest_models(analysis, config, catalog)
    assert found.candidates == []
    assert [(e.model, e.reason) for e in found.excluded] == [("acme-soon", "retires on 2026-12-11 (in 10 days)")]
    assert found.reason.endswith(": of 1 cheaper model, 1 retire within 90 days")


def test_savings_are_positive_in_the_engine_json_and_table(make_project, cli):
    project = make_project(OPENAI_ONLY)
    _analysis, found = suggest(project, "reply.prompty", PLAIN, limit=3)
    for c in found.candidates:
        assert c.saving > 0 and c.saving_share > 0
        assert c.reasons[0].startswith("$") and " less per call (" in c.reasons[0]
        data = c.to_json()
        assert data["saving_per_call"] > 0 and data["saving_percent"] > 0 and data["basis"] == c.basis
        assert len(c.title) <= 80, c.title
    result = cli("suggest", "reply.prompty", cwd=project.root)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[1].endswith("per call, priced cold, reasoning off")
    rows = [line.split() for line in lines if line.startswith("gpt-")]
    assert [r[0] for r in rows] == [c.model for c in found.candidates]
    for row, c in zip(rows, found.candidates):
        assert row[2] == f"{round(c.saving_share * 100)}%"  # a saving, not a loss: no minus sign
        assert row[3].startswith("$") and row[4] == "less"
    assert "    priced: cold, reasoning 3,000 assumed (medium)" in result.out
    data = json.loads(cli("suggest", "reply.prompty", "--json", cwd=project.root).out)
    assert data["basis"] == "cold, reasoning off"
    assert [c["basis"] for c in data["candidates"]] == [c.basis for c in found.candidates]


def test_long_model_names_keep_titles_short():
    from promptwise.routing.suggest import _finish_title
    from promptwise.routing.suggestions import Suggestion

    card = ModelCard("acme/" + "x" * 60, "acme")
    s = Suggestion("acme/" + "x" * 60, card, 10, True, "o200k_base", 0.001, 0.01, "")
    _finish_title(s)
    assert s.title == f"Switch to {s.model} (-90%: $0.0100 -> $0.0010)"
    short = Suggestion("acme-mini", card, 10, True, "o200k_base", 0.001, 0.01, "")
    _finish_title(short)
    assert short.title == "Switch to acme-mini (-90% per call: $0.0100 -> $0.0010)"


def test_a_candidate_whose_reasoning_fills_the_files_max_output_is_ruled_out(make_project):
    text = PLAIN.replace("model: gpt-5.4\n", "model:\n  id: gpt-5.4\n  parameters:\n    max_tokens: 2000\n")
    project = make_project(OPENAI_ONLY)
    _analysis, found = suggest(project, "reply.prompty", text, limit=3)
    assert "gpt-6-luna" not in by_name(found)
    why = {e.model: e.reason for e in found.excluded}
    assert why["gpt-6-luna"] == "its 3,000 reasoning tokens (assumed) leave no room for a reply in the file's max output of 2,000"
    assert all(c.reasoning_tokens == 0 for c in found.candidates)
