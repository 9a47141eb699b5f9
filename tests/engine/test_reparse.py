"""Re-parsing a Prompty file after a keystroke gives what parsing the new text from scratch gives."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings, strategies as st

from promptwise.formats import Format, parse_document, reparse_document
from promptwise.formats.dotprompt import reparse_dotprompt
from promptwise.formats.prompty import reparse_prompty
from promptwise.text import Edit

from tests.engine.replay import replay, snapshot

HEAD = """---
name: Support
model:
  id: gpt-4o
inputs:
  question:
    sample: Where is my order? 🎉
  customer: {}
---
"""
BODY_PIECES = [
    "system:\n", "user:\n", "assistant:\n", "user[name=ana]:\n", "# system:\n", "  user:  \n",
    "Be brief. ", "日本語のテキスト ", "👩‍💻 ", "{{question}} ", "{{customer}} ", "{{ missing }} ", "{% if x %}", "{% endif %}",
    "{{ broken ", "![img](a.png) ", "\n", "\n\n", ":", "user", "system", "-", "---\n", "\r\n",
]
TEXT_PIECES = ["Be brief. ", "日本語のテキスト ", "👩‍💻 ", "{{question}} ", "{{ missing }} ", "\n", "x", "é"]
# Mostly messages of plain text, so most edits land inside a message; some pieces make or break structure.
messages = st.tuples(st.sampled_from(BODY_PIECES[:6]), st.lists(st.sampled_from(TEXT_PIECES), min_size=1, max_size=12).map("".join))
bodies = st.tuples(
    st.lists(st.sampled_from(TEXT_PIECES), max_size=4).map("".join),
    st.lists(messages.map("".join), max_size=6).map("".join),
).map("".join)
inserts = st.one_of(st.sampled_from(TEXT_PIECES), st.sampled_from(TEXT_PIECES), st.lists(st.sampled_from(BODY_PIECES), max_size=3).map("".join))
# Where an edit goes: anywhere in the file, or (more often) in the body after the frontmatter.
edits = st.lists(st.tuples(st.sampled_from([True, False, False]), st.floats(0, 1), st.integers(0, 12), inserts), min_size=1, max_size=8)
PATH = Path("/prompts/support.prompty")


@settings(max_examples=300, deadline=None)
@given(body=bodies, script=edits, head=st.sampled_from([HEAD, HEAD, HEAD + "system:\n", HEAD.replace("gpt-4o", "'{{x}}'"), ""]))
def test_reparse_equals_a_fresh_parse(body, script, head):
    text = head + body
    replay(PATH, Format.PROMPTY, text, len(head), script)


def test_a_keystroke_inside_a_message_re_renders_only_that_message():
    sections = "\n".join(f"system:\nRule {i}: answer {{{{question}}}} in one line. 🎉\n" for i in range(50))
    text = HEAD + sections
    doc = parse_document(PATH, text, Format.PROMPTY)
    at = text.index("Rule 20:") + len("Rule 20")
    new = text[:at] + "x" + text[at:]
    again = reparse_prompty(doc, new, Edit(at, at, at + 1))
    assert again is not None
    assert again.messages[:20] == doc.messages[:20] and all(a is b for a, b in zip(again.messages[:20], doc.messages))
    assert again.messages[20].content.startswith("Rule 20x: answer Where is my order? 🎉")
    assert again.messages[21].span.start == doc.messages[21].span.start + 1
    assert snapshot(again) == snapshot(parse_document(PATH, new, Format.PROMPTY))


def test_edits_that_change_the_structure_re_render_only_the_sections_they_touch():
    text = HEAD + "system:\nBe brief.\nuser:\n{{question}}\n"
    doc = parse_document(PATH, text, Format.PROMPTY)
    in_frontmatter = text.index("gpt-4o")
    on_role_line = text.index("user:")
    new_role_line = text.index("Be brief.")
    renamed = text[:in_frontmatter] + "x" + text[in_frontmatter:]
    again = reparse_prompty(doc, renamed, Edit(in_frontmatter, in_frontmatter, in_frontmatter + 1))
    assert again is not None and snapshot(again) == snapshot(parse_document(PATH, renamed, Format.PROMPTY))
    assert again.messages[0].content is doc.messages[0].content  # no template: kept, not rendered again
    broken = text[:on_role_line] + "x" + text[on_role_line:]  # "xuser:" is text of the system message
    again = reparse_prompty(doc, broken, Edit(on_role_line, on_role_line, on_role_line + 1))
    assert again is not None and snapshot(again) == snapshot(parse_document(PATH, broken, Format.PROMPTY))
    assert [m.role for m in again.messages] == ["system"]
    split = text[:new_role_line] + "user:\n" + text[new_role_line:]
    # Prompty 2 drops the "system:" line with nothing under it: the whole file is parsed.
    assert reparse_prompty(doc, split, Edit(new_role_line, new_role_line, new_role_line + 6)) is None
    # Prompty 2 gives no message for a role line with no line under it: "system:" is now empty.
    assert [m.role for m in reparse_document(doc, split, Edit(new_role_line, new_role_line, new_role_line + 6)).messages] == ["user", "user"]


# ---- Dotprompt ----

DOTPROMPT_HEAD = """---
model: openai/gpt-4o
input:
  schema:
    question: string
    customer?: string
  default:
    question: Where is my order? 🎉
