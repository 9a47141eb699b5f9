"""What a new user hits first: did-you-mean for models and settings, honest counts, validated numbers,
and the smaller edges (prices, partial messages, schema --check, SARIF, --fix headings)."""

from __future__ import annotations

import json
import re

import pytest

from promptwise.analysis import analyze_text, suggest_model
from promptwise.catalog import Catalog
from promptwise.catalog.aliases import alias_targets, deployment_guesses
from promptwise.cli.output import money, per_million
from promptwise.config import load_config

TYPO = "---\nname: typo\nmodel:\n  id: gpt-4o-mnii\n---\nsystem:\nBe terse.\n"


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.bundled()


# ---- models: aliases and did-you-mean ----


@pytest.mark.parametrize(
    "name, provider, expected",
    [
        ("gpt-35-turbo", None, "gpt-3.5-turbo"),  # Azure's model name
        ("gpt-35-turbo-16k", None, "gpt-3.5-turbo-16k"),
        ("Claude Sonnet 4.5", None, "claude-sonnet-4-5"),  # VS Code's model picker
        ("Claude Haiku 4.5", None, "claude-haiku-4-5"),
        ("GPT-4.1 (copilot)", None, "gpt-4.1"),
        ("Gemini 2.5 Pro", None, "gemini-2.5-pro"),
        ("Grok Code Fast 1", None, "xai/grok-code-fast-1"),
    ],
)
def test_known_aliases_resolve_to_the_catalog_model(catalog, name, provider, expected):
    card = catalog.resolve(name, provider)
    assert card is not None and card.name == expected


def test_alias_targets_follow_claudes_naming_by_generation():
    assert alias_targets("Claude Sonnet 3.7")[0] == "claude-3-7-sonnet"
    assert alias_targets("Claude 3.5 Sonnet")[0] == "claude-3-5-sonnet"
    assert alias_targets("Claude Sonnet 4")[:2] == ("claude-sonnet-4", "claude-sonnet-4-20250514")
    assert alias_targets("gpt-4o") == ()
    assert deployment_guesses("gpt4o-mini-prod") == ["gpt-4o-mini"]
    assert deployment_guesses("gpt-4o-mini") == []


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("gpt-4o-mnii", "gpt-4o-mini"),
        ("openai/gpt-4o-mnii", "gpt-4o-mini"),
        ("gpt4o-mini-prod", "gpt-4o-mini"),  # an Azure deployment named after its model
        ("my-gpt-4o-deployment", "gpt-4o"),
        ("gpt35turbo", "gpt-3.5-turbo"),
        ("claude-sonet-4-5", "claude-sonnet-4-5"),
        ("northwind-llm-2", None),
    ],
)
def test_did_you_mean_names_the_closest_catalog_model(catalog, typed, meant):
    assert suggest_model(typed, catalog) == meant


def test_an_azure_gpt35_deployment_counts_exactly_with_cl100k(tmp_path):
    text = (
        "---\nname: t\nmodel:\n  api: chat\n  configuration:\n    type: azure_openai\n    azure_deployment: gpt-35-turbo\n---\n"
        "system:\nHello there\n"
    )
    a = analyze_text(tmp_path / "a.prompty", text, load_config(tmp_path))
    assert a.card is not None and a.tokenizer.encoding == "cl100k_base" and a.exact


