"""Cheaper-model suggestions (`promptwise.routing`): filters, providers, reasons, evidence, and the edit in each format's syntax.

The acme models that support reasoning and name no default effort are priced at medium effort, 3,000
reasoning tokens assumed per call (pricing/reasoning.py); acme-chat does not reason, so it is the cheapest
call for a prompt that does not ask for reasoning."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from promptwise.analysis import Analysis, analyze, analyze_text
from promptwise.catalog import Catalog, ModelCard
from promptwise.config import load_config
from promptwise.fixes import apply_edits
from promptwise.fixes.edits import money
from promptwise.routing import Suggestions, allowed_providers, suggest_models
from promptwise.formats import Format, parse_document

TODAY = date(2026, 12, 1)  # the date tests/conftest.py pins for catalog.today()
REASONING = 3000  # assumed at medium effort
FIRST = "acme-chat"  # the cheapest call for TRIAGE: no reasoning tokens

TRIAGE = """---
name: Support Ticket Triage
description: Classifies an inbound support ticket and drafts a first reply.
model: acme-pro
inputs:
  ticket_body:
    type: string
    sample: The leg column of my standing desk arrived dented. Order NW-204881.
---
system:
You are the first-line support assistant for Northwind Home. Read the ticket, decide its
category (damage, return, billing, shipping, other) and draft a warm, brief reply.

user:
{{ticket_body}}
"""

TOOLS = """tools:
  - name: lookup_order
    kind: function
    description: Fetch the status, items and payments of one order.
    parameters:
      type: object
      properties:
        order_id:
          type: string
          description: The order number, e.g. NW-204881.
      required:
        - order_id
