"""Reasoning effort written in each format's own syntax (replaced where written, else added where the runtime
reads it), line endings and indentation kept, and each option's figure equal to the analysis after its edit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from promptwise.analysis import analyze
from promptwise.config import load_config
from promptwise.fixes.edits import apply_edits, money
from promptwise.fixes.reasoning_edits import Unwritable, effort_edits, json_effort_edits
from promptwise.formats import detect_format, parse_document
from promptwise.formats.chat_request import request_document
from promptwise.routing.efforts import accepted_efforts, effort_options, effort_pass_rates

CONFIG = """default_model = "acme-think"
expected_output_tokens = 200

[models.acme-think]
provider = "acme"
input_cost_per_million = 1.0
output_cost_per_million = 10.0
context_window = 200000
supports = ["reasoning"]
tokenizer = "o200k_base"

[models.acme-chat]
provider = "acme"
input_cost_per_million = 1.0
output_cost_per_million = 10.0
context_window = 200000
tokenizer = "o200k_base"
"""

BODY = "system:\nYou plan database migrations.\n\nuser:\n{{change}}\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "promptwise.toml").write_text(CONFIG, encoding="utf-8")
    return tmp_path


def edited(root: Path, name: str, text: str, effort: str = "low") -> tuple[str, object]:
    path = root / name
    path.write_bytes(text.encode("utf-8"))  # as written: CRLF stays CRLF
    config = load_config(path)
    doc = parse_document(path, text, detect_format(path, config.settings.plain_prompts, config.root))
    new = apply_edits(text, effort_edits(doc, effort))
    after = parse_document(path, new, doc.format)
    assert not [p.message for p in after.problems if p.code == "invalid-frontmatter"]
    assert after.reasoning_effort == effort
    return new, after


# ---- replace where the file writes it ----


def test_prompty_v1_parameters_are_replaced(root):
    text = f"---\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: acme-think\n  parameters:\n    reasoning_effort: high\n    max_completion_tokens: 16000\n---\n{BODY}"
    new, _ = edited(root, "plan.prompty", text)
    assert new == text.replace("reasoning_effort: high", "reasoning_effort: low")


def test_quotes_and_every_place_the_effort_is_written_are_kept_in_step(root):
    # The promptwise block prices the file, the parameters are what the runtime sends: both change.
    text = f"---\nmodel:\n  id: acme-think\n  options:\n    additionalProperties:\n      reasoningEffort: \"high\"\npromptwise:\n  reasoning_effort: 'high'\n---\n{BODY}"
    new, _ = edited(root, "plan.prompty", text, "medium")
    assert 'reasoningEffort: "medium"' in new and "reasoning_effort: 'medium'" in new


def test_dotprompt_config_is_replaced(root):
    text = "---\nmodel: openai/acme-think\nconfig:\n  reasoningEffort: high\n  temperature: 1\n---\nPlan {{change}}\n"
    new, _ = edited(root, "plan.prompt", text, "minimal")
    assert new == text.replace("reasoningEffort: high", "reasoningEffort: minimal")


def test_json_request_body_is_replaced_and_added():
    body = '{\n  "model": "gpt-5-mini",\n  "reasoning_effort": "high",\n  "messages": [{"role": "user", "content": "reasoning_effort"}]\n}\n'
    new = apply_edits(body, json_effort_edits(body, "low"))
    assert json.loads(new)["reasoning_effort"] == "low" and new == body.replace('"high"', '"low"')
    plain = '{\r\n    "model": "gpt-5-mini",\r\n    "messages": []\r\n}'
    new = apply_edits(plain, json_effort_edits(plain, "low"))
    assert new == '{\r\n    "reasoning_effort": "low",\r\n    "model": "gpt-5-mini",\r\n    "messages": []\r\n}'
    assert request_document(json.loads(new), Path("r.json")).reasoning_effort == "low"
    with pytest.raises(Unwritable):
        json_effort_edits("[1, 2]", "low")


# ---- add where the runtime reads it ----


def test_prompty_v1_gets_parameters_in_its_own_indentation_and_crlf(root):
    text = f"---\r\nmodel:\r\n    api: chat\r\n    configuration:\r\n        type: openai\r\n        name: acme-think\r\n---\r\n{BODY.replace(chr(10), chr(13) + chr(10))}"
    new, _ = edited(root, "plan.prompty", text)
    assert "        name: acme-think\r\n    parameters:\r\n        reasoning_effort: low\r\n---\r\n" in new
    assert "\n" not in new.replace("\r\n", "")  # no bare line break added


def test_prompty_v1_adds_to_existing_parameters(root):
    text = f"---\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: acme-think\n  parameters:\n    max_tokens: 900\n---\n{BODY}"
    new, _ = edited(root, "plan.prompty", text)
    assert "  parameters:\n    max_tokens: 900\n    reasoning_effort: low\n---\n" in new


def test_prompty_2_passes_it_through_additional_properties(root):
    text = f"---\nmodel:\n  id: acme-think\n  options: {{temperature: 1}}\n---\n{BODY}"
    new, _ = edited(root, "plan.prompty", text)
    assert "  options: {temperature: 1, additionalProperties: {reasoning_effort: low}}\n" in new


def test_dotprompt_gets_a_config_block(root):
    text = "---\nmodel: openai/acme-think\n---\nPlan {{change}}\n"
    new, _ = edited(root, "plan.prompt", text)
    assert new == "---\nmodel: openai/acme-think\nconfig:\n  reasoningEffort: low\n---\nPlan {{change}}\n"


def test_instruction_files_get_the_promptwise_block(root):
    new, _ = edited(root, "AGENTS.md", "# Rules\r\n\r\nRun the tests.\r\n")
    assert new == "---\r\npromptwise:\r\n  reasoning_effort: low\r\n---\r\n# Rules\r\n\r\nRun the tests.\r\n"
    new, _ = edited(root, "CLAUDE.md", "---\ndescription: rules\npromptwise:\n  budget: 900\n---\n# Rules\n")
    assert new == "---\ndescription: rules\npromptwise:\n  budget: 900\n  reasoning_effort: low\n---\n# Rules\n"


def test_what_cannot_be_written_says_why(root):
    path = root / "plan.prompty"
    for text, why in (
        (f"---\nmodel: acme-think\n---\n{BODY}", "the model is written as a name"),
        (f"---\nmodel:\n  id: acme-think\n  options:\n    thinking:\n      budget_tokens: 4000\n---\n{BODY}", "thinking budget"),
    ):
        doc = parse_document(path, text, detect_format(path, [], root))
        with pytest.raises(Unwritable, match=why):
            effort_edits(doc, "low")


# ---- the options and their figures ----


def test_each_option_costs_what_the_edited_file_costs(root):
    text = f"---\r\nmodel:\r\n  id: acme-think\r\n  options:\r\n    additionalProperties:\r\n      reasoning_effort: high\r\n---\r\n{BODY.replace(chr(10), chr(13) + chr(10))}"
    path = root / "plan.prompty"
    path.write_bytes(text.encode())
    config = load_config(path)
    doc = parse_document(path, text, detect_format(path, [], root))
    before = analyze(doc, config)
    found = effort_options(before, config)
    assert found.current == "high" and [o.effort for o in found.options] == ["low", "medium"]
    for option in found.options:
        after = analyze(parse_document(path, apply_edits(text, option.edits), doc.format), config)
        change = after.estimate.per_1000 - before.estimate.per_1000
        assert option.title == f"Set reasoning effort to {option.effort} (-{money(change)} per 1,000 calls)"
        assert after.reasoning.effort == option.effort and after.reasoning.kind == "assumed"
    # By hand: low assumes 1,000 reasoning tokens instead of high's 10,000, at $10/M: $0.09 a call, $90 per 1,000.
    assert found.options[0].title == "Set reasoning effort to low (-$90.00 per 1,000 calls)"


def test_higher_efforts_and_pass_rates_are_in_the_title(root):
    text = f"---\nmodel:\n  id: acme-think\n  options:\n    additionalProperties:\n      reasoning_effort: low\n---\n{BODY}"
    path = root / "plan.prompty"
    path.write_text(text)
    config = load_config(path)
    before = analyze(parse_document(path, text, detect_format(path, [], root)), config)
    found = effort_options(before, config, pass_rates={"medium": (12, 12), "low": (11, 12)})
    medium = next(o for o in found.options if o.effort == "medium")
    assert medium.title == "Set reasoning effort to medium (12/12 cases pass, +$20.00 per 1,000 calls)"
    assert "evals: medium 12/12, low 11/12" in medium.detail
    high = next(o for o in found.options if o.effort == "high")
    assert "no eval run at high yet" in high.detail and "cases pass" not in high.title


def test_no_options_for_a_model_that_does_not_reason(root):
    path = root / "chat.prompty"
    text = f"---\nmodel:\n  id: acme-chat\n---\n{BODY}"
    config = load_config(path.parent / "promptwise.toml")
    found = effort_options(analyze(parse_document(path, text, detect_format(path, [], root)), config), config)
    assert found.options == [] and found.reason == "acme-chat does not reason"


def test_accepted_efforts_follow_the_price_map():
    from promptwise.catalog import Catalog

    catalog = Catalog.bundled()
    assert accepted_efforts(catalog.resolve("gpt-5-mini")) == ("minimal", "low", "medium", "high")
    assert accepted_efforts(catalog.resolve("gpt-5.2")) == ("none", "low", "medium", "high", "xhigh")
    assert accepted_efforts(catalog.resolve("gpt-4o")) == ()


def test_pass_rates_per_effort_come_from_the_run_store(root):
    run = root / ".promptwise" / "runs" / "20260101-000000-000000"
    run.mkdir(parents=True)
    results = {
        "suites": [{"path": "plan.evals.yaml", "prompt": "plan.prompty"}],
        "results": [
            {"suite": "plan.evals.yaml", "model": "acme-think", "status": s, "reasoning_effort": e}
            for s, e in (("passed", "low"), ("failed", "low"), ("passed", "high"), ("errored", "high"))
        ],
    }
    (run / "results.json").write_text(json.dumps(results))
    assert effort_pass_rates(root, root / "plan.prompty", "acme-think") == {"low": (1, 2), "high": (1, 1)}
    assert effort_pass_rates(root, root / "other.prompty", "acme-think") == {}
    (run / "results.json").write_text("{broken")
    assert effort_pass_rates(root, root / "plan.prompty", "acme-think") == {}


def test_suggest_lists_the_effort_options(root, cli):
    text = f"---\nmodel:\n  id: acme-think\n  options:\n    additionalProperties:\n      reasoning_effort: high\n---\n{BODY}"
    (root / "plan.prompty").write_text(text)
    result = cli("suggest", "plan.prompty", cwd=root)
    assert result.code == 0, result.err
    assert "reasoning effort (acme-think, now high: set in the file):" in result.out
    assert "  Set reasoning effort to low (-$90.00 per 1,000 calls)" in result.out
    result = cli("suggest", "plan.prompty", "--json", cwd=root)
    data = json.loads(result.out)["reasoning_efforts"]
    assert [o["effort"] for o in data["options"]] == ["low", "medium"]
    assert data["options"][0]["change_per_1000_calls"] == pytest.approx(-90.0)


def test_a_run_store_from_a_cloned_repository_is_read_with_bounds(root):
    import os

    run = root / ".promptwise" / "runs" / "20260101-000000-000000"
    run.mkdir(parents=True)
    os.mkfifo(run / "results.json")  # a reader that opened it would wait forever
    assert effort_pass_rates(root, root / "plan.prompty", "acme-think") == {}
