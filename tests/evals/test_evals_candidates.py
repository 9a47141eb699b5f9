"""Which cheaper models --cheapest tries (the ones the editor suggests: allowed providers, capabilities,
context fit), in what order and how many; and where models are called."""

from __future__ import annotations

import pytest
from fake_server import last_user_text

from promptwise.analysis import analyze_file, catalog_for
from promptwise.config import load_config
from promptwise.evals import RunOptions, find_cheapest, load_suite, run_suite
from promptwise.evals.calls import resolve_target
from promptwise.routing import KEY_ENV, suggest_models

# Made-up models, so what is tried does not move when litellm's price map does. Against acme-pro
# (the current model), cheapest first: rival-tiny is from another provider, acme-nano has no
# function calling, acme-small cannot hold the prompt; acme-lite and acme-mini qualify.
MODELS = """
[models.acme-pro]
provider = "acme"
input_cost_per_million = 10.0
output_cost_per_million = 40.0
context_window = 200000
supports = ["tools"]
tokenizer = "o200k_base"

[models.rival-tiny]
provider = "rival"
input_cost_per_million = 0.05
output_cost_per_million = 0.2
context_window = 128000
supports = ["tools"]
tokenizer = "o200k_base"

[models.acme-nano]
provider = "acme"
input_cost_per_million = 0.1
output_cost_per_million = 0.4
context_window = 128000
supports = []
tokenizer = "o200k_base"

[models.acme-small]
provider = "acme"
input_cost_per_million = 0.2
output_cost_per_million = 0.8
context_window = 1000
supports = ["tools"]
tokenizer = "o200k_base"

[models.acme-lite]
provider = "acme"
input_cost_per_million = 0.3
output_cost_per_million = 1.2
context_window = 128000
supports = ["tools"]
tokenizer = "o200k_base"

[models.acme-mini]
provider = "acme"
input_cost_per_million = 0.5
output_cost_per_million = 2.0
context_window = 128000
supports = ["tools"]
tokenizer = "o200k_base"
"""

# No model of its own: priced and run with default_model, so a model from any provider can be suggested.
POLICY = " ".join(f"Rule {i}: answer politely, cite the order number and never promise a refund date." for i in range(60))
PROMPT = f"""---
name: Ticket triage
tools:
  - name: lookup_order
    description: Fetch an order.
    parameters: {{type: object, properties: {{id: {{type: string}}}}}}
---
system:
Classify the ticket as damage, billing or shipping. {POLICY}

user:
{{{{ticket}}}}
"""

SUITE = """
prompt: triage.prompty
cases:
  - name: dented
    vars: {ticket: The desk leg arrived dented}
    assert: [{type: contains, value: damage}]
  - name: charged twice
    vars: {ticket: I was charged twice}
    assert: [{type: contains, value: billing}]
"""


def settings(providers: str | None = '["acme"]') -> str:
    allowed = f"allowed_providers = {providers}\n" if providers is not None else ""
    head = f'default_model = "acme-pro"\nexpected_output_tokens = 200\n{allowed}'
    return head + "\n[evals]\nretries = 0\ntimeout = 5\n" + MODELS


def answers_right(*models: str):
    def reply(body):
        if body["model"] not in models:
            return "not sure"
        return "damage" if "dented" in last_user_text(body) else "billing"

    return reply


@pytest.fixture
def triage(project):
    project.write("triage.prompty", PROMPT)
    project.suite(SUITE)
    return project


def configure(project, providers: str | None = '["acme"]') -> None:
    project.write("promptwise.toml", settings(providers))


async def cheapest(project, limit: int = 5, models: list[str] | None = None):
    suite = load_suite(project.root / "triage.evals.yaml")
    options = RunOptions(models=models)
    baseline = await run_suite(suite, options)
    return await find_cheapest(suite, baseline, options, limit=limit)


def called(project) -> list[str]:
    return list(dict.fromkeys(c.body["model"] for c in project.server.calls()))


