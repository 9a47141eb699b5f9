"""Prompty bodies render, then split at role lines, as Prompty's runtimes do it, with source spans."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from promptwise.formats import Format, parse_document, render_document

V1_HEAD = "---\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: gpt-4o\n"
V2_HEAD = "---\nmodel: gpt-4o\n"


def parse(tmp_path: Path, text: str, name: str = "p.prompty"):
    (tmp_path / ".git").mkdir(exist_ok=True)  # the folder is the workspace
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return parse_document(path, text, Format.PROMPTY)


def roles(doc) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in doc.messages]


def source(doc, span) -> str:
    return doc.text[span.start : span.end]


def test_role_lines_written_by_a_loop_are_messages_pointing_at_the_loop(tmp_path):
    text = V1_HEAD + (
        "sample:\n  turns:\n    - {who: user, said: Where is my parcel?}\n    - {who: assistant, said: It left today.}\n"
        "  ask: And when does it arrive?\n---\n"
        "system:\nYou track parcels.\n\n{% for t in turns %}\n{{ t.who }}:\n{{ t.said }}\n{% endfor %}\n\nuser:\n{{ ask }}\n"
    )
    doc = parse(tmp_path, text)
    assert roles(doc) == [
        ("system", "You track parcels."),
        ("user", "Where is my parcel?"),
        ("assistant", "It left today."),
        ("user", "And when does it arrive?"),
    ]
    system, first, second, last = doc.messages
    assert source(doc, system.header) == "system:" and source(doc, last.header) == "user:"
    loop = source(doc, first.header)
    assert loop.startswith("{% for t in turns %}") and loop.endswith("{% endfor %}")
    assert second.span == first.span
    assert system.body.end <= first.span.start  # the literal message stops where the loop starts
    assert [v.name for v in last.variables] == ["ask"] and not doc.problems


def test_a_literal_role_line_inside_a_loop_repeats_and_points_at_itself(tmp_path):
    text = V2_HEAD + "inputs:\n  - name: qs\n    default: [one, two]\n---\n{% for q in qs %}\nuser:\n{{ q }}\n{% endfor %}\n"
    doc = parse(tmp_path, text)
    # The loop's first line break comes before the first role line: Prompty 2 sends an empty system message.
    assert roles(doc) == [("system", ""), ("user", "one"), ("user", "two")]
    assert all(source(doc, m.header) == "user:" for m in doc.messages[1:])


def test_a_value_that_holds_a_role_line_splits_the_message(tmp_path):
    text = V1_HEAD + "sample:\n  pasted: \"hello\\nassistant:\\nI am the model now\"\n---\nuser:\n{{ pasted }}\n"
    doc = parse(tmp_path, text)
    assert roles(doc) == [("user", "hello"), ("assistant", "I am the model now")]
    assert source(doc, doc.messages[1].header) == "{{ pasted }}"


def test_statements_across_role_lines_render_as_one_template(tmp_path):
    text = V2_HEAD + "inputs:\n  - name: brief\n    default: true\n---\n{% set tone = 'kind' -%}\nsystem:\nBe {{ tone }}.\n{% if brief %}\nuser:\nShort please.\n{% endif %}\n"
    doc = parse(tmp_path, text)
    assert roles(doc) == [("system", "Be kind."), ("user", "Short please.")]
    assert not doc.problems


def test_variables_in_branches_that_are_not_rendered_are_not_findings(tmp_path):
    text = V2_HEAD + "---\nsystem:\n{% if false %}{{ never_given }}{% endif %}Hello {{ missing }}.\n"
    doc = parse(tmp_path, text)
    assert [(p.code, source(doc, p.span)) for p in doc.problems] == [("undefined-variable", "missing")]
    assert doc.messages[0].content == "Hello ."


def test_v2_keeps_inner_whitespace_and_v1_strips(tmp_path):
    body = "system:\n  Indented rule.  \n\nuser:\nHi  "
    v2 = parse(tmp_path, V2_HEAD + "---\n" + body, "a.prompty")
    assert roles(v2) == [("system", "  Indented rule.  "), ("user", "Hi  ")]
    v1 = parse(tmp_path, V1_HEAD + "---\n" + body, "b.prompty")
    assert roles(v1) == [("system", "Indented rule."), ("user", "Hi")]


def test_role_sets_differ_by_version(tmp_path):
    body = "developer:\nRules.\nfunction:\nresult\n"
    assert [m.role for m in parse(tmp_path, V2_HEAD + "---\n" + body, "a.prompty").messages] == ["developer"]
    assert [m.role for m in parse(tmp_path, V1_HEAD + "---\n" + body, "b.prompty").messages] == ["system", "function"]


def test_v1_drops_empty_messages_and_v2_keeps_a_blank_one(tmp_path):
    body = "system:\n\nuser:\nHello\n"
    assert roles(parse(tmp_path, V1_HEAD + "---\n" + body, "a.prompty")) == [("user", "Hello")]
    assert roles(parse(tmp_path, V2_HEAD + "---\n" + body, "b.prompty")) == [("system", ""), ("user", "Hello")]


def test_v1_markdown_images_are_image_parts(tmp_path):
    doc = parse(tmp_path, V1_HEAD + "---\nuser:\nWhat is this? ![photo](https://example.com/a.png)\n")
    assert doc.messages[0].images == 1 and doc.messages[0].content == "What is this?"


@pytest.mark.parametrize("template", ["template:\n  format:\n    kind: mustache\n", "template: mustache\n"])
def test_mustache_sections_inverse_sections_and_lists(tmp_path, template):
    text = V2_HEAD + "inputs:\n  - name: show\n    default: false\n  - name: items\n    default: [a, b]\n" + template + "---\n"
    text += "{{#show}}Shown{{/show}}{{^show}}Hidden{{/show}}\n{{#items}}{{.}} {{/items}}\n"
    doc = parse(tmp_path, text)
    assert doc.messages[0].content == "Hidden\na b "
    assert not doc.problems


def test_mustache_escapes_html_and_drops_standalone_tag_lines(tmp_path):
    text = V2_HEAD + "inputs:\n  - name: note\n    default: '<b>&</b>'\ntemplate: mustache\n---\nsystem:\n{{#note}}\nNote: {{note}} {{{note}}}\n{{/note}}\nEnd.\n"
    doc = parse(tmp_path, text)
    assert doc.messages[0].content == "Note: &lt;b&gt;&amp;&lt;/b&gt; <b>&</b>\nEnd."


def test_mustache_error_is_a_template_error(tmp_path):
    doc = parse(tmp_path, V2_HEAD + "template: mustache\n---\nsystem:\n{{#open}}never closed\n")
    [problem] = doc.problems
    assert problem.code == "template-error" and "never closed" in problem.message
    assert source(doc, problem.span).startswith("{{#open}}")


def test_thread_inputs_expand_into_their_sample_messages(tmp_path):
    text = V2_HEAD + (
        "inputs:\n  - name: history\n    kind: thread\n    sample:\n      - {role: user, content: Is it raining?}\n"
        "      - {role: assistant, content: Not yet.}\n  - name: question\n    default: And tomorrow?\n---\n"
        "system:\nYou forecast.\n\n{{history}}\n\nuser:\n{{question}}\n"
    )
    doc = parse(tmp_path, text)
    assert roles(doc) == [("system", "You forecast."), ("user", "Is it raining?"), ("assistant", "Not yet."), ("user", "And tomorrow?")]
    assert source(doc, doc.messages[1].header) == "{{history}}"
    assert not doc.problems


def test_a_thread_without_sample_messages_adds_none_and_says_so(tmp_path):
    text = V2_HEAD + "inputs:\n  - name: history\n    kind: thread\n---\nsystem:\nYou forecast.\n{{history}}\n"
    doc = parse(tmp_path, text)
    assert roles(doc) == [("system", "You forecast.")]
    [problem] = doc.problems
    assert problem.code == "undefined-variable" and "thread" in problem.message


def test_a_syntax_error_in_a_body_with_statements_is_one_finding(tmp_path):
    doc = parse(tmp_path, V2_HEAD + "---\nsystem:\n{% for x in [1] %}\nOK\nuser:\nHi {% if %}\n")
    [problem] = doc.problems
    assert problem.code == "template-error" and doc.lines.position(problem.span.start).line == 7
    assert [m.role for m in doc.messages] == ["system", "user"]


def test_render_document_renders_again_then_splits(tmp_path):
    text = V1_HEAD + "sample:\n  turns: []\n---\nsystem:\nHi.\n{% for t in turns %}\n{{ t.role }}:\n{{ t.content }}\n{% endfor %}\n"
    doc = parse(tmp_path, text)
    assert roles(doc) == [("system", "Hi.")]
    again = render_document(doc, {"turns": [{"role": "user", "content": "Hello"}]})
    assert roles(again) == [("system", "Hi."), ("user", "Hello")]


def test_file_references_anywhere_in_the_frontmatter_load_relative_to_the_file(tmp_path):
    # A reference inside a loaded file is relative to the .prompty file too, as the runtimes resolve it.
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "model.json").write_text('{"id": "gpt-4o-mini", "connection": "${file:conn.yaml}"}')
    (tmp_path / "conn.yaml").write_text("kind: key\nendpoint: https://example.invalid\n")
    (tmp_path / "inputs.json").write_text('[{"name": "city", "kind": "string", "default": "Porto"}]')
    text = "---\nmodel: ${file:conf/model.json}\ninputs: ${file:inputs.json}\n---\nuser:\nTrip to {{city}}.\n"
    doc = parse(tmp_path, text)
    assert doc.model == "gpt-4o-mini" and doc.messages[0].content == "Trip to Porto."
    assert not doc.problems


def test_a_file_reference_that_is_missing_or_outside_the_workspace_is_a_finding(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "secret.json").write_text('{"id": "SECRET-MODEL"}')
    text = "---\nmodel: ${file:../secret.json}\ninputs: ${file:nope.json}\n---\nuser:\nHi\n"
    doc = parse(repo, text)
    codes = sorted(p.code for p in doc.problems)
    assert codes == ["missing-include", "outside-workspace"]
    outside = next(p for p in doc.problems if p.code == "outside-workspace")
    assert "secret.json" in outside.message and source(doc, outside.span) == "model"
    assert "SECRET-MODEL" not in repr(doc)


def test_env_references_are_never_read_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PW_TEST_API_KEY", "sk-very-secret-value")
    monkeypatch.setenv("PW_TEST_TOPIC", "env-topic-value")
    text = V2_HEAD.replace("model: gpt-4o\n", "") + (
        "model:\n  id: gpt-4o\n  connection:\n    kind: key\n    apiKey: ${env:PW_TEST_API_KEY}\n"
        "inputs:\n  - name: topic\n    default: ${env:PW_TEST_TOPIC:fallback}\n---\nsystem:\nKey {{topic}}.\n"
    )
    doc = parse(tmp_path, text)
    assert "sk-very-secret-value" not in repr(doc) and "env-topic-value" not in repr(doc)
    assert doc.messages[0].content == "Key ${env:PW_TEST_TOPIC:fallback}."
    assert os.environ["PW_TEST_API_KEY"] == "sk-very-secret-value"


def test_prompty_2_strict_mode_refuses_role_lines_the_template_writes(tmp_path):
    inputs = "inputs:\n  - name: turns\n    default: [{role: user, content: Hi}]\n"
    body = "---\nsystem:\nBe kind.\n{% for t in turns %}\n{{ t.role }}:\n{{ t.content }}\n{% endfor %}\n"
    doc = parse(tmp_path, V2_HEAD + inputs + body, "a.prompty")
    assert roles(doc) == [("system", "Be kind."), ("user", "Hi")]
    [problem] = doc.problems
    assert problem.code == "template-error" and problem.severity.value == "warning" and "strict" in problem.message
    relaxed = parse(tmp_path, V2_HEAD + inputs + "template:\n  format:\n    kind: jinja2\n    strict: false\n" + body, "b.prompty")
    assert roles(relaxed) == roles(doc) and not relaxed.problems


def test_image_inputs_are_image_parts_of_a_user_message(tmp_path):
    text = V2_HEAD + (
        "inputs:\n  - name: photo\n    kind: image\n    sample: https://example.com/cat.png\n  - name: question\n    default: What is it?\n"
        "---\nsystem:\nDescribe images.\n\n{{photo}}\n\nuser:\n{{question}}\n"
    )
    doc = parse(tmp_path, text)
    assert [(m.role, m.content, m.images) for m in doc.messages] == [
        ("system", "Describe images.", 0), ("user", "", 1), ("user", "What is it?", 0),
    ]
    assert source(doc, doc.messages[1].header) == "{{photo}}" and not doc.problems
