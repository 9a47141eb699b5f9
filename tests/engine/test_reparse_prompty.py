"""Re-parsing a Prompty file whose role lines a loop writes (rendered, then split) equals a fresh parse."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st

from promptwise.formats import Format, parse_document, reparse_document
from promptwise.formats.prompty import reparse_prompty
from promptwise.text import Edit

from tests.engine.replay import replay, snapshot

V1_HEAD = """---
model:
  api: chat
  configuration:
    type: openai
    name: gpt-4o
sample:
  history:
    - {role: user, content: "Where is my order? 🎉"}
    - {role: assistant, content: "It ships today."}
  question: And the refund?
---
"""
V2_HEAD = """---
model: gpt-4o
inputs:
  - name: history
    kind: thread
    sample:
      - {role: user, content: "Hola 👩‍💻"}
      - {role: assistant, content: "¿Qué tal?"}
  - name: question
    default: And the refund?
---
"""
LOOP = "{% for m in history %}\n{{ m.role }}:\n{{ m.content }}\n{% endfor %}\n"
PIECES = [
    "system:\n", "user:\n", "assistant:\n", "Be brief. ", "日本語 ", "👩‍💻 ", "{{question}} ", "{{ missing }} ", "{{history}}\n",
    LOOP, "{% if question %}", "{% endif %}", "{% for x in [1, 2] %}{{ x }}{% endfor %}", "{{ broken ", "\n", "\n\n", "\r\n", ":", "x",
]
TEXT = ["Be brief. ", "日本語 ", "👩‍💻 ", "{{question}} ", "\n", "x", "é", "{{ missing }} "]
messages = st.tuples(st.sampled_from(PIECES[:3]), st.lists(st.sampled_from(TEXT), min_size=1, max_size=8).map("".join))
bodies = st.tuples(
    st.lists(st.sampled_from(TEXT), max_size=3).map("".join),
    st.lists(st.one_of(messages.map("".join), st.just(LOOP), st.just("system:\nRules.\n" + LOOP)), min_size=1, max_size=6).map("".join),
).map("".join)
inserts = st.one_of(st.sampled_from(TEXT), st.sampled_from(TEXT), st.lists(st.sampled_from(PIECES), max_size=2).map("".join))
edits = st.lists(st.tuples(st.sampled_from([True, False, False, False]), st.floats(0, 1), st.integers(0, 10), inserts), min_size=1, max_size=6)
PATH = Path("/prompts/history.prompty")


@settings(max_examples=200, deadline=None)
@given(body=bodies, script=edits, head=st.sampled_from([V1_HEAD, V2_HEAD, V2_HEAD + "system:\n"]))
def test_reparse_of_loop_written_roles_equals_a_fresh_parse(body, script, head):
    text = head + body
    replay(PATH, Format.PROMPTY, text, len(head), script)


def test_the_loop_writes_the_history_messages():
    doc = parse_document(PATH, V1_HEAD + "system:\nBe kind.\n" + LOOP + "user:\n{{question}}\n", Format.PROMPTY)
    assert [(m.role, m.content) for m in doc.messages] == [
        ("system", "Be kind."), ("user", "Where is my order? 🎉"), ("assistant", "It ships today."), ("user", "And the refund?"),
    ]


def test_a_body_with_statements_is_parsed_whole_after_an_edit():
    text = V1_HEAD + "system:\nBe kind.\n" + LOOP + "user:\n{{question}}\n"
    doc = parse_document(PATH, text, Format.PROMPTY)
    at = text.index("Be kind") + 2
    new = text[:at] + "x" + text[at:]
    assert reparse_prompty(doc, new, Edit(at, at, at + 1)) is None  # a loop may reach across role lines
    assert reparse_document(doc, new, Edit(at, at, at + 1)).messages[0].content == "Bex kind."


def test_a_value_that_writes_a_role_line_is_parsed_whole():
    head = V1_HEAD.replace("question: And the refund?", "question: \"Refund?\\nassistant:\\nSure.\"")
    text = head + "system:\nBe kind.\nuser:\n{{question}}\n"
    doc = parse_document(PATH, text, Format.PROMPTY)
    assert [m.role for m in doc.messages] == ["system", "user", "assistant"]
    at = text.index("Be kind") + 2
    new = text[:at] + "x" + text[at:]
    again = reparse_document(doc, new, Edit(at, at, at + 1))
    assert snapshot(again) == snapshot(parse_document(PATH, new, Format.PROMPTY))


def test_keystrokes_after_a_template_wrote_a_role_line_keep_the_finding():
    # "{{ missing }} system:" renders to " system:", a role line the template wrote, which v2's strict mode
    # refuses: a finding about the whole body, so later keystrokes must parse the whole body again.
    # (The edits hypothesis found.)
    head = "---\nname: Support\nmodel:\n  id: gpt-4o\ninputs:\n  question:\n    sample: Where is my order? 🎉\n  customer: {}\n---\n"
    text = head + "👩\u200d💻 \n\n\nsystem:\nBe brief. system:\nBe brief. system:\nBe brief. {{question}} Be brief. "
    script = [(False, 0.0, 7, "{{ missing }} "), (False, 0.875, 0, "Be brief. "), (True, 0.84375, 1, "Be brief. ")]
    doc = replay(PATH, Format.PROMPTY, text, len(head), script)
    assert "template-error" in [p.code for p in doc.problems]


def test_an_edit_that_leaves_a_role_line_written_by_a_value_reparses_the_whole_file():
    # "{{question}} system:" renders "... system:" while the value is defined; once the name is misspelt it
    # renders empty and the line becomes a role line the template writes, which Prompty 2's strict mode refuses.
    head = "---\nname: Support\nmodel:\n  id: gpt-4o\ninputs:\n  question:\n    sample: Where is my order?\n---\n"
    text = head + "{{question}} system:\nBe brief. "
    at = text.index("ion}}")
    new = text[:at] + "x" + text[at:]
    doc = reparse_document(parse_document(PATH, text, Format.PROMPTY), new, Edit(at, at, at + 1))
    fresh = parse_document(PATH, new, Format.PROMPTY)
    assert snapshot(doc) == snapshot(fresh)
    assert "template-error" in [p.code for p in doc.problems]