---
"""
DOTPROMPT_TAGS = [
    '{{role "system"}}\n', '{{role "user"}}\n', '{{~role "model"~}}\n', "{{question}} ", "{{customer}} ", "{{missing}} ",
    "{{> nopartial}}", "{{#if question}}", "{{/if}}", "{{! note }}", "{{!-- long\ncomment --}}", "\\{{escaped}}", "{", "}",
]
DOTPROMPT_PIECES = TEXT_PIECES[:3] + ["\n", "\n\n", "  \n", "\r\n", "x", "é"] + DOTPROMPT_TAGS
# Messages of plain text (where a keystroke is re-parsed alone) and messages with variables and partials
# (whose findings must move with them).
dot_messages = st.tuples(
    st.sampled_from(DOTPROMPT_TAGS[:3]),
    st.one_of(
        st.lists(st.sampled_from(DOTPROMPT_PIECES[:9]), min_size=1, max_size=12).map("".join),
        st.lists(st.sampled_from(DOTPROMPT_PIECES[:9] + ["{{missing}} ", "{{> nopartial}}", "{{question}} "]), min_size=1, max_size=8).map("".join),
    ),
)
dot_bodies = st.tuples(
    st.lists(st.sampled_from(DOTPROMPT_PIECES), max_size=4).map("".join),
    st.lists(dot_messages.map("".join), max_size=6).map("".join),
).map("".join)
dot_inserts = st.one_of(st.sampled_from(DOTPROMPT_PIECES[:9]), st.sampled_from(DOTPROMPT_PIECES[:9]), st.lists(st.sampled_from(DOTPROMPT_PIECES), max_size=3).map("".join))
dot_edits = st.lists(st.tuples(st.sampled_from([True, False, False]), st.floats(0, 1), st.integers(0, 12), dot_inserts), min_size=1, max_size=8)
DOT_PATH = Path("/prompts/support.prompt")


@settings(max_examples=300, deadline=None)
@given(body=dot_bodies, script=dot_edits)
def test_dotprompt_reparse_equals_a_fresh_parse(body, script):
    head = DOTPROMPT_HEAD
    text = head + body
    replay(DOT_PATH, Format.DOTPROMPT, text, len(head), script)


def test_a_keystroke_in_plain_dotprompt_text_keeps_the_other_messages():
    sections = "".join(f'{{{{role "system"}}}}\nRule {i}: answer {{{{question}}}} in one line. 🎉\n\n{{{{role "user"}}}}\nPlain text {i}, no tags.\n\n' for i in range(30))
    text = DOTPROMPT_HEAD + sections + "{{> missing_partial}}\n"
    doc = parse_document(DOT_PATH, text, Format.DOTPROMPT)
    at = text.index("Plain text 10") + len("Plain text 10")
    new = text[:at] + "x" + text[at:]
    again = reparse_dotprompt(doc, new, Edit(at, at, at + 1))
    assert again is not None
    assert all(a is b for a, b in zip(again.messages[:21], doc.messages))
    assert again.messages[21].content == "\nPlain text 10x, no tags.\n\n"  # as Dotprompt sends it, newlines kept
    assert snapshot(again) == snapshot(parse_document(DOT_PATH, new, Format.DOTPROMPT))
    in_a_template = text.index("Rule 10:") + len("Rule 10")
    assert reparse_dotprompt(doc, text[:in_a_template] + "x" + text[in_a_template:], Edit(in_a_template, in_a_template, in_a_template + 1)) is None


def test_reparse_keeps_the_documents_rendering_budget():
    """Messages share one budget: an edit that pushes a later message over it, or one next to a message
    that already hit it, gives what a fresh parse gives."""
    small = 64 * 1024
    text = "---\nmodel: gpt-4o\n---\nsystem:\nBe brief.\nuser:\n{{ 'x' * 20000 }}\nassistant:\n{{ 'y' * 30000 }}\n"
    doc = parse_document(PATH, text, Format.PROMPTY, small)
    assert not doc.problems and doc.max_bytes == small
    at = text.index("20000") + 1
    new = text[:at] + "9" + text[at + 1 :]  # 29000 + 30000 stays under 64 KiB; 90000 does not
    for edited in (new, text[:at] + "5" + text[at + 1 :]):
        again = reparse_document(doc, edited, Edit(at, at + 1, at + 1))
        assert snapshot(again) == snapshot(parse_document(PATH, edited, Format.PROMPTY, small))
    over = text.replace("30000", "90000")
    doc = parse_document(PATH, over, Format.PROMPTY, small)
    assert [p.code for p in doc.problems] == ["limit-exceeded"]
    at = over.index("Be brief") + 2
    edited = over[:at] + "Z" + over[at:]
    again = reparse_document(doc, edited, Edit(at, at, at + 1))
    assert snapshot(again) == snapshot(parse_document(PATH, edited, Format.PROMPTY, small))
