"""analyze(): exact counts against OpenAI's published rule, costs, budgets and every finding."""

from pathlib import Path

import pytest

from promptwise.analysis import Analysis, analyze, analyze_file, analyze_text
from promptwise.catalog import Catalog
from promptwise.config import LoadedConfig, load_config
from promptwise.formats import Format, Severity, detect_format, parse_document
from tests.conftest import openai_prompt_tokens


def analyzed(path: Path, **kw) -> Analysis:
    result = analyze_file(path, **kw)
    assert isinstance(result, Analysis), result
    return result


def codes(a: Analysis) -> list[str]:
    return [f.code for f in a.findings]


@pytest.mark.parametrize(
    "name",
    ["support/triage.prompty", "support/summarize.prompty", "dotprompt/review.prompt", "AGENTS.md", "CLAUDE.md",
     "legal/contract-review.prompty", ".github/prompts/release-notes.prompt.md", "prompts/classify.txt"],
)
def test_openai_counts_equal_the_published_rule_on_rendered_messages(examples, reference_encoding, name):
    a = analyzed(examples / name)
    assert a.exact and a.tokenizer.encoding in ("o200k_base", "cl100k_base")
    messages = []
    for m in a.document.messages:
        entry = {"role": m.role, "content": m.content}
        if m.name:
            entry["name"] = m.name
        messages.append(entry)
    expected = openai_prompt_tokens(reference_encoding[a.tokenizer.encoding], messages, a.document.tools or None)
    assert a.prompt_tokens == expected


def test_names_are_counted_with_their_extra_token(tmp_path, reference_encoding):
    path = tmp_path / "fewshot.prompty"
    path.write_text("---\nmodel: gpt-4o-mini\n---\nsystem:\nTranslate jargon.\nuser[name=example_user]:\n"
                    "New synergies will help drive top-line growth.\nassistant[name=example_assistant]:\n"
                    "Things working well together will increase revenue.\nuser:\nLet's circle back.\n")
    a = analyzed(path)
    msgs = [{"role": m.role, "content": m.content, **({"name": m.name} if m.name else {})} for m in a.document.messages]
    assert msgs[1]["name"] == "example_user"
    assert a.prompt_tokens == openai_prompt_tokens(reference_encoding["o200k_base"], msgs)


def test_cost_per_call_uses_catalog_prices_and_expected_output(examples):
    a = analyzed(examples / "support/triage.prompty")
    card = Catalog.bundled().resolve("gpt-4o")
    assert a.card.name == "gpt-4o"
    assert a.expected_output_tokens == 800  # the file's maxOutputTokens
    assert a.cost_per_call == pytest.approx(a.prompt_tokens * card.input_cost_per_token + 800 * card.output_cost_per_token)
    assert a.context_window == card.context_window
    assert a.context_share == pytest.approx((a.prompt_tokens + 800) / card.context_window)


def test_over_budget_is_an_error_pointing_at_the_largest_parts(examples):
    a = analyzed(examples / "legal/contract-review.prompty")
    [finding] = [f for f in a.findings if f.code == "over-budget"]
    assert finding.severity is Severity.ERROR
    assert f"{a.prompt_tokens:,} tokens per call, over the budget of 1,200" in finding.message
    assert a.document.text[finding.span.start : finding.span.end] == "gpt-4o"
    assert finding.related and "system message" in finding.related[0].message


def test_near_budget_warning_and_budget_globs(tmp_path):
    (tmp_path / "promptwise.toml").write_text('warn_at = 0.5\n[budgets]\n"**/*" = 100000\n"agents/*.md" = 60\n')
    (tmp_path / "agents").mkdir()
    path = tmp_path / "agents" / "AGENTS.md"
    path.write_text("Always run the tests before you push a change. " * 4)
    a = analyzed(path)
    assert a.budget == 60 and "agents/*.md" in a.budget_source
    assert a.budget_share > 0.5
    assert codes(a) == ["near-budget"]


def test_frontmatter_budget_and_model_override_config(tmp_path):
    (tmp_path / "promptwise.toml").write_text('default_model = "gpt-4o"\n[budgets]\n"**/*" = 5\n')
    path = tmp_path / "x.instructions.md"
    path.write_text("---\napplyTo: '**'\npromptwise:\n  budget: 5000\n  model: gpt-4.1-nano\n  expected_output_tokens: 10\n---\nBe brief.\n")
    a = analyzed(path)
    assert (a.budget, a.model, a.expected_output_tokens) == (5000, "gpt-4.1-nano", 10)
    assert a.document.text[a.document.model_span.start : a.document.model_span.end] == "gpt-4.1-nano"