def test_an_unknown_model_is_an_estimate_with_a_did_you_mean_in_check_count_and_suggest(cli, tmp_path):
    (tmp_path / "typo.prompty").write_text(TYPO)
    check = cli("check", "typo.prompty", cwd=tmp_path)
    assert "typo.prompty  prompty  gpt-4o-mnii     10~" in check.out
    assert "typo.prompty:4:7: warning unknown-model unknown model 'gpt-4o-mnii'" in check.out
    assert "did you mean gpt-4o-mini?" in check.out and check.code == 0
    count = cli("count", "typo.prompty", cwd=tmp_path)
    assert count.out.startswith("10 prompt tokens (estimate, o200k_base) on gpt-4o-mnii")
    assert "did you mean gpt-4o-mini?" in count.err and count.code == 0
    data = json.loads(cli("count", "typo.prompty", "--json", cwd=tmp_path).out)
    assert data["exact"] is False and "gpt-4o-mnii is not a known model" in data["exact_reason"]
    suggest = cli("suggest", "typo.prompty", cwd=tmp_path)
    assert "  did you mean gpt-4o-mini? With that name in typo.prompty, suggest can compare prices" in suggest.out
    assert json.loads(cli("suggest", "typo.prompty", "--json", cwd=tmp_path).out)["did_you_mean"] == "gpt-4o-mini"


# ---- settings: did-you-mean, the right place, validated numbers ----

CONFIG = """default_model = "gpt-4o-mini"
warn_att = 0.5

[budgetz]
"*.prompty" = 100

[budgets]
"**/*.prompty" = -5

[volumes]
"**/*.prompty" = 0

[evals]
judge_modle = "gpt-4o"

[reasoning]
high = -1
"""


def test_unknown_settings_get_a_did_you_mean_at_their_line_and_column(cli, tmp_path):
    (tmp_path / "promptwise.toml").write_text(CONFIG)
    (tmp_path / "a.prompty").write_text("---\nmodel:\n  id: gpt-4o-mini\n---\nsystem:\nHello there\n")
    result = cli("check", ".", cwd=tmp_path)
    err = [line for line in result.out.splitlines() if "invalid-config" in line]
    assert err[0].startswith("promptwise.toml:2:1: error invalid-config unknown setting 'warn_att' is ignored; did you mean 'warn_at'?")
    assert err[1].startswith("promptwise.toml:4:2: error invalid-config unknown setting 'budgetz' is ignored; did you mean 'budgets'?")
    assert err[4] == "promptwise.toml:14:1: error invalid-config unknown setting 'evals.judge_modle' is ignored; did you mean 'judge_model'?"
    assert result.code == 1


def test_budgets_volumes_and_reasoning_must_be_in_range_and_the_bad_value_is_not_used(cli, tmp_path):
    (tmp_path / "promptwise.toml").write_text(CONFIG)
    (tmp_path / "a.prompty").write_text("---\nmodel:\n  id: gpt-4o-mini\n---\nsystem:\nHello there\n")
    loaded = load_config(tmp_path)
    assert loaded.settings.budgets == {} and loaded.settings.volumes == {} and loaded.settings.reasoning == {}
    by_key = {p.key: p for p in loaded.problems}
    budget = by_key["budgets.**/*.prompty"]
    assert (budget.line, budget.column) == (7, 17)  # at the value
    assert budget.message == "budgets['**/*.prompty']: Input should be greater than 0 (got -5); allowed: gt 0; this glob is ignored"
    assert (by_key["volumes.**/*.prompty"].line, by_key["reasoning.high"].line) == (10, 16)
    result = cli("check", "a.prompty", "--format", "json", cwd=tmp_path)
    assert json.loads(result.out)["files"][0]["budget"] is None  # never "-200% of -5"
    assert "% of -5" not in cli("check", "a.prompty", cwd=tmp_path).out


def test_a_pyproject_table_is_placed_and_corrected_too(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.promptwise]\nwarn_at = 0.5\n\n[tool.promptwise.budgetz]\n"*" = 5\n')
    (problem,) = load_config(tmp_path).problems
    assert (problem.line, problem.column) == (6, 17) and "did you mean 'budgets'?" in problem.message


def test_an_inline_table_value_is_placed_on_its_own_key(tmp_path):
    (tmp_path / "promptwise.toml").write_text('budgets = { "a/*" = 10, "b/*" = 0 }\n')
    (problem,) = load_config(tmp_path).problems
    assert (problem.line, problem.column) == (0, 32)  # the 0 of "b/*"


