"""Exact means exact: a count is exact only when both the text and the counting rule are the provider's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptwise.analysis import Analysis, analyze, analyze_file, suggest_model
from promptwise.catalog import Catalog
from promptwise.config import load_config
from promptwise.formats import Format, Message, PromptDocument
from promptwise.text import Span
from promptwise.tokens import tokenizer_for


def analyzed(path: Path) -> Analysis:
    result = analyze_file(path)
    assert isinstance(result, Analysis), result
    return result


def prompty(tmp_path: Path, model: str, body: str = "system:\nYou sort support tickets.\n", name: str = "p.prompty") -> Path:
    path = tmp_path / name
    path.write_text(f"---\nmodel:\n  id: {model}\n---\n{body}", encoding="utf-8")
    return path


def document(tmp_path: Path, *messages: Message, model: str = "gpt-4o") -> PromptDocument:
    doc = PromptDocument(path=tmp_path / "doc.txt", format=Format.PLAIN, text="")
    doc.model = model
    doc.messages = list(messages)
    return doc


def message(role: str, content: str, **kw) -> Message:
    return Message(role, Span(0, 0), Span(0, 0), Span(0, 0), content, **kw)


# ---- model names ----


def test_a_known_openai_model_is_exact_with_no_reason(tmp_path):
    a = analyzed(prompty(tmp_path, "gpt-4o-mini"))
    assert a.exact and a.exact_reason is None


@pytest.mark.parametrize("typo", ["gpt-4o-mnii", "gpt-4o-whatever", "gpt-4.1-turbo-preview-x"])
def test_a_name_that_only_starts_like_an_openai_model_is_an_estimate(tmp_path, typo):
    a = analyzed(prompty(tmp_path, typo))
    assert not a.exact
    assert a.tokenizer.encoding == "o200k_base"
    assert a.exact_reason == f"{typo} is not a known model, counted with o200k_base"
    assert any(f.code == "unknown-model" for f in a.findings)


def test_the_unknown_model_finding_suggests_the_closest_catalog_name(tmp_path):
    a = analyzed(prompty(tmp_path, "gpt-4o-mnii"))
    finding = next(f for f in a.findings if f.code == "unknown-model")
    assert finding.message.endswith("did you mean gpt-4o-mini?")
    assert finding.data == {"suggestion": "gpt-4o-mini"}


def test_no_suggestion_when_nothing_is_close(tmp_path):
    a = analyzed(prompty(tmp_path, "my-private-llm-7b"))
    finding = next(f for f in a.findings if f.code == "unknown-model")
    assert "did you mean" not in finding.message and "suggestion" not in finding.data


def test_suggestions_drop_a_provider_prefix_the_catalog_does_not_use():
    catalog = Catalog.bundled()
    assert suggest_model("claude-sonet-4-5", catalog) == "claude-sonnet-4-5"
    assert suggest_model("openai/gpt-4.1-mnii", catalog) == "gpt-4.1-mini"
    assert suggest_model("zzzz", catalog) is None


def test_a_known_model_without_a_published_tokenizer_says_so(tmp_path):
    a = analyzed(prompty(tmp_path, "claude-sonnet-4-5"))
    assert not a.exact and a.tokenizer.encoding == "claude"
    assert a.exact_reason.startswith("the tokenizer for claude-sonnet-4-5 is not published offline")


def test_a_config_model_with_a_declared_openai_encoding_is_exact(tmp_path):
    (tmp_path / "promptwise.toml").write_text(
        '[models."acme-chat"]\nprovider = "openai"\ntokenizer = "cl100k_base"\n'
        'input_cost_per_million = 1.0\noutput_cost_per_million = 2.0\n'
        '[models."acme-claude"]\ntokenizer = "claude"\n',
        encoding="utf-8",
    )
    declared = analyzed(prompty(tmp_path, "acme-chat"))
    assert declared.exact and declared.exact_reason is None and declared.tokenizer.encoding == "cl100k_base"
    assert declared.tokenizer.framing.func_init == 10  # cl100k's tool framing, not o200k's
    approximate = analyzed(prompty(tmp_path, "acme-claude", name="q.prompty"))
    assert not approximate.exact and "acme-claude" in approximate.exact_reason


def test_tokenizer_for_still_picks_the_encoding_from_the_name():
    # The encoding guess is kept for catalog names; exactness of unknown names is decided by analysis.
    assert tokenizer_for("gpt-4o-mini").exact and tokenizer_for("gpt-4o-mini").encoding == "o200k_base"
    assert not tokenizer_for("gemini/gemini-2.5-flash", "gemini").exact


# ---- what the file does not hold ----


def test_images_are_named_in_the_reason(tmp_path):
    # Images of unknown origin count at the worst case of the model's rule (tests/engine/test_images.py).
    a = analyze(document(tmp_path, message("user", "What is this?", images=2)), load_config(tmp_path))
    assert not a.exact and a.exact_reason == "2 images of unknown size counted at OpenAI's tile rule's worst case (2,890 tokens)"


def test_tools_defined_elsewhere_are_an_estimate_with_a_finding_naming_them(tmp_path):
    doc = document(tmp_path, message("system", "Use the tools."))
    doc.uncounted_tools = ["search (mcp)", "petstore (openapi)"]
    a = analyze(doc, load_config(tmp_path))
    assert not a.exact
    assert a.exact_reason == "tools defined outside the file are not counted (search (mcp), petstore (openapi))"
    finding = next(f for f in a.findings if f.code == "tools-not-counted")
    assert finding.severity.value == "info" and "search (mcp)" in finding.message and "petstore (openapi)" in finding.message


def test_tools_named_in_code_are_an_estimate(tmp_path):
    path = tmp_path / "weather.prompt"
    path.write_text("---\nmodel: openai/gpt-4o\ntools: [getWeather]\n---\nWhat is the weather?\n", encoding="utf-8")
    a = analyzed(path)
    assert not a.exact and a.exact_reason == "tools named in code are not counted (getWeather)"


def test_several_reasons_join_with_semicolons(tmp_path):
    doc = document(tmp_path, message("user", "Describe it.", images=1), model="gpt-4o-mnii")
    doc.tool_names = ["lookup"]
    a = analyze(doc, load_config(tmp_path))
    assert a.exact_reason == "gpt-4o-mnii is not a known model, counted with o200k_base; 1 image is not counted; tools named in code are not counted (lookup)"


# ---- messages sent only on use ----


def test_a_skill_body_is_counted_apart_from_the_per_call_tokens(tmp_path):
    always = message("system", "name: release-notes\ndescription: Writes release notes from merged pull requests.")
    body = message("user", "Read the merged pull requests since the last tag, group them by area and write one line each.", on_use=True)
    with_body = analyze(document(tmp_path, always, body), load_config(tmp_path))
    alone = analyze(document(tmp_path, always), load_config(tmp_path))
    assert with_body.prompt_tokens == alone.prompt_tokens
    body_count = with_body.messages[1]
    assert with_body.on_use_tokens == body_count.tokens > 0
    assert alone.on_use_tokens == 0
    assert "the body of a skill or rule" in with_body.exact_reason and alone.exact


# ---- the tool formula ----


def cookbook_tokens(enc, functions: list[dict], func_init: int) -> int:
    """OpenAI cookbook's num_tokens_for_tools, written out again from its description for this test."""
    n = 0
    for f in functions:
        fn = f["function"]
        n += func_init
        desc = fn["description"][:-1] if fn["description"].endswith(".") else fn["description"]
        n += len(enc.encode(fn["name"] + ":" + desc))
        props = fn["parameters"]["properties"]
        if props:
            n += 3
            for key, p in props.items():
                n += 3
                if "enum" in p:
                    n += -3
                    for item in p["enum"]:
                        n += 3 + len(enc.encode(item))
                pdesc = p["description"][:-1] if p["description"].endswith(".") else p["description"]
                n += len(enc.encode(f"{key}:{p['type']}:{pdesc}"))
    return n + 12 if functions else 0


