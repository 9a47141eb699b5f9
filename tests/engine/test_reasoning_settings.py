"""Reasoning effort, thinking budget, service tier and cache breakpoints, as each format writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptwise.formats import Format, detect_format, parse_document, render_document, reparse_document
from promptwise.formats.chat_request import InvalidRequest, request_document
from promptwise.text import Edit

PROMPTY_BODY = "system:\nYou sort tickets.\n\nuser:\nSort this ticket.\n\nassistant:\nDone.\n\nuser:\nAnd this one.\n"
DOTPROMPT_BODY = '{{role "system"}}\nYou sort tickets.\n{{role "user"}}\nSort this ticket.\n'


def prompty(options: str, where: str = "options", extra: str = "") -> str:
    indented = "".join(f"    {line}\n" for line in options.strip("\n").splitlines())
    return f"---\nname: t\nmodel:\n  id: gpt-5\n  {where}:\n{indented}{extra}---\n{PROMPTY_BODY}"


def dotprompt(config: str, extra: str = "") -> str:
    indented = "".join(f"  {line}\n" for line in config.strip("\n").splitlines())
    return f"---\nmodel: googleai/gemini-2.5-flash\nconfig:\n{indented}{extra}---\n{DOTPROMPT_BODY}"


def parse(text: str, name: str = "t.prompty"):
    path = Path("/work/prompts") / name
    return parse_document(path, text, detect_format(path) or Format.PLAIN)


def written(doc) -> str:
    assert doc.reasoning_span is not None
    return doc.text[doc.reasoning_span.start : doc.reasoning_span.end]


def warnings(doc) -> list[str]:
    return [p.message for p in doc.problems if p.code == "invalid-frontmatter" and p.severity.value == "warning"]


# (where, options, effort, budget, the value as written)
PROMPTY_CASES = [
    ("parameters", "reasoning_effort: medium", "medium", None, "medium"),
    ("parameters", "reasoningEffort: LOW", "low", None, "LOW"),
    ("options", "reasoningEffort: high", "high", None, "high"),
    ("options", "reasoning_effort: minimal", "minimal", None, "minimal"),
    ("options", "reasoningEffort: none", "none", None, "none"),
    ("options", "reasoningEffort: max", "xhigh", None, "max"),
    ("parameters", "reasoning:\n  effort: xhigh\n  summary: auto", "xhigh", None, "xhigh"),
    ("parameters", "thinking:\n  type: enabled\n  budget_tokens: 8000", None, 8000, "8000"),
    ("parameters", "thinking:\n  type: disabled", "none", None, "disabled"),
    ("options", "thinkingConfig:\n  thinkingBudget: 2048", None, 2048, "2048"),
    ("options", "thinkingBudget: 1024", None, 1024, "1024"),
    ("options", "thinkingConfig:\n  thinkingBudget: 0", "none", None, "0"),
    ("options", "thinkingConfig:\n  thinkingLevel: high", "high", None, "high"),
    ("options", "thinkingLevel: low", "low", None, "low"),
    ("options", "additionalProperties:\n  reasoning_effort: low", "low", None, "low"),
    ("options", "additionalProperties:\n  thinking:\n    type: enabled\n    budget_tokens: 4096", None, 4096, "4096"),
]


@pytest.mark.parametrize("where, options, effort, budget, value", PROMPTY_CASES)
def test_prompty_reads_each_reasoning_key_with_its_span(where, options, effort, budget, value):
    doc = parse(prompty(options, where))
    assert (doc.reasoning_effort, doc.reasoning_budget) == (effort, budget)
    assert written(doc) == value
    assert doc.uses_reasoning and not warnings(doc)


def test_prompty_gemini_dynamic_budget_is_a_reasoning_call_without_figures():
    doc = parse(prompty("thinkingConfig:\n  thinkingBudget: -1"))
    assert doc.uses_reasoning and doc.reasoning_effort is None and doc.reasoning_budget is None
    assert doc.reasoning_span is None and not warnings(doc)


def test_prompty_options_win_over_parameters_and_effort_and_budget_are_both_kept():
    text = prompty("reasoningEffort: high", extra="  parameters:\n    reasoning_effort: low\n    thinking:\n      budget_tokens: 3000\n")
    doc = parse(text)
    assert (doc.reasoning_effort, doc.reasoning_budget) == ("high", 3000)
    assert written(doc) == "high"


def test_a_prompt_without_reasoning_settings_has_none():
    doc = parse(prompty("maxOutputTokens: 500\nserviceTier: ~"))
    assert (doc.reasoning_effort, doc.reasoning_budget, doc.reasoning_span, doc.service_tier) == (None, None, None, None)
    assert not doc.uses_reasoning and doc.cache_breakpoints == []


# (config, effort, budget, the value as written)
DOTPROMPT_CASES = [
    ("reasoningEffort: medium", "medium", None, "medium"),
    ("reasoning_effort: High", "high", None, "High"),
    ("thinkingConfig:\n  thinkingBudget: 512", None, 512, "512"),
    ("thinkingConfig:\n  thinkingBudget: 0", "none", None, "0"),
    ("thinkingConfig:\n  thinkingLevel: low", "low", None, "low"),
    ("thinkingConfig:\n  thinkingLevel: HIGH", "high", None, "HIGH"),
    ("thinking:\n  budget_tokens: 10000", None, 10000, "10000"),
    ("thinking:\n  type: disabled\n  budget_tokens: 10000", "none", None, "disabled"),
    ("thinking:\n  enabled: true\n  budgetTokens: 2048", None, 2048, "2048"),
]


@pytest.mark.parametrize("config, effort, budget, value", DOTPROMPT_CASES)
def test_dotprompt_reads_each_reasoning_key_with_its_span(config, effort, budget, value):
    doc = parse(dotprompt(config), "t.prompt")
    assert (doc.reasoning_effort, doc.reasoning_budget) == (effort, budget)
    assert written(doc) == value
    assert doc.uses_reasoning and not warnings(doc)


def test_dotprompt_dynamic_budget_keeps_it_a_reasoning_call():
    doc = parse(dotprompt("thinkingConfig:\n  thinkingBudget: -1"), "t.prompt")
    assert doc.uses_reasoning and (doc.reasoning_effort, doc.reasoning_budget) == (None, None)


def test_dotprompt_spans_survive_license_lines_before_the_frontmatter():
    doc = parse("# Copyright 2026\n# SPDX-License-Identifier: Apache-2.0\n\n" + dotprompt("reasoningEffort: low"), "t.prompt")
    assert doc.reasoning_effort == "low" and written(doc) == "low"


@pytest.mark.parametrize(
    "text, name",
    [
        (prompty("reasoningEffort: high\nthinking:\n  budget_tokens: 9000\nserviceTier: priority", extra="promptwise:\n  reasoning_effort: low\n  reasoning_budget: 100\n  service_tier: batch\n"), "t.prompty"),
        (dotprompt("reasoningEffort: high\nthinking:\n  budget_tokens: 9000\nserviceTier: priority", extra="promptwise:\n  reasoning_effort: low\n  reasoning_budget: 100\n  service_tier: batch\n"), "t.prompt"),
    ],
)
def test_the_promptwise_block_wins_over_the_formats_own_keys(text, name):
    doc = parse(text, name)
    assert (doc.reasoning_effort, doc.reasoning_budget, doc.service_tier) == ("low", 100, "batch")
    assert written(doc) == "low"
    assert doc.reasoning_span.start > text.index("promptwise:")
    assert not doc.problems


def test_the_block_wins_value_by_value():
    doc = parse(prompty("reasoningEffort: high\nthinking:\n  budget_tokens: 9000", extra="promptwise:\n  reasoning_budget: 100\n"))
    assert (doc.reasoning_effort, doc.reasoning_budget) == ("high", 100)
    assert written(doc) == "100"  # the block's value: the one it was priced with first


@pytest.mark.parametrize("model", ["model:\n  id: gpt-5\n", "model: gpt-5\n", ""])
def test_the_block_alone_makes_it_a_reasoning_call(model):
    doc = parse(f"---\nname: t\n{model}promptwise:\n  reasoning_effort: minimal\n---\nuser:\nHi\n")
    assert doc.uses_reasoning and doc.reasoning_effort == "minimal"
    doc = parse(f"---\n{model.replace('id: ', '')}promptwise:\n  reasoning_budget: 0\n---\n{DOTPROMPT_BODY}", "t.prompt")
    assert doc.uses_reasoning and doc.reasoning_budget == 0


@pytest.mark.parametrize(
    "name, frontmatter",
    [
        (".github/prompts/release.prompt.md", "description: notes\n"),
        (".github/agents/review.agent.md", "description: reviews\n"),
        (".github/instructions/py.instructions.md", "applyTo: '**/*.py'\n"),
        (".cursor/rules/style.mdc", "alwaysApply: true\n"),
        ("skills/sort-tickets/SKILL.md", "name: sort-tickets\ndescription: Sorts tickets.\n"),
    ],
)
def test_instruction_files_read_the_promptwise_block(name, frontmatter):
    text = f"---\n{frontmatter}promptwise:\n  reasoning_effort: HIGH\n  service_tier: flex\n  calls_per_day: 200\n---\nBe brief.\n"
    doc = parse(text.replace("HIGH", "high"), name)
    assert doc.format is Format.INSTRUCTIONS
    assert (doc.reasoning_effort, doc.service_tier, doc.calls_per_day) == ("high", "flex", 200)
    assert doc.uses_reasoning and written(doc) == "high"


def test_instruction_file_keys_outside_the_block_are_not_request_options():
    doc = parse("---\ndescription: x\nreasoning_effort: high\n---\nBe brief.\n", ".github/prompts/x.prompt.md")
    assert doc.reasoning_effort is None and not doc.uses_reasoning


def test_an_unknown_effort_is_a_warning_at_the_value_with_a_guess():
    text = prompty("reasoningEffort: hgh")
    doc = parse(text)
    [problem] = [p for p in doc.problems if p.code == "invalid-frontmatter"]
    assert problem.severity.value == "warning"
    assert text[problem.span.start : problem.span.end] == "hgh"
    assert "'model.options.reasoningEffort'" in problem.message and "did you mean 'high'?" in problem.message
    assert "none, minimal, low, medium, high, xhigh" in problem.message
    assert doc.reasoning_effort is None and doc.uses_reasoning  # ignored, but the file still asks for reasoning


def test_an_unknown_effort_with_nothing_close_names_only_the_allowed_values():
    doc = parse(dotprompt("thinkingConfig:\n  thinkingLevel: extreme"), "t.prompt")
    [message] = warnings(doc)
    assert "'config.thinkingConfig.thinkingLevel': 'extreme' is not a reasoning effort" in message and "did you mean" not in message


def test_an_invalid_effort_does_not_hide_a_valid_one_written_later():
    doc = parse(prompty("reasoningEffort: 3", extra="  parameters:\n    reasoning_effort: low\n"))
    assert doc.reasoning_effort == "low" and len(warnings(doc)) == 1


@pytest.mark.parametrize(
    "config, value",
    [
        ("thinking:\n  budget_tokens: -5", "-5"),
        ("thinking:\n  budget_tokens: -1", "-1"),  # -1 is Gemini's dynamic budget, not Anthropic's
        ("thinking:\n  budget_tokens: 1.5", "1.5"),
        ("thinkingConfig:\n  thinkingBudget: lots", "lots"),
        ("thinkingConfig:\n  thinkingBudget: -2", "-2"),
        ("thinkingBudget: true", "true"),
    ],
)
def test_a_negative_or_fractional_budget_is_a_warning_and_ignored(config, value):
    text = dotprompt(config)
    doc = parse(text, "t.prompt")
    [problem] = [p for p in doc.problems if p.code == "invalid-frontmatter"]
    assert text[problem.span.start : problem.span.end] == value
    assert "is not a thinking budget" in problem.message
    assert doc.reasoning_budget is None and doc.reasoning_effort is None


@pytest.mark.parametrize(
    "value, tier",
    [("auto", "standard"), ("default", "standard"), ("Flex", "flex"), ("priority", "priority"), ("standard_only", "standard")],
)
def test_service_tier_request_values_map_to_the_documents(value, tier):
    assert parse(prompty(f"serviceTier: {value}")).service_tier == tier
    assert parse(prompty(f"service_tier: {value}", "parameters")).service_tier == tier
    assert parse(dotprompt(f"service_tier: {value}"), "t.prompt").service_tier == tier


def test_an_unknown_service_tier_is_a_warning():
    text = prompty("serviceTier: priorty")
    doc = parse(text)
    [problem] = [p for p in doc.problems if p.code == "invalid-frontmatter"]
    assert text[problem.span.start : problem.span.end] == "priorty" and "did you mean 'priority'?" in problem.message
    assert doc.service_tier is None


def test_batch_as_a_request_tier_says_where_batch_pricing_is_set():
    [message] = warnings(parse(prompty("service_tier: batch", "parameters")))
    assert "promptwise.service_tier: batch" in message


def test_cache_control_injection_points_by_role_and_index():
    points = "cache_control_injection_points:\n  - location: message\n    role: system\n  - location: message\n    index: -2\n"
    doc = parse(prompty(points, "parameters"))
    assert [m.role for m in doc.messages] == ["system", "user", "assistant", "user"]
    assert doc.cache_breakpoints == [0, 2]


@pytest.mark.parametrize(
    "points, marked",
    [
        ("- location: message\n  role: user", [1, 3]),
        ("- location: message\n  index: 1", [1]),
        ("- location: message\n  index: '-1'", [3]),
        ("- location: message\n  index: 7", []),  # out of range: litellm skips it
        ("- location: message\n  index: -9", []),
        ("- location: message\n  index: 0\n  role: user", [0]),  # an index wins over a role
        ("- location: tool_config", []),
        ("- role: system", []),  # no location: not a message point
    ],
)
def test_each_injection_point_marks_what_litellm_marks(points, marked):
    indented = "".join(f"  {line}\n" for line in points.splitlines())
    doc = parse(prompty("cache_control_injection_points:\n" + indented))
    assert doc.cache_breakpoints == marked


def test_injection_stops_at_anthropics_four_breakpoints_in_the_order_written():
    body = "".join(f"user:\nQuestion {i}.\n\n" for i in range(6))
    points = "cache_control_injection_points:\n  - location: message\n    index: -1\n  - location: message\n    role: user\n"
    indented = "".join(f"    {line}\n" for line in points.splitlines())
    doc = parse(f"---\nname: t\nmodel:\n  id: claude-sonnet-4-5\n  options:\n{indented}---\nsystem:\nRules.\n\n{body}")
    assert len(doc.messages) == 7
    assert doc.cache_breakpoints == [1, 2, 3, 6]  # the last message first, then users until four


def test_json_breakpoints_the_request_writes_count_toward_the_four():
    raw = body(cache_control_injection_points=[{"location": "message", "role": "user"}])
    for message in raw["messages"][:3]:
        message["cache_control"] = {"type": "ephemeral"}
    assert request_document(raw, Path("r.json")).cache_breakpoints == [0, 1, 2, 3]
    raw["messages"][3]["role"] = "assistant"
    raw["messages"].append({"role": "user", "content": "Once more?"})
    raw["messages"][2]["cache_control"] = {"type": "ephemeral"}
    raw["messages"][3]["cache_control"] = {"type": "ephemeral"}
    assert request_document(raw, Path("r.json")).cache_breakpoints == [0, 1, 2, 3]  # already four: none added


def test_a_cache_control_option_marks_the_last_message():
    assert parse(prompty("cache_control:\n  type: ephemeral", "parameters")).cache_breakpoints == [3]
    doc = parse(dotprompt("cache_control:\n  type: ephemeral"), "t.prompt")
    assert [m.role for m in doc.messages] == ["system", "user"] and doc.cache_breakpoints == [1]


def test_dotprompt_injection_points_in_config():
    doc = parse(dotprompt("cache_control_injection_points:\n  - location: message\n    role: system"), "t.prompt")
    assert doc.cache_breakpoints == [0]


def test_rendering_with_other_values_places_breakpoints_on_the_rendered_messages():
    text = (
        "---\nname: t\nmodel:\n  id: claude-sonnet-4-5\n  options:\n    cache_control_injection_points:\n"
        "      - location: message\n        index: -1\ninputs:\n  - name: history\n    kind: thread\n---\n"
        "system:\nRules.\n\n{{history}}\n\nuser:\nGo.\n"
    )
    doc = parse(text)
    thread = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    again = render_document(doc, {"history": thread})
    assert len(again.messages) == len(doc.messages) + 2
    assert again.cache_breakpoints == [len(again.messages) - 1]


def test_a_body_edit_keeps_the_settings_a_fresh_parse_gives():
    text = prompty("reasoningEffort: high\nserviceTier: flex\ncache_control_injection_points:\n  - location: message\n    role: user")
    doc = parse(text)
    at = text.index("Sort this") + 4
    new = text[:at] + " now" + text[at:]
    again = reparse_document(doc, new, Edit(at, at, at + 4))
    fresh = parse(new)
    for name in ("reasoning_effort", "reasoning_budget", "reasoning_span", "service_tier", "cache_breakpoints", "uses_reasoning"):
        assert getattr(again, name) == getattr(fresh, name), name


# JSON chat request bodies


def body(**extra):
    return {
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "system", "content": "Rules."},
            {"role": "user", "content": [{"type": "text", "text": "Long document."}, {"type": "text", "text": "Question?"}]},
            {"role": "assistant", "content": "Answer."},
            {"role": "user", "content": "Again?"},
        ],
        **extra,
    }


@pytest.mark.parametrize(
    "extra, effort, budget, tier",
    [
        ({"reasoning_effort": "Medium"}, "medium", None, None),
        ({"reasoning": {"effort": "low"}}, "low", None, None),
        ({"thinking": {"type": "enabled", "budget_tokens": 6000}}, None, 6000, None),
        ({"thinking": {"type": "disabled"}}, "none", None, None),
        ({"service_tier": "default"}, None, None, "standard"),
        ({"service_tier": "flex", "reasoning_effort": "high"}, "high", None, "flex"),
    ],
)
def test_a_json_request_reads_reasoning_and_service_tier(extra, effort, budget, tier):
    doc = request_document(body(**extra), Path("r.json"))
    assert (doc.reasoning_effort, doc.reasoning_budget, doc.service_tier) == (effort, budget, tier)
    assert doc.uses_reasoning == (effort is not None or budget is not None)
    assert not doc.problems


def test_a_json_request_with_an_unknown_effort_warns_and_ignores_it():
    doc = request_document(body(reasoning_effort="ultra"), Path("r.json"))
    [problem] = doc.problems
    assert problem.code == "invalid-frontmatter" and "'reasoning_effort': 'ultra'" in problem.message
    assert doc.reasoning_effort is None


def test_json_cache_control_on_a_message_or_a_content_block():
    raw = body()
    raw["messages"][0]["cache_control"] = {"type": "ephemeral"}
    raw["messages"][1]["content"][0]["cache_control"] = {"type": "ephemeral"}
    assert request_document(raw, Path("r.json")).cache_breakpoints == [0, 1]
    assert request_document(body(), Path("r.json")).cache_breakpoints == []


def test_json_top_level_cache_control_is_automatic_caching_at_the_last_message():
    raw = body(cache_control={"type": "ephemeral"})
    raw["messages"][0]["cache_control"] = {"type": "ephemeral"}
    assert request_document(raw, Path("r.json")).cache_breakpoints == [0, 3]


def test_json_request_contents_are_read_as_before():
    doc = request_document(body(max_completion_tokens=900), Path("r.json"))
    assert [m.content for m in doc.messages] == ["Rules.", "Long document.Question?", "Answer.", "Again?"]
    assert doc.max_output_tokens == 900 and doc.model == "claude-sonnet-4-5"
    with pytest.raises(InvalidRequest):
        request_document({"messages": [{"content": "no role"}]}, Path("r.json"))