def test_a_negative_frontmatter_budget_is_reported_at_its_value_and_not_used(cli, tmp_path):
    (tmp_path / "a.prompty").write_text("---\nmodel:\n  id: gpt-4o-mini\npromptwise:\n  budget: -5\n---\nsystem:\nHello there\n")
    result = cli("check", "a.prompty", cwd=tmp_path)
    assert "a.prompty:5:3: error invalid-frontmatter frontmatter key 'promptwise.budget': Input should be greater than or equal to 1" in result.out
    assert "% of -5" not in result.out and "over-budget" not in result.out


# ---- count shows what is wrong ----


def test_count_prints_errors_and_exits_1_like_check(cli, tmp_path):
    (tmp_path / "broken.prompty").write_text("---\nname: [oops\n---\nsystem:\nHi\n")
    result = cli("count", "broken.prompty", cwd=tmp_path)
    assert result.code == 1 and "prompt tokens" in result.out
    assert result.err.startswith("broken.prompty:3:1: error invalid-frontmatter invalid YAML in frontmatter")
    assert cli("count", "broken.prompty", "--json", cwd=tmp_path).code == 1
    (tmp_path / "d.prompt").write_text("---\nmodel: openai/gpt-4.1-mini\n---\n{{> missing}}\nHi\n")
    result = cli("count", "d.prompt", cwd=tmp_path)
    folder = str(tmp_path.resolve()) if str(tmp_path.resolve()) in result.err else str(tmp_path)
    assert result.code == 1
    assert f"d.prompt:4:1: error missing-include partial 'missing' not found: expected _missing.prompt in {folder} (the folder of d.prompt)" in result.err


def test_count_with_only_warnings_exits_0(cli, tmp_path):
    (tmp_path / "hello.prompt").write_text("---\nmodel: openai/gpt-4.1-mini\n---\nHello {{who}}.\n")
    result = cli("count", "hello.prompt", cwd=tmp_path)
    assert result.code == 0 and "warning undefined-variable" in result.err


def test_count_on_a_folder_points_at_check(cli, tmp_path):
    (tmp_path / "prompts").mkdir()
    result = cli("count", "prompts", cwd=tmp_path)
    assert result.code == 2 and result.out == ""
    assert result.err == "promptwise count: prompts is a folder: count takes one file; `promptwise check prompts` counts every prompt file in it\n"


# ---- prices and amounts ----


def test_prices_per_million_keep_their_significant_digits():
    assert [per_million(v) for v in (0, 0.001, 0.0375, 0.075, 0.15, 0.5, 1.25, 10)] == [
        "$0", "$0.001", "$0.0375", "$0.075", "$0.15", "$0.50", "$1.25", "$10.00"
    ]
    assert per_million(None) == "n/a"
    assert [money(v) for v in (0.0000012, 0.00002, 0.0006)] == ["$0.0000012", "$0.00002", "$0.00060"]


def test_no_price_or_cost_reads_as_zero_when_it_is_not(cli, tmp_path):
    (tmp_path / "a.prompty").write_text("---\nmodel:\n  id: gpt-4o-mini\n---\nsystem:\nHi\n")
    count = cli("count", "a.prompty", cwd=tmp_path)
    assert not re.search(r"\$0\.0000+(?!\d)", count.out) and "$0.0000012" in count.out  # 8 input tokens at $0.15/M
    models = cli("models", "--limit", "40", cwd=tmp_path)
    assert models.code == 0 and not re.search(r"\$0\.0+(?![\d.])", models.out)


# ---- schema --check, SARIF, check --fix ----


def test_schema_check_outside_a_checkout_says_the_files_are_missing(cli, tmp_path):
    result = cli("schema", "--check", cwd=tmp_path)
    assert result.code == 1 and "out of date" not in result.err
    assert result.err.startswith("schemas missing: there is no schemas/ folder here, so all ")
    assert cli("schema", "--out", "s", cwd=tmp_path).code == 0
    (tmp_path / "s" / "evals.suite.schema.json").unlink()
    (tmp_path / "s" / "promptwise.config.schema.json").write_text("{}\n")
    result = cli("schema", "--check", "--out", "s", cwd=tmp_path)
    assert result.code == 1
    assert "schemas missing from s/: evals.suite.schema.json; run 'promptwise schema'" in result.err
    assert "schemas out of date: promptwise.config.schema.json" in result.err