async def test_tries_the_editors_suggestions_cheapest_first(triage):
    configure(triage)
    triage.server.reply(None, answers_right("acme-pro", "acme-mini"))
    found = await cheapest(triage)
    assert found is not None and found.current == "acme-pro" and found.current_passed == 2
    # Not rival-tiny (provider not allowed), acme-nano (no function calling for the prompt's tool)
    # or acme-small (1,000-token window for a longer prompt plus 200 output tokens).
    assert [t.model for t in found.tried] == ["acme-lite", "acme-mini"]
    assert found.tried[0].verdict == "passes 0/2, fewer than acme-pro's 2"
    assert found.chosen == "acme-mini"
    assert called(triage) == ["acme-pro", "acme-lite", "acme-mini"]
    # The same models, in the same order, as the "Switch to" actions and `promptwise suggest`.
    prompt = triage.root / "triage.prompty"
    config = load_config(prompt)
    suggested = suggest_models(analyze_file(prompt, config), config, limit=5)
    assert [c.card.name for c in suggested.candidates] == ["acme-lite", "acme-mini"]
    assert [t.estimated_cost_per_call for t in found.tried] == [c.cost_per_call for c in suggested.candidates]
    why = {e.model: e.reason for e in suggested.excluded}
    assert why["acme-nano"] == "no tools (function calling)"
    assert why["acme-small"].startswith("context window 1,000 < ")


async def test_allowed_providers_decide_what_is_tried(triage, monkeypatch):
    for names in KEY_ENV.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    triage.server.reply(None, answers_right("acme-pro", "acme-lite", "rival-tiny"))
    configure(triage, providers='["acme", "rival"]')
    found = await cheapest(triage)
    assert [t.model for t in found.tried] == ["rival-tiny"] and found.chosen == "rival-tiny"
    # Without allowed_providers: the current model's provider, plus providers whose API key is set.
    configure(triage, providers=None)
    found = await cheapest(triage)
    assert [t.model for t in found.tried] == ["acme-lite"] and found.chosen == "acme-lite"


async def test_limit_caps_the_models_tried(triage):
    configure(triage)
    triage.server.reply(None, answers_right("acme-pro"))
    found = await cheapest(triage, limit=1)
    assert [t.model for t in found.tried] == ["acme-lite"] and found.chosen is None
    assert found.note == "none of the 1 cheaper model(s) tried passes as many cases as acme-pro"


async def test_says_why_nothing_cheaper_fits(triage):
    configure(triage)
    triage.server.reply(None, answers_right("acme-lite"))
    # From acme-lite only acme-nano and acme-small are cheaper, and neither fits: nothing is tried.
    found = await cheapest(triage, models=["acme-lite"])
    assert found.tried == [] and found.chosen is None
    assert found.note.startswith("no cheaper model from acme fits this prompt (")
    assert found.note.endswith("it needs tools (function calling)): of 2 cheaper models, 1 lack tools (function calling), 1 have too small a context window")
    assert called(triage) == ["acme-lite"]


async def test_no_candidates_without_a_price(triage):
    configure(triage)
    triage.server.reply(None, answers_right("my-private-model"))
    found = await cheapest(triage, models=["my-private-model"])
    assert found.tried == [] and "not in the catalog" in found.note


def test_where_models_are_called(tmp_path, monkeypatch, user_config):
    routes = """
[models."llama3.1"]
api_base = "http://127.0.0.1:11434/v1"
api_key_env = "OLLAMA_KEY"
[models."prod-4o"]
litellm_model = "azure/prod-4o"
api_base = "https://example.invalid"
"""
    user_config.write(routes)
    (tmp_path / "promptwise.toml").write_text('[models."llama3.1"]\ncontext_window = 8000\n')
    config = load_config(tmp_path)
    catalog = catalog_for(config)
    local = resolve_target("llama3.1", config, catalog)
    assert (local.model, local.api_base, local.api_key_env) == ("openai/llama3.1", "http://127.0.0.1:11434/v1", "OLLAMA_KEY")
    assert local.source.endswith('config.toml [models."llama3.1"]')
    monkeypatch.delenv("OLLAMA_KEY", raising=False)
    assert local.missing_key() == "environment variable OLLAMA_KEY (api_key_env for llama3.1) is not set"
    assert resolve_target("prod-4o", config, catalog).model == "azure/prod-4o"
    direct = resolve_target("googleai/gemini-2.5-flash", config, catalog)  # a Dotprompt spelling
    assert direct.model == "gemini/gemini-2.5-flash" and direct.api_base is None
    user_config.write('[evals]\napi_base = "http://127.0.0.1:4000"\napi_key_env = "PROXY_KEY"\n')
    proxied = resolve_target("gpt-4o-mini", load_config(tmp_path), catalog)
    assert (proxied.model, proxied.api_base, proxied.api_key_env) == ("litellm_proxy/gpt-4o-mini", "http://127.0.0.1:4000", "PROXY_KEY")
    assert proxied.card is not None and proxied.card.name == "gpt-4o-mini"  # still priced from the catalog
