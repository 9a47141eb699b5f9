"""Re-parsing a Dotprompt file with partials after a keystroke gives what parsing the new text from scratch
gives: partials that bring their own role tags, partials inside branches and loops, partial blocks."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from promptwise.formats import Format, parse_document, reparse_document
from promptwise.formats.dotprompt import reparse_dotprompt
from promptwise.text import Edit

from tests.engine.replay import replay, snapshot

HEAD = """---
model: googleai/gemini-2.5-flash
input:
  default:
    question: Where is my order? 🎉
    items: [a, b]
    flag: true
---
"""
PARTIALS = {
    "persona": '{{role "system"}}\nYou are kind.\n{{role "user"}}\n',
    "plain": "Plain partial text {{question}}.",
    "looped": "- {{this}}\n",
    "nested": "Outer {{> plain}} end.",
}
TAGS = [
    '{{role "system"}}\n', '{{role "user"}}\n', '{{~role "model"~}}\n', "{{> persona}}\n", "{{> plain}}", "{{> nested}}",
    "{{> nowhere}}", "{{#each items}}{{> looped}}{{/each}}\n", "{{#if flag}}{{> persona}}{{/if}}\n", "{{#> nowhere}}fallback{{/nowhere}}",
    "{{question}} ", "{{missing}} ", "{{#if flag}}", "{{/if}}", "{{! note }}", "\\{{escaped}}", "{", "}", "<<<", ">",
]
TEXT = ["Be brief. ", "日本語のテキスト ", "👩‍💻 ", "\n", "\n\n", "  \n", "\r\n", "x", "é"]
PIECES = TEXT + TAGS
messages = st.tuples(
    st.sampled_from(TAGS[:4]),
    st.one_of(
        st.lists(st.sampled_from(TEXT), min_size=1, max_size=10).map("".join),
        st.lists(st.sampled_from(TEXT + TAGS[4:11]), min_size=1, max_size=8).map("".join),
    ),
)
bodies = st.tuples(
    st.lists(st.sampled_from(PIECES), max_size=3).map("".join),
    st.lists(messages.map("".join), max_size=6).map("".join),
).map("".join)
inserts = st.one_of(st.sampled_from(TEXT), st.sampled_from(TEXT), st.lists(st.sampled_from(PIECES), max_size=3).map("".join))
edits = st.lists(st.tuples(st.sampled_from([True, False, False]), st.floats(0, 1), st.integers(0, 12), inserts), min_size=1, max_size=8)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dotprompt-reparse")
    for name, text in PARTIALS.items():
        (root / f"_{name}.prompt").write_text(text, encoding="utf-8")
    return root


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, script=edits)
def test_reparse_with_partials_equals_a_fresh_parse(workspace, body, script):
    path = workspace / "main.prompt"
    text = HEAD + body
    replay(path, Format.DOTPROMPT, text, len(HEAD), script)


def test_plain_text_next_to_partials_is_re_parsed_alone(workspace):
    path = workspace / "main.prompt"
    sections = "".join(f'{{{{role "user"}}}}\nPlain text {i}, no tags.\n{{{{> persona}}}}\nAsk {{{{question}}}}.\n' for i in range(10))
    text = HEAD + sections
    doc = parse_document(path, text, Format.DOTPROMPT)
    assert [m.role for m in doc.messages][:3] == ["user", "system", "user"]
    at = text.index("Plain text 4") + len("Plain text 4")
    new = text[:at] + "x" + text[at:]
    again = reparse_dotprompt(doc, new, Edit(at, at, at + 1))
    assert again is not None and again.messages[12].content == "\nPlain text 4x, no tags.\n"
    assert snapshot(again) == snapshot(parse_document(path, new, Format.DOTPROMPT))
    # inside a message a partial produced, the whole file is parsed again
    inside = text.index("Ask ") + 1
    assert reparse_dotprompt(doc, text[:inside] + "x" + text[inside:], Edit(inside, inside, inside + 1)) is None


def test_an_edit_to_a_partial_file_shows_on_the_next_parse(workspace):
    folder = workspace / "edited"
    folder.mkdir()
    (folder / "_p.prompt").write_text("one")
    path = folder / "main.prompt"
    text = HEAD + "Say {{> p}}.\n"
    assert parse_document(path, text, Format.DOTPROMPT).messages[0].content == "Say one."
    (folder / "_p.prompt").write_text("two, longer")
    assert parse_document(path, text, Format.DOTPROMPT).messages[0].content == "Say two, longer."