TOOLS = [
    {"type": "function", "function": {"name": "get_forecast", "description": "Get the forecast for a city.",
     "parameters": {"type": "object", "properties": {
         "city": {"type": "string", "description": "City name, e.g. Lyon."},
         "unit": {"type": "string", "description": "Temperature unit", "enum": ["celsius", "fahrenheit"]},
         "days": {"type": "integer", "description": "How many days"}}}}},
    {"type": "function", "function": {"name": "now", "description": "The current time", "parameters": {"type": "object", "properties": {}}}},
]


@pytest.mark.parametrize("model,encoding,func_init", [("gpt-4o", "o200k_base", 7), ("gpt-4", "cl100k_base", 10)])
def test_tool_tokens_follow_the_cookbook_formula(reference_encoding, model, encoding, func_init):
    tokens, covered = tokenizer_for(model).count_tools(TOOLS)
    assert covered
    assert tokens == cookbook_tokens(reference_encoding[encoding], TOOLS, func_init)


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "object", "description": "Where", "properties": {"city": {"type": "string"}}},
        {"type": "array", "description": "Tags", "items": {"type": "string"}},
        {"anyOf": [{"type": "string"}, {"type": "integer"}], "description": "Either"},
        {"description": "No type at all"},
        {"type": ["string", "null"], "description": "A list of types"},
    ],
)
def test_shapes_the_formula_does_not_cover_are_counted_but_not_exact(tmp_path, prop):
    tool = {"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object", "properties": {"x": prop}}}}
    tokens, covered = tokenizer_for("gpt-4o").count_tools([tool])
    assert tokens > 0 and not covered
    doc = document(tmp_path, message("user", "Go."))
    doc.tools = [tool]
    a = analyze(doc, load_config(tmp_path))
    assert not a.exact and "OpenAI's published formula" in a.exact_reason


def test_a_built_in_tool_is_not_covered():
    tokens, covered = tokenizer_for("gpt-4o").count_tools([{"type": "web_search"}])
    assert not covered


def test_a_function_without_parameters_is_covered(reference_encoding):
    tool = {"type": "function", "function": {"name": "ping", "description": "Check the service."}}
    tokens, covered = tokenizer_for("gpt-4o").count_tools([tool])
    assert covered and tokens == 7 + len(reference_encoding["o200k_base"].encode("ping:Check the service")) + 12