def test_context_overflow_points_at_the_include_that_causes_it(tmp_path):
    (tmp_path / "promptwise.toml").write_text('[models."tiny-model"]\nprovider = "openai"\ncontext_window = 300\n'
                                            'input_cost_per_million = 1.0\noutput_cost_per_million = 2.0\n')
    (tmp_path / "_big.prompt").write_text("Reference material about tides and moons. " * 60)
    path = tmp_path / "main.prompt"
    path.write_text("---\nmodel: tiny-model\nconfig:\n  maxOutputTokens: 100\n---\n{{role \"system\"}}\nUse this:\n{{> big}}\n")
    a = analyzed(path)
    [overflow] = [f for f in a.findings if f.code == "context-overflow"]
    assert "context window of 300" in overflow.message and overflow.severity is Severity.ERROR
    assert overflow.related[0].message.startswith("big brings in")
    assert a.document.text[overflow.related[0].span.start : overflow.related[0].span.end] == "{{> big}}"
    assert a.card.source.startswith("config ")
    assert a.cost_per_call == pytest.approx(a.prompt_tokens * 1e-6 + 100 * 2e-6)


def test_unknown_model_is_counted_as_an_estimate(tmp_path):
    path = tmp_path / "x.prompty"
    path.write_text("---\nmodel: my-private-llm-7b\n---\nsystem:\nYou are helpful.\n")
    a = analyzed(path)
    [finding] = [f for f in a.findings if f.code == "unknown-model"]
    assert "my-private-llm-7b" in finding.message and "estimate" in finding.message
    assert a.document.text[finding.span.start : finding.span.end] == "my-private-llm-7b"
    assert not a.exact and a.cost_per_call is None and a.prompt_tokens > 0


def test_estimates_name_their_tokenizer(examples):
    a = analyzed(examples / "i18n/greeter.prompt")
    assert a.card.name == "claude-haiku-4-5"
    assert not a.exact and a.tokenizer.encoding == "claude" and "Anthropic" in a.tokenizer.note


def test_duplicated_paragraphs_point_at_the_repeat_and_the_original(examples):
    a = analyzed(examples / ".github/instructions/onboarding.instructions.md")
    dups = [f for f in a.findings if f.code == "duplicated-paragraph"]
    assert len(dups) == 3
    text = a.document.text
    for f in dups:
        first = f.related[0].span
        assert text[f.span.start : f.span.end] == text[first.start : first.end]
        assert f.unnecessary and f.data["tokens"] > 0 and f.span.start > first.start


def test_every_example_analyzes_without_unexpected_findings(examples):
    config = load_config(examples)
    seen = {}
    for path in sorted(examples.rglob("*")):
        fmt = detect_format(path, config.settings.plain_prompts, config.root)
        if fmt is None or path.name.startswith("_"):
            continue
        # Models retiring soon are the examples' own news, asserted in the cost tests.
        seen[path.relative_to(examples).as_posix()] = [c for c in codes(analyzed(path)) if c != "deprecated-model"]
    assert seen["legal/contract-review.prompty"] == ["over-budget"]
    assert seen[".github/instructions/onboarding.instructions.md"] == ["duplicated-paragraph"] * 3
    others = {k: v for k, v in seen.items() if k not in ("legal/contract-review.prompty", ".github/instructions/onboarding.instructions.md")}
    assert all(v == [] for v in others.values()), others
    assert len(seen) >= 12


def test_text_too_large_for_the_editor_is_a_finding_not_a_freeze(tmp_path):
    result = analyze_text(tmp_path / "AGENTS.md", "x" * (9 * 1024 * 1024))
    assert isinstance(result, list) and result[0].code == "file-too-large"


def test_binary_and_invalid_utf8_files(tmp_path):
    (tmp_path / "a.prompt").write_bytes(b"\x00\x01\x02binary")
    assert [f.code for f in analyze_file(tmp_path / "a.prompt")] == ["binary-file"]
    (tmp_path / "b.prompt").write_bytes(b"---\nmodel: openai/gpt-4o\n---\nHello \xc3\x28 world\n")
    a = analyzed(tmp_path / "b.prompt")
    assert codes(a)[0] == "invalid-utf8" and a.prompt_tokens > 0


def test_the_price_cache_keeps_one_file_whatever_the_number_of_installs(tmp_path, monkeypatch):
    from promptwise.catalog import _bundled_entries

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = tmp_path / "promptwise"
    cache.mkdir()
    for name in ("prices-1.110.2-3483222-1795567447974115908.marshal", "prices-v2-1.110.2-3483222-17955.marshal"):
        (cache / name).write_bytes(b"from another install")
    entries, _ = _bundled_entries()
    assert "gpt-4o" in entries
    kept = sorted(p.name for p in cache.glob("prices-*"))
    assert len(kept) == 1 and kept[0].startswith("prices-v2-")
    assert _bundled_entries()[0].keys() == entries.keys()  # read back from that one file