def test_sarif_locations_are_relative_to_srcroot(cli, tmp_path):
    (tmp_path / "promptwise.toml").write_text("warn_att = 0.5\n")
    (tmp_path / "typo.prompty").write_text(TYPO)
    run = json.loads(cli("check", ".", "--format", "sarif", cwd=tmp_path).out)["runs"][0]
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.resolve().as_uri() + "/"}} or run["originalUriBaseIds"] == {
        "%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}
    }
    artifacts = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    assert {"uri": "typo.prompty", "uriBaseId": "%SRCROOT%"} in artifacts
    assert {"uri": "promptwise.toml", "uriBaseId": "%SRCROOT%"} in artifacts
    assert all(a.get("uriBaseId") == "%SRCROOT%" for a in artifacts)


PARAGRAPH = "Always answer in plain English and keep every answer short, clear and kind."


def test_check_fix_removes_a_heading_its_trim_empties_and_keeps_the_others(cli, tmp_path):
    text = (
        f"# Guide\n\n{PARAGRAPH}\n\n# Part\n\n## Again\n\n{PARAGRAPH}\n\n# Next\n\nSay thanks.\n\n"
        f"## Left empty by its author\n\n## Tail\n\n{PARAGRAPH}\n\n```\n## Fenced\n```\n"
    )
    (tmp_path / "AGENTS.md").write_text(text)
    result = cli("check", "--fix", ".", cwd=tmp_path)
    assert "AGENTS.md: Remove 2 duplicated paragraphs" in result.out
    assert (tmp_path / "AGENTS.md").read_text() == (
        f"# Guide\n\n{PARAGRAPH}\n\n# Next\n\nSay thanks.\n\n## Left empty by its author\n\n## Tail\n\n```\n## Fenced\n```\n"
    )


def test_check_fix_at_the_end_of_the_text_takes_the_emptied_heading_with_it(cli, tmp_path):
    (tmp_path / "AGENTS.md").write_text(f"# Guide\n\n{PARAGRAPH}\n\n## Again\n\n{PARAGRAPH}\n")
    cli("check", "--fix", ".", cwd=tmp_path)
    assert (tmp_path / "AGENTS.md").read_text() == f"# Guide\n\n{PARAGRAPH}\n"


def test_an_unknown_promptwise_frontmatter_key_gets_a_did_you_mean():
    from promptwise.formats.frontmatter import unknown_key_hint
    from promptwise.formats.schema import DotpromptFrontmatter, PromptyFrontmatter

    assert unknown_key_hint(PromptyFrontmatter, ["promptwise", "budgett"]) == "; did you mean 'budget'?"
    assert unknown_key_hint(DotpromptFrontmatter, ["promptwise", "expected_output"]) == "; did you mean 'expected_output_tokens'?"
    assert unknown_key_hint(PromptyFrontmatter, ["promptwise", "zzz"]) == ""


def test_an_unknown_key_under_promptwise_gets_a_did_you_mean(tmp_path):
    from promptwise.analysis import analyze_file
    from promptwise.config import load_config

    path = tmp_path / "a.prompty"
    path.write_text("---\nname: x\nmodel:\n  id: gpt-4o\npromptwise:\n  budgett: 100\n---\nsystem:\nhi\n", encoding="utf-8")
    analysis = analyze_file(path, load_config(path))
    (found,) = [f for f in analysis.findings if f.code == "invalid-frontmatter"]
    assert found.message.endswith("'promptwise.budgett': Extra inputs are not permitted; did you mean 'budget'?")
    assert analysis.document.text[found.span.start : found.span.end] == "budgett"
