"""The cost model inside the analysis: stable prefixes, cache-busting, tiers, deprecations, volumes."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promptwise.analysis import Analysis, analyze_text
from promptwise.config import load_config

WORDS = "customer order refund policy agent escalate shipping invoice warranty reply always never".split()


def rules(n: int, start: int = 0) -> str:
    return "".join(f"Rule {i}: " + " ".join(WORDS[(i + j) % len(WORDS)] for j in range(12)) + ".\n" for i in range(start, start + n))


def prompty(model: str, system: str, extra: str = "", user: str = "{{question}}\n") -> str:
    return (
        f"---\nname: t\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: {model}\n{extra}"
        "sample:\n  question: Where is my order?\n  date: today\n---\n"
        f"system:\n{system}\nuser:\n{user}"
    )


def analyzed(tmp_path: Path, text: str, name: str = "p.prompty", config: str | None = None) -> Analysis:
    if config is not None:
        (tmp_path / "promptwise.toml").write_text(config, encoding="utf-8")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    a = analyze_text(path, text, load_config(path))
    assert isinstance(a, Analysis)
    return a


def codes(a: Analysis) -> list[str]:
    return [f.code for f in a.findings]


def test_static_system_prompt_is_priced_warm_with_the_cold_first_call(tmp_path):
    a = analyzed(tmp_path, prompty("gpt-5.2", rules(200)))
    system, user = a.messages
    stable = system.tokens + user.stable_tokens
    assert a.estimate.prefix.tokens == stable and user.stable_tokens < user.tokens
    expected = 1024 + (stable - 1024) // 128 * 128
    assert a.estimate.cached_tokens == expected
    warm, cold = a.estimate.warm, a.estimate.cold
    assert a.cost_per_call == warm.total < cold.total
    read = next(p for p in warm.parts if p.part == "cache_read")
    assert read.tokens == expected and read.price_field == "cache_read_input_token_cost"
    assert "cache-busting" not in codes(a)


def test_a_variable_before_the_static_part_busts_the_cache(tmp_path):
    a = analyzed(tmp_path, prompty("gpt-5.2", "Today is {{date}}.\n" + rules(200)))
    [f] = [f for f in a.findings if f.code == "cache-busting"]
    assert a.document.text[f.span.start : f.span.end] == "date"
    assert f.data["tokens"] > 2900 and f.data["per_1000"] > 0
    assert f"before {f.data['tokens']:,} stable tokens" in f.message
    assert f"+${f.data['per_1000']:,.2f} per 1,000 calls" in f.message
    assert f.related and "system message" in f.related[0].message
    # What it costs is the warm cost with the variable moved after the stable text.
    moved = analyzed(tmp_path, prompty("gpt-5.2", rules(200) + "Today is {{date}}.\n"), "moved.prompty")
    assert "cache-busting" not in codes(moved)
    assert abs((a.cost_per_call - moved.cost_per_call) * 1000 - f.data["per_1000"]) < 0.02


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.integers(min_value=20, max_value=160),
    places=st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=4),
)
def test_moving_every_variable_to_the_end_never_raises_the_warm_cost(tmp_path, lines, places):
    body = rules(lines).splitlines(keepends=True)
    variables = [f"Value {i}: {{{{v{i}}}}}.\n" for i in range(len(places))]  # lines end ".\n" like the rules, so tokens add up line by line
    mixed = list(body)
    for i, at in sorted(enumerate(places), key=lambda p: -p[1]):
        mixed.insert(min(at, len(mixed)), variables[i])
    samples = "".join(f"  v{i}: alpha beta gamma\n" for i in range(len(places)))
    head = "---\nname: t\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: gpt-4o\nsample:\n" + samples + "---\nsystem:\n"
    before = analyzed(tmp_path, head + "".join(mixed), "before.prompty")
    after = analyzed(tmp_path, head + "".join(body) + "".join(variables), "after.prompty")
    assert after.prompt_tokens == before.prompt_tokens
    assert after.cost_per_call <= before.cost_per_call + 1e-15


def test_claude_without_a_breakpoint_is_told_what_one_saves(tmp_path):
    a = analyzed(tmp_path, prompty("claude-sonnet-4-6", rules(200)))
    assert a.estimate.cached_tokens == 0
    [f] = [f for f in a.findings if f.code == "cache-breakpoint"]
    assert f.data["tokens"] == a.estimate.prefix.tokens and f.data["saving_per_1000"] > 0
    assert "1.25x the input price" in f.message


def test_deprecated_model_warns_with_days_left_then_errors(tmp_path, monkeypatch):
    text = prompty("gpt-5", "Hello.\n")  # gpt-5 retires on 2026-12-11 in the bundled map
    [f] = [f for f in analyzed(tmp_path, text).findings if f.code == "deprecated-model"]
    assert f.severity.value == "warning" and "in 10 days" in f.message and f.data["days_left"] == 10
    assert a_text(text, f) == "gpt-5"
    monkeypatch.setenv("PROMPTWISE_TODAY", "2026-12-20")
    [f] = [f for f in analyzed(tmp_path, text).findings if f.code == "deprecated-model"]
    assert f.severity.value == "error" and "9 days ago" in f.message
    monkeypatch.setenv("PROMPTWISE_TODAY", "2026-01-01")
    assert "deprecated-model" not in codes(analyzed(tmp_path, text))


def a_text(text: str, f) -> str:
    return text[f.span.start : f.span.end]


def test_long_context_tier_crossed_and_near(tmp_path):
    big = "word " * 205_000
    over = analyzed(tmp_path, "---\nmodel: googleai/gemini-2.5-pro\n---\n" + big, "over.prompt", 'max_file_size = 16777216\n')
    [f] = [f for f in over.findings if f.code == "long-context-tier"]
    assert f.severity.value == "warning" and f.data["threshold"] == 200_000 and f.data["extra_per_1000"] > 0
    assert over.estimate.cold.long_context == 200_000
    near = analyzed(tmp_path, "---\nmodel: googleai/gemini-2.5-pro\n---\n" + "word " * 185_000, "near.prompt")
    [f] = [f for f in near.findings if f.code == "long-context-tier"]
    assert f.severity.value == "info" and "within" in f.message


def test_reasoning_must_fit_the_max_output(tmp_path):
    extra = "  parameters:\n    max_tokens: 2000\n    reasoning_effort: high\n"
    a = analyzed(tmp_path, prompty("gpt-5.2", "Plan the migration.\n", extra))
    assert a.reasoning.tokens == 10_000 and a.reasoning.kind == "assumed"
    [f] = [f for f in a.findings if f.code == "reasoning-over-max-output"]
    assert "2,000" in f.message and "10,000" in f.message
    assert a.context_needed == a.prompt_tokens + 2000 + 10_000


def test_volumes_service_tier_and_reasoning_from_config_and_frontmatter(tmp_path):
    config = 'service_tier = "batch"\n[volumes]\n"support/**" = 2000\n[reasoning]\nlow = 700\n'
    (tmp_path / "support").mkdir()
    text = prompty("gpt-5.2", "Hello.\n", "  parameters:\n    reasoning_effort: low\n")
    a = analyzed(tmp_path, text, "support/t.prompty", config)
    assert a.estimate.calls_per_day == 2000 and a.estimate.volume_source == 'volumes["support/**"] in promptwise.toml'
    assert a.estimate.per_month is not None and a.estimate.cold.service_tier == "batch"
    assert (a.reasoning.tokens, a.reasoning.kind) == (700, "configured")
    own = text.replace("---\nsystem:", "promptwise:\n  calls_per_day: 10\n  service_tier: priority\n---\nsystem:")
    b = analyzed(tmp_path, own, "support/u.prompty")
    assert b.estimate.calls_per_day == 10 and b.estimate.volume_source == "frontmatter promptwise.calls_per_day"
    assert b.estimate.cold.service_tier == "priority"


def test_caching_rule_can_be_changed_in_config(tmp_path):
    a = analyzed(tmp_path, prompty("gpt-5.2", rules(100)), config='[caching.openai]\nmin_prefix = 4096\n')
    assert a.estimate.rule.min_prefix == 4096 and a.estimate.cached_tokens == 0
    assert "changed by [caching" in a.estimate.rule.source


def test_a_max_output_bounds_reasoning_and_reply_together(tmp_path):
    extra = "  parameters:\n    max_tokens: 16000\n    reasoning_effort: high\n"
    a = analyzed(tmp_path, prompty("gpt-5.2", "Plan the migration.\n", extra))
    assert a.reasoning.tokens == 10_000
    # Priced output is the bound itself: 6,000 of reply plus 10,000 of reasoning, not 16,000 plus 10,000.
    assert a.estimate.output_tokens == 6_000 and "less the reasoning" in a.estimate.output_source
    assert a.estimate.cold.tokens("output") + a.estimate.cold.tokens("reasoning") == 16_000
