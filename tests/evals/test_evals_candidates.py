"""Candidate models for --cheapest: cheaper, fitting, capable, from allowed providers; and where models are called."""

from __future__ import annotations

from pathlib import Path

from promptwise.analysis import analyze_file, catalog_for
from promptwise.config import load_config
from promptwise.evals import candidate_models
from promptwise.evals.calls import resolve_target

PROMPT = """---
model:
  id: gpt-4o
  parameters:
    max_tokens: 300
---
system:
Classify the ticket.

user:
{{ticket}}
"""

WITH_TOOLS = PROMPT.replace(
    "---\nsystem:",
    "tools:\n  - name: lookup_order\n    description: Fetch an order.\n"
    "    parameters: {type: object, properties: {id: {type: string}}}\n---\nsystem:",
)


def candidates(tmp_path: Path, prompt: str, config: str = 'allowed_providers = ["openai"]\n', limit: int = 50):
    (tmp_path / "promptwise.toml").write_text(config)
    path = tmp_path / "p.prompty"
    path.write_text(prompt)
    loaded = load_config(path)
    analysis = analyze_file(path, loaded)
    return analysis, candidate_models(analysis, loaded, limit)


def test_candidates_are_cheaper_and_sorted(tmp_path):
    analysis, found = candidates(tmp_path, PROMPT)
    assert found, "gpt-4o has cheaper OpenAI models"
    costs = [c.cost_per_call for c in found]
    assert costs == sorted(costs) and all(c < analysis.cost_per_call for c in costs)
    assert all(c.card.provider == "openai" and c.card.mode in ("chat", "responses") for c in found)
    assert all(abs(c.saving_per_call - (analysis.cost_per_call - c.cost_per_call)) < 1e-12 for c in found)
    names = [c.model for c in found]
    assert "gpt-4o" not in names and not any(n.startswith("ft:") or "audio" in n or "search" in n for n in names)
    # One entry per price point: dated snapshots collapse into the model's own name.
    assert "gpt-4o-mini" in names and "gpt-4o-mini-2024-07-18" not in names
    assert len(candidate_models(analysis, load_config(tmp_path / "p.prompty"), limit=2)) == 2


def test_candidates_support_what_the_prompt_uses(tmp_path):
    _, plain = candidates(tmp_path, PROMPT)
    _, tooled = candidates(tmp_path, WITH_TOOLS)
    assert tooled and all("tools" in c.card.supports for c in tooled)
    assert {c.model for c in tooled} <= {c.model for c in plain}


def test_candidates_fit_the_context_window(tmp_path):
    big = PROMPT.replace("Classify the ticket.", "word " * 20000)
    analysis, found = candidates(tmp_path, big)
    assert all(c.card.context_window >= analysis.prompt_tokens + analysis.expected_output_tokens for c in found)
    assert "gpt-3.5-turbo" not in [c.model for c in found]  # 16k window


def test_candidates_come_from_allowed_providers(tmp_path, monkeypatch):
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY", "MISTRAL_API_KEY", "GROQ_API_KEY", "DEEPSEEK_API_KEY", "XAI_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    _, found = candidates(tmp_path, PROMPT, config="")
    assert {c.card.provider for c in found} == {"openai"}  # the current provider only
    monkeypatch.setenv("GEMINI_API_KEY", "x")
    _, found = candidates(tmp_path, PROMPT, config="")
    assert {c.card.provider for c in found} >= {"openai", "gemini"}
    _, found = candidates(tmp_path, PROMPT, config='allowed_providers = ["anthropic"]\n')
    assert found and {c.card.provider for c in found} == {"anthropic"}


def test_no_candidates_without_a_price(tmp_path):
    _, found = candidates(tmp_path, PROMPT.replace("gpt-4o", "my-private-model"))
    assert found == []


def test_where_models_are_called(tmp_path, monkeypatch):
    (tmp_path / "promptwise.toml").write_text(
        """
[models."llama3.1"]
api_base = "http://127.0.0.1:11434/v1"
api_key_env = "OLLAMA_KEY"
[models."prod-4o"]
litellm_model = "azure/prod-4o"
api_base = "https://example.invalid"
"""
    )
    config = load_config(tmp_path)
    catalog = catalog_for(config)
    local = resolve_target("llama3.1", config, catalog)
    assert (local.model, local.api_base, local.api_key_env) == ("openai/llama3.1", "http://127.0.0.1:11434/v1", "OLLAMA_KEY")
    monkeypatch.delenv("OLLAMA_KEY", raising=False)
    assert local.missing_key() == "environment variable OLLAMA_KEY (api_key_env for llama3.1) is not set"
    assert resolve_target("prod-4o", config, catalog).model == "azure/prod-4o"
    direct = resolve_target("googleai/gemini-2.5-flash", config, catalog)  # a Dotprompt spelling
    assert direct.model == "gemini/gemini-2.5-flash" and direct.api_base is None
    (tmp_path / "promptwise.toml").write_text('[evals]\napi_base = "http://127.0.0.1:4000"\napi_key_env = "PROXY_KEY"\n')
    proxied = resolve_target("gpt-4o-mini", load_config(tmp_path), catalog)
    assert (proxied.model, proxied.api_base, proxied.api_key_env) == ("litellm_proxy/gpt-4o-mini", "http://127.0.0.1:4000", "PROXY_KEY")
    assert proxied.card is not None and proxied.card.name == "gpt-4o-mini"  # still priced from the catalog