"""


def suggest(project, name: str, **kw) -> tuple[Analysis, Suggestions]:
    analysis, config = project.analyze(name)
    kw.setdefault("today", TODAY)
    return analysis, suggest_models(analysis, config, **kw)


def names(found: Suggestions) -> list[str]:
    return [c.model for c in found.candidates]


def assert_written_and_priced(path: Path, analysis: Analysis, found: Suggestions) -> None:
    """Each edit switches the file to the candidate, and the price in the title is the price after the switch."""
    config = load_config(path)
    for c in found.candidates:
        assert c.edits, c.title
        after = analyze_text(path, apply_edits(analysis.document.text, c.edits), config)
        assert isinstance(after, Analysis)
        assert after.card is not None and after.card.name == c.card.name
        assert after.cost_per_call == c.cost_per_call
        assert after.prompt_tokens == c.prompt_tokens
        percent = round((analysis.cost_per_call - after.cost_per_call) / analysis.cost_per_call * 100)
        assert c.title.startswith(
            f"Switch to {c.model} (-{percent}% per call: {money(analysis.cost_per_call)} -> {money(after.cost_per_call)})"
        )


# ---- choosing candidates ----


def test_cheapest_candidates_first_each_with_its_saving(acme):
    path = acme.write("triage.prompty", TRIAGE)
    analysis, found = suggest(acme, "triage.prompty")
    # Ranked by the full cost: acme-chat spends no reasoning tokens, so it is cheaper than acme-nano.
    assert names(found) == ["acme-chat", "acme-nano", "acme-flash"]
    tokens = analysis.prompt_tokens
    chat, nano = found.candidates[:2]
    assert chat.cost_per_call == pytest.approx(tokens * 0.4e-6 + 500 * 1.6e-6)
    assert nano.cost_per_call == pytest.approx(tokens * 0.1e-6 + (500 + REASONING) * 0.4e-6)
    assert found.current_cost == pytest.approx(tokens * 10e-6 + (500 + REASONING) * 40e-6)
    assert chat.title == (
        f"Switch to acme-chat (-{round(chat.saving_share * 100)}% per call: "
        f"{money(found.current_cost)} -> {money(chat.cost_per_call)})"
    )
    assert found.reason.startswith(f"3 cheaper models from acme fit this prompt ({tokens:,} prompt tokens + 500 reserved")
    assert any("acme: the current provider" == r for r in nano.reasons)
    assert chat.caveats == [f"does not reason, where acme-pro spends {REASONING:,} reasoning tokens a call (assumed): compare answers in evals"]
    assert_written_and_priced(path, analysis, found)


@pytest.mark.parametrize(
    "change, needs, ruled_out, reason",
    [
        (lambda t: t.replace("inputs:", TOOLS + "inputs:"), ["tools"], "acme-nano", "no tools (function calling)"),
        (
            # A v2 image input: Prompty 2 sends it as an image part (a Markdown image is just text there).
            lambda t: t.replace("inputs:\n", "inputs:\n  photo:\n    kind: image\n    sample: damage.jpg\n").replace(
                "{{ticket_body}}\n", "{{ticket_body}}\n\n{{photo}}\n"
            ),
            ["vision"],
            "acme-flash",
            "no vision (images)",
        ),
        (
            lambda t: t.replace("model: acme-pro\n", "model:\n  id: acme-pro\n  parameters:\n    response_format:\n      type: json_object\n"),
            ["json"],
            "acme-lite",
            "no response schema (JSON output)",
        ),
        (
            lambda t: t.replace("model: acme-pro\n", "model:\n  id: acme-pro\n  parameters:\n    reasoning_effort: low\n"),
            ["reasoning"],
            "acme-chat",
            "no reasoning",
        ),
    ],
    ids=["tools", "vision", "json", "reasoning"],
)
def test_candidates_support_what_the_prompt_uses(acme, change, needs, ruled_out, reason):
    path = acme.write("triage.prompty", change(TRIAGE))
    analysis, found = suggest(acme, "triage.prompty", limit=10)
    assert found.requirements == needs
    assert ruled_out not in names(found)
    assert {e.model: e.reason for e in found.excluded}[ruled_out] == reason
    for c in found.candidates:
        assert set(needs) <= c.card.supports
    assert_written_and_priced(path, analysis, found)


def test_candidates_allow_the_files_max_output(acme):
    text = TRIAGE.replace("model: acme-pro\n", "model:\n  id: acme-pro\n  parameters:\n    max_tokens: 4000\n")
    acme.write("triage.prompty", text)
    _analysis, found = suggest(acme, "triage.prompty", limit=10)
    assert found.reserved_output == 4000
    assert "acme-short" not in names(found)
    assert {e.model: e.reason for e in found.excluded}["acme-short"] == "max output 1,000 < the file's 4,000"


def test_a_prompt_that_fits_no_cheaper_model_gets_no_suggestion_and_a_reason(make_project, acme_models, examples):
    small = acme_models.replace("context_window = 128000", "context_window = 3000")
    project = make_project('allowed_providers = ["acme"]\nexpected_output_tokens = 500\n' + small)
    text = (examples / "legal/contract-review.prompty").read_text(encoding="utf-8").replace("model: gpt-4o\n", "model: acme-pro\n")
    project.write("contract-review.prompty", text)
    analysis, found = suggest(project, "contract-review.prompty")
    assert found.candidates == []
    assert analysis.prompt_tokens + 500 > 3000
    assert found.reason == (
        f"no cheaper model from acme fits this prompt ({analysis.prompt_tokens:,} prompt tokens + 500 reserved for output): "
        "of 6 cheaper models, 6 have too small a context window"
    )
    assert all(e.reason.startswith("context window 3,000 < ") for e in found.excluded)


def test_the_cheapest_model_gets_no_suggestion_and_says_so(acme):
    acme.write("triage.prompty", TRIAGE.replace("model: acme-pro", "model: acme-chat"))
    _analysis, found = suggest(acme, "triage.prompty")
    assert found.candidates == []
    assert found.reason.startswith("no cheaper model from acme (allowed_providers in promptwise.toml): acme-chat is already the cheapest")


def test_unknown_current_model_gets_no_suggestion(acme):
    acme.write("triage.prompty", TRIAGE.replace("model: acme-pro", "model: northwind-llm-2"))
    _analysis, found = suggest(acme, "triage.prompty")
    assert found.candidates == []
    assert found.card is None
    assert found.reason.startswith("unknown model 'northwind-llm-2'")


# ---- providers ----


def test_default_providers_are_the_current_one_plus_those_with_an_api_key(acme):
    config = load_config(acme.root / "promptwise.toml")
    config.settings.allowed_providers = None
    environ = {"OPENAI_API_KEY": "sk-test", "GOOGLE_API_KEY": "g-test", "MISTRAL_API_KEY": "", "GROQ_API_KEY": "gq"}
    providers, source = allowed_providers(config, "acme", environ)
    assert providers == ["acme", "gemini", "groq", "openai"]
    assert source == "acme: the current model's provider; openai: OPENAI_API_KEY is set; gemini: GOOGLE_API_KEY is set; groq: GROQ_API_KEY is set"
    assert allowed_providers(config, "azure_openai", {})[0] == ["azure"]


def test_an_api_key_in_the_environment_allows_its_provider(make_project, acme_models, monkeypatch):
    project = make_project('expected_output_tokens = 500\n' + acme_models)
    project.write("triage.prompt.md", "---\nmodel: acme-pro\n---\n" + TRIAGE.split("system:\n", 1)[1].split("\nuser:")[0] + "\n")
    _analysis, found = suggest(project, "triage.prompt.md", limit=10)
    assert found.providers == ["acme"]
    assert {c.card.provider for c in found.candidates} == {"acme"}

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    _analysis, found = suggest(project, "triage.prompt.md", limit=10)
    assert found.providers == ["acme", "anthropic"]
    assert "anthropic: ANTHROPIC_API_KEY is set" in found.providers_source
    assert {c.card.provider for c in found.candidates} == {"acme", "anthropic"}
    claude = next(c for c in found.candidates if c.card.provider == "anthropic")
    assert "anthropic: ANTHROPIC_API_KEY is set" in claude.reasons


def test_config_allowed_providers_replace_the_default(make_project, acme_models, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    project = make_project('allowed_providers = ["anthropic"]\nexpected_output_tokens = 500\n' + acme_models)
    project.write("triage.prompt.md", "---\nmodel: acme-pro\n---\nReply to the customer in two sentences.\n")
    _analysis, found = suggest(project, "triage.prompt.md", limit=10)
    assert found.providers == ["anthropic"]
    assert found.candidates and {c.card.provider for c in found.candidates} == {"anthropic"}


def test_a_prompty_connection_keeps_its_provider(make_project, acme_models):
    project = make_project('allowed_providers = ["acme", "anthropic"]\nexpected_output_tokens = 500\n' + acme_models)
    project.write("triage.prompty", TRIAGE)
    _analysis, found = suggest(project, "triage.prompty", limit=20)
    assert {c.card.provider for c in found.candidates} == {"acme"}
    claude = [e for e in found.excluded if e.model.startswith("claude")]
    assert claude and all(
        e.reason == "cannot be written in this file: another provider (anthropic) needs a new connection in the Prompty model section"
        for e in claude
    )


# ---- the catalog: deprecated, duplicates, fine-tunes, regions ----


def _card(name: str, price: float, **kw) -> ModelCard:
    return ModelCard(
        name=name,
        provider=kw.pop("provider", "acme"),
        input_cost_per_token=price / 1e6,
        output_cost_per_token=4 * price / 1e6,
        context_window=128000,
        max_output_tokens=16000,
        supports=frozenset({"tools", "vision", "json"}),
        tokenizer="o200k_base",
        **kw,
    )


def test_deprecated_fine_tuned_regional_and_dated_entries_are_not_suggested(acme):
    cards = [
        _card("acme-pro", 10),
        _card("acme-mini", 0.5),
        _card("acme-mini-2025-06-01", 0.5),
        _card("acme-mini-latest", 0.5),
        _card("ft:acme-mini", 0.6),
        _card("acme/eu/acme-mini", 0.55),
        _card("acme-mini-audio-preview", 0.2),
        _card("acme-old", 0.1, deprecation_date="2026-06-30"),
        _card("acme-sunset", 0.3, deprecation_date="2027-03-01"),
        _card("acme-embed-3", 0.01, mode="embedding"),
    ]
    catalog = Catalog({c.name: c for c in cards})
    path = acme.write("triage.prompty", TRIAGE)
    config = load_config(path)
    analysis = analyze(parse_document(path, TRIAGE, Format.PROMPTY), config, catalog)
    found = suggest_models(analysis, config, catalog, today=TODAY, limit=10)
    assert names(found) == ["acme-sunset", "acme-mini"]
    assert "retires on 2027-03-01 (in 90 days)" in found.candidates[0].caveats  # 90 days left is not too soon
    assert found.skipped == {
        "snapshots and aliases": 2,
        "fine-tunes": 1,
        "regional deployments": 1,
        "special-purpose models": 1,
        "deprecated": 1,
    }
    soon = suggest_models(analysis, config, catalog, today=date(2026, 12, 2), limit=10)
    assert names(soon) == ["acme-mini"]
    assert {e.model: e.reason for e in soon.excluded} == {"acme-sunset": "retires on 2027-03-01 (in 89 days)"}
    later = suggest_models(analysis, config, catalog, today=date(2027, 3, 2), limit=10)
    assert names(later) == ["acme-mini"]


def test_real_catalog_skips_models_deprecated_by_today(examples):
    path = examples / "support/triage.prompty"
    config = load_config(path)
    analysis = analyze_text(path, path.read_text(encoding="utf-8"), config)
    now = suggest_models(analysis, config, today=TODAY, limit=50)
    later = suggest_models(analysis, config, today=date(2030, 1, 1), limit=50)
    for found, day in ((now, TODAY), (later, date(2030, 1, 1))):
        for c in found.candidates:
            assert c.card.deprecation_date is None or date.fromisoformat(c.card.deprecation_date[:10]) >= day
            assert not c.card.name.startswith("ft:")
            assert not re.search(r"-\d{4}-\d{2}-\d{2}$", c.card.name)
    assert len(later.candidates) < len(now.candidates)


# ---- written back in the file's own syntax ----


def first(found: Suggestions):
    assert found.candidates, found.reason
    return found.candidates[0]


@pytest.mark.parametrize(
    "before, after",
    [
        ("model: acme-pro\n", "model: acme-chat\n"),
        ('model: "acme-pro"\n', 'model: "acme-chat"\n'),
        ("model:\n  id: acme-pro\n  provider: acme\n  options:\n    temperature: 0.2\n", "model:\n  id: acme-chat\n  provider: acme\n  options:\n    temperature: 0.2\n"),
        (
            "model:\n  api: chat\n  configuration:\n    type: azure_openai\n    azure_deployment: acme-pro\n  parameters:\n    temperature: 0.2\n",
            "model:\n  api: chat\n  configuration:\n    type: azure_openai\n    azure_deployment: acme-chat\n  parameters:\n    temperature: 0.2\n",
        ),
        (
            "model: gpt-4o\npromptwise:\n  model: acme-pro\n",
            "model: gpt-4o\npromptwise:\n  model: acme-chat\n",
        ),
    ],
    ids=["string", "quoted", "mapping-id", "v1-azure-deployment", "promptwise-model"],
)
def test_prompty_model_is_rewritten_in_place(acme, before, after):
    text = TRIAGE.replace("model: acme-pro\n", before)
    path = acme.write("triage.prompty", text)
    analysis, found = suggest(acme, "triage.prompty")
    c = first(found)
    assert c.model == "acme-chat"
    assert apply_edits(text, c.edits) == TRIAGE.replace("model: acme-pro\n", after)
    if "azure_deployment" in before:
        assert "assumes an Azure deployment named acme-chat" in c.caveats
    assert_written_and_priced(path, analysis, found)


def test_dotprompt_keeps_the_files_provider_prefix(examples):
    path = examples / "dotprompt/review.prompt"
    config = load_config(path)
    analysis = analyze_text(path, path.read_text(encoding="utf-8"), config)
    found = suggest_models(analysis, config, today=TODAY)
    assert found.requirements == ["json"]
    text = analysis.document.text
    for c in found.candidates:
        assert c.model == "openai/" + c.card.name
        assert apply_edits(text, c.edits) == text.replace("model: openai/gpt-4.1-mini\n", f"model: {c.model}\n", 1)
        assert "json" in c.card.supports
    assert_written_and_priced(path, analysis, found)


def test_dotprompt_uses_the_genkit_prefix_for_another_provider(tmp_path, make_project, examples):
    for name in ("review.prompt", "_persona.prompt", "_style_rules.prompt"):
        shutil.copy(examples / "dotprompt" / name, tmp_path / name)
    # Gemini's thinking models would spend the file's maxOutputTokens (1,200) on the 3,000 reasoning tokens
    # assumed at medium effort; a measured-looking figure in [reasoning] lets them qualify.
    project = make_project('allowed_providers = ["gemini"]\nexpected_output_tokens = 600\n[reasoning]\nmedium = 400\n')
    analysis, found = suggest(project, "review.prompt")
    assert found.candidates, found.reason
    for c in found.candidates:
        assert c.card.provider == "gemini"
        assert c.model == "googleai/" + c.card.name.split("/", 1)[1]
    assert_written_and_priced(tmp_path / "review.prompt", analysis, found)


def test_instructions_model_follows_the_files_spelling(examples):
    path = examples / ".github/prompts/release-notes.prompt.md"
    config = load_config(path)
    analysis = analyze_text(path, path.read_text(encoding="utf-8"), config)
    found = suggest_models(analysis, config, today=TODAY)
    text = analysis.document.text
    for c in found.candidates:
        if c.card.name.startswith("gpt-"):
            assert c.model == "GPT-" + c.card.name[4:]
        assert apply_edits(text, c.edits) == text.replace(f"model: {analysis.model}\n", f"model: {c.model}\n", 1)
    assert_written_and_priced(path, analysis, found)


def test_instructions_file_gets_a_model_line_in_its_frontmatter(acme):
    text = '---\napplyTo: "services/**/*.py"\ndescription: Review rules for Python services.\n---\n# Reviews\n\nFlag money arithmetic done with floats.\n'
    path = acme.write(".github/instructions/review.instructions.md", text)
    analysis, found = suggest(acme, ".github/instructions/review.instructions.md")
    c = first(found)
    assert apply_edits(text, c.edits) == text.replace("Python services.\n---\n", "Python services.\nmodel: acme-chat\n---\n")
    assert_written_and_priced(path, analysis, found)


def test_prompt_file_without_frontmatter_gets_one(acme):
    text = "Summarize the open incidents for the weekly ops review in five bullet points.\n"
    path = acme.write(".github/prompts/ops-review.prompt.md", text, newline="\r\n")
    analysis, found = suggest(acme, ".github/prompts/ops-review.prompt.md")
    c = first(found)
    assert apply_edits(analysis.document.text, c.edits) == "---\r\nmodel: acme-chat\r\n---\r\n" + text.replace("\n", "\r\n")
    assert_written_and_priced(path, analysis, found)


def test_agents_md_has_no_model_setting_so_no_edit(acme):
    acme.write("AGENTS.md", "# Agents\n\nRun `make check` before you ask for review.\n")
    _analysis, found = suggest(acme, "AGENTS.md")
    c = first(found)
    assert c.edits == []
    assert c.edit_note.startswith("AGENTS.md has no model setting; it is priced with default_model from config")


# ---- evidence ----


def test_eval_results_are_shown_and_fewer_passes_labelled(acme):
    acme.write("triage.prompty", TRIAGE)
    results = {"acme-pro": (9, 10), "acme-chat": (6, 10), "acme-nano": (9, 10)}
    _analysis, found = suggest(acme, "triage.prompty", eval_results=results)
    chat, nano, flash = found.candidates
    assert chat.title.endswith("; evals 6/10 vs 9/10, passes fewer eval cases")
    assert chat.fewer_passes and chat.caveats[0] == "passes fewer eval cases than the current model"
    assert nano.title.endswith("; evals 9/10 vs 9/10") and not nano.fewer_passes
    assert "evals" not in flash.title and flash.pass_rate is None
    assert found.current_pass_rate == (9, 10)
    table = found.comparison()
    assert [(r["model"], r["pass_rate"]) for r in table] == [
        ("acme-pro", (9, 10)),
        ("acme-chat", (6, 10)),
        ("acme-nano", (9, 10)),
        ("acme-flash", None),
    ]
    assert table[0]["current"] and table[1]["context_window"] == 128000
    assert found.to_json()["candidates"][0]["passes_fewer_eval_cases"] is True