# ---- where the reason is shown ----


def test_count_json_gives_exact_reason_and_on_use_tokens(cli, tmp_path):
    path = prompty(tmp_path, "gpt-4o-mnii")
    data = json.loads(cli("count", str(path), "--json").out)
    assert data["exact"] is False
    assert data["exact_reason"] == "gpt-4o-mnii is not a known model, counted with o200k_base"
    assert data["on_use_tokens"] == 0
    exact = json.loads(cli("count", str(prompty(tmp_path, "gpt-4o", name="ok.prompty")), "--json").out)
    assert exact["exact"] is True and exact["exact_reason"] is None


def test_count_text_ends_with_the_estimate_footnote(cli, tmp_path):
    result = cli("count", str(prompty(tmp_path, "gpt-4o-mnii")))
    assert result.out.splitlines()[-1] == "~ estimate: gpt-4o-mnii is not a known model, counted with o200k_base"
    exact = cli("count", str(prompty(tmp_path, "gpt-4o", name="ok.prompty")))
    assert "~ estimate" not in exact.out


def test_check_json_and_footnote_carry_each_files_reason(cli, tmp_path):
    prompty(tmp_path, "gpt-4o-mnii")
    prompty(tmp_path, "gpt-4o", name="ok.prompty")
    data = json.loads(cli("check", str(tmp_path), "--format", "json").out)
    files = {Path(f["path"]).name: f for f in data["files"]}
    assert files["p.prompty"]["exact_reason"] == "gpt-4o-mnii is not a known model, counted with o200k_base"
    assert files["ok.prompty"]["exact_reason"] is None and files["ok.prompty"]["on_use_tokens"] == 0
    text = cli("check", str(tmp_path)).out
    assert "~ estimate: gpt-4o-mnii is not a known model, counted with o200k_base" in text


def test_the_editor_note_gives_the_reason(tmp_path):
    from promptwise.lsp import labels

    a = analyzed(prompty(tmp_path, "gpt-4o-mnii"))
    assert labels.estimate_note(a) == "estimate (gpt-4o-mnii is not a known model, counted with o200k_base)"
    assert labels.accuracy(a) == labels.estimate_note(a)


def test_a_request_body_names_its_images_and_tool_calls(cli, tmp_path):
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "What is in it?"}, {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "look", "arguments": "{}"}}]},
        ],
    }
    path = tmp_path / "request.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    data = json.loads(cli("count", str(path), "--json").out)
    assert data["exact"] is False
    assert data["exact_reason"] == (
        "1 image of unknown size counted at OpenAI's tile rule's worst case (1,445 tokens); tool calls in 1 message are counted as their JSON"
    )
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}), encoding="utf-8")
    assert json.loads(cli("count", str(plain), "--json").out)["exact_reason"] is None


def test_the_editor_shows_a_skill_body_apart(tmp_path):
    from promptwise.lsp import hover, inlay_hints

    always = message("system", "name: triage\ndescription: Sorts new issues by area.")
    body = message("user", "Label each new issue with one area and a priority from 1 to 3.", on_use=True)
    config = load_config(tmp_path)
    a = analyze(document(tmp_path, always, body), config)
    card = hover.message_card(a.messages[1], a, config)
    assert "sent only when it is used, not on every call" in card and "of this file's" not in card
    assert f"On use: ~{a.on_use_tokens:,} tokens more when the agent uses it (not in the {a.prompt_tokens:,} per call)" in card
    tooltip = inlay_hints._total_tooltip(a)
    assert "| user message |" not in tooltip  # the body is not a per-call part
    assert f"On use: {a.on_use_tokens:,} tokens more when the agent uses it, not in the per-call count" in tooltip
    # The body's own hint says "on use" instead of a share of a total it is not part of.
    assert inlay_hints._message_label(a.messages[1], a).endswith(" · on use")
    assert "%" in inlay_hints._message_label(a.messages[0], a)


def test_count_prints_on_use_tokens_apart(cli, tmp_path, monkeypatch):
    from promptwise.cli import count as count_cli

    always = message("system", "name: triage\ndescription: Sorts new issues by area.")
    body = message("user", "Label each new issue with one area and a priority from 1 to 3.", on_use=True)
    a = analyze(document(tmp_path, always, body), load_config(tmp_path))
    (tmp_path / "SKILL.md").write_text("x", encoding="utf-8")
    monkeypatch.setattr(count_cli, "count", lambda file, model: a)  # a skill document, whatever parses SKILL.md
    text = cli("count", str(tmp_path / "SKILL.md")).out
    assert f"  {'on use (not per call)':<24}{a.on_use_tokens:>10,}" in text
    assert "\n  user " not in text
    data = json.loads(cli("count", str(tmp_path / "SKILL.md"), "--json").out)
    assert data["on_use_tokens"] == a.on_use_tokens and data["messages"][1] == {"role": "user", "tokens": a.on_use_tokens, "on_use": True}
    assert data["prompt_tokens"] == a.prompt_tokens
