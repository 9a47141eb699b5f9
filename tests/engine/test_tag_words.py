"""A tag's words, split fast, are the words the library and the scanner split a character at a time; and a
`{{` left open is reported where it opens only when the library is sure to refuse the template."""

from __future__ import annotations

import pytest
from dotpromptz_handlebars._render import compile_template
from hypothesis import given, settings, strategies as st

from promptwise.formats import Format, parse_document
from promptwise.formats.dotprompt_render import LIBRARY_SPLIT
from promptwise.formats.dotprompt_scan import bits, scan
from promptwise.formats.tag_words import find_pair, split_words

RUNS_ON = "this {{ is not closed before the next {{"


def walked(text: str) -> list[str]:
    """The scanner's split as it was written: a character at a time."""
    out, buf, depth, quote = [], [], 0, ""
    for ch in text:
        if quote:
            buf.append(ch)
            quote = "" if ch == quote else quote
            continue
        if ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch.isspace() and depth <= 0:
            if buf:
                out.append("".join(buf))
                buf = []
            continue
        buf.append(ch)
    if buf:
        out.append("".join(buf))
    return out


tag_text = st.text(alphabet=list("ab =.#@{}\"'()[]\t\n\u00a0\u3000\x1c"), max_size=24)


@settings(max_examples=3000, deadline=None)
@given(text=tag_text)
def test_the_split_is_the_libraries_and_the_scanners(text):
    assert split_words(text, split_when_unbalanced=False) == LIBRARY_SPLIT(text)
    assert split_words(text, split_when_unbalanced=True) == walked(text)
    assert bits(text) == walked(text)


@pytest.mark.parametrize(
    "text, words",
    [
        ('role "user"', ["role", '"user"']),
        ('a "b c" (d e) [f g]', ["a", '"b c"', "(d e)", "[f g]"]),
        ("x) y z", ["x)", "y", "z"]),  # below depth 0: the scanner splits, the library does not
        ('open "quote runs to the end', ["open", '"quote runs to the end']),
        ("  lead and trail  ", ["lead", "and", "trail"]),
    ],
)
def test_words_of_typical_tags(text, words):
    assert split_words(text, split_when_unbalanced=True) == words


def test_below_depth_zero_the_library_keeps_one_word():
    assert LIBRARY_SPLIT("x) y z") == split_words("x) y z", split_when_unbalanced=False) == ["x) y z"]


templates = st.lists(
    st.sampled_from(["{{", "}}", "{{r", "{{role ", '"user"', '"', "'", "(", ")", "[", "]", "=", " ", "\n", "x", "#if ", "/if", "else ", "! ", ">", "&", " as |y|", "{{{", "}}}"]),
    max_size=12,
).map("".join)


@settings(max_examples=6000, deadline=None)
@given(template=templates)
def test_the_scanner_says_runs_on_only_where_the_library_refuses(template):
    found = scan(template)
    if found.error is not None and str(found.error) == RUNS_ON:
        with pytest.raises(Exception):
            compile_template(template)


@pytest.mark.parametrize(
    "template",
    [
        '{{foo "a {{ b"}}',  # inside a string: the library takes it
        "{{foo (bar {{x)}}",  # a subexpression: the library takes it at compile time
        "{{foo a=b{{c}}",  # a hash argument: left to the library
        "{{foo a.[{{b]}}",  # a [segment]: anything goes inside
        '{{#if x}}a{{else {{y}}b{{/if}}',  # only the first word of {{else}} is read
        "{{! a comment {{ }}",
        "{{{! {{}}}",  # a triple's inside is read as a tag: this one is a comment
        "{{#if x}}{{{else {{y}}}{{/if}}",
    ],
)
def test_a_brace_the_library_may_take_is_left_to_it(template):
    found = scan(template)
    assert found.error is None or str(found.error) != RUNS_ON


def test_a_half_typed_tag_errs_where_it_opens(tmp_path):
    body = '{{role "system"}}\n## Rule 1\nBe brief.\n\n' + "".join(f"## Rule {i}\nText {i}.\n\n" for i in range(2, 40))
    body += '{{role "user"}}\n{{question}}\n'
    head = "---\nmodel: openai/gpt-4o\ninput:\n  default:\n    question: Where?\n---\n"
    at = len(head) + body.index("## Rule 20")
    for typed in ("{{", "{{r", "{{role", "{{#if question", "{{> part"):
        text = head + body[: at - len(head)] + typed + body[at - len(head) :]
        doc = parse_document(tmp_path / "main.prompt", text, Format.DOTPROMPT)
        errors = [p for p in doc.problems if p.code == "template-error"]
        assert [(p.message, p.span.start, p.span.end) for p in errors] == [(f"Handlebars: {RUNS_ON}", at, at + 2)], typed


def test_a_half_typed_role_name_errs_at_its_tag_and_says_what_is_open(tmp_path):
    """`{{role "us` before another tag: the quote closes in that tag, so the library reads a role named
    with the text between; the error is the tag's, not the library's quote of that text."""
    head = "---\nmodel: openai/gpt-4o\n---\n"
    body = '{{role "system"}}\nBe brief, don\'t ramble.\n\n## Rule 2\nSay "hi" (twice).\n\n{{role "user"}}\nQ?\n'
    at = len(head) + body.index("## Rule 2")
    for typed in ('{{role "', '{{role "us', "{{role 'us"):
        text = head + body[: at - len(head)] + typed + body[at - len(head) :]
        doc = parse_document(tmp_path / "main.prompt", text, Format.DOTPROMPT)
        errors = [(p.message, p.span.start, p.span.end) for p in doc.problems if p.code == "template-error"]
        assert errors == [("Handlebars: this role name's quote is not closed before the next {{", at, at + 2)], typed
    closed = parse_document(tmp_path / "main.prompt", head + body.replace("## Rule 2", '{{role "user"}}\n## Rule 2'), Format.DOTPROMPT)
    assert not [p for p in closed.problems if p.code == "template-error"]


def test_the_library_message_quotes_the_template_as_written_and_briefly(tmp_path):
    """A library error quoting a role tag quotes it without the marker the render adds, and a long
    quote (of a tag left open up to the next one) is cut in the middle."""
    head = "---\nmodel: openai/gpt-4o\n---\n"
    text = head + '{{role "system"}}\nBe brief.\n\n{{role "x" a=(\n' + "Long rule text. " * 40 + '\n\n{{role "user"}}\nQ?\n'
    doc = parse_document(tmp_path / "main.prompt", text, Format.DOTPROMPT)
    (message,) = [p.message for p in doc.problems if p.code == "template-error"]
    assert "promptwise_tag" not in message
    assert message.startswith("Handlebars: (\nLong rule text.") and message.endswith('{{role "user" is not valid'), message
    assert " … " in message and len(message) < 200


def test_only_the_last_two_long_templates_are_kept():
    from promptwise.formats.dotprompt_scan import CACHED_SOURCE, LONG_SCANS

    long = '{{role "user"}}\n' + "Rule. " * (CACHED_SOURCE // 6 + 1)
    versions = [long + "x" * i for i in range(4)]
    first = scan(versions[0])
    assert scan("".join([versions[0]])) is first  # an equal text, another string: the same scan
    for v in versions[1:]:
        scan(v)
    assert len(LONG_SCANS._items) == 2 and scan(versions[0]) is not first


def _fields(found):
    error = (str(found.error), found.error.span) if found.error is not None else None
    tags = [(t.span, t.body, t.inject_at, t.raw_block) for t in found.tags] if found.tags is not None else None
    return (
        [(t.span, t.body, t.inject_at) for t in found.roles],
        sorted(found.top_level_roles),
        [(p.name, p.span, p.name_span, p.block, p.close_name_span) for p in found.partials],
        [(v.path, v.span, v.scoped, v.guards) for v in found.variables],
        sorted(found.helpers),
        sorted(found.inline),
        error,
        tags,
    )


SECTIONS = [
    '{{role "system"}}\n## Rule\nBe brief.\n\n',
    '{{role "user"}}\n{{question}} and {{#if flag}}yes{{else}}no{{/if}}\n\n',
    "{{! a comment {{x}} }}\n{{!-- long {{ --}}\n\\{{escaped}}\n",
    "{{{{raw}}}}{{role 'x'}}{{{{/raw}}}} {{{triple}}} {{~trim~}}\n",
    '{{#each items as |item|}}- {{item}}\n{{/each}}\n{{> part name="a"}}\n',
]
EDITS = ["{", "{{", "}", "}}", "{{r", '"', "'", "~", "\\", "x", " ", "\n", "{{!--", "--}}", "{{{{raw}}}}", "{{/if}}", "}}}"]


@settings(max_examples=300, deadline=None)
@given(
    layout=st.lists(st.integers(0, len(SECTIONS) - 1), min_size=1, max_size=8),
    edits=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), st.sampled_from(EDITS + [""])), min_size=1, max_size=6),
)
def test_a_long_template_edited_scans_as_it_does_from_scratch(layout, edits):
    from promptwise.formats import dotprompt_scan as ds

    filler = "Plain text of a long prompt. " * (ds.CACHED_SOURCE // 29 + 1)
    text = "".join(SECTIONS[i] + (filler if n == len(layout) // 2 else "") for n, i in enumerate(layout))
    found = ds._scan(text)
    assert found.opens == text.count("{{")
    for share, removed, typed in edits:
        at = int(share * len(text))
        end = min(len(text), at + removed)
        new = text[:at] + typed + text[end:]
        ds.LONG_SCANS._items.clear()  # a version typed before would come back with its own count
        again = ds.scan_edited(new, found, at, end, at + len(typed))
        assert _fields(again) == _fields(ds._scan(new)), (text[max(0, at - 30) : at + 30], typed)
        assert found.tags is None or "opens" in again.__dict__, "the count of `{{` is carried from the last version"
        assert again.opens == new.count("{{"), (text[max(0, at - 30) : at + 30], typed)
        text, found = new, again


def test_the_count_of_opening_braces_after_an_edit_in_a_run_of_braces():
    from promptwise.formats import dotprompt_scan as ds

    text = "x" * ds.CACHED_SOURCE + "a{{{b{{{{c"
    found = ds._scan(text)
    assert found.opens == 3
    for at, removed, typed in [(len(text) - 8, 1, ""), (len(text) - 9, 0, "{"), (len(text) - 2, 1, "{")]:
        ds.LONG_SCANS._items.clear()
        new = text[:at] + typed + text[at + removed :]
        again = ds.scan_edited(new, found, at, at + removed, at + len(typed))
        assert again.opens == new.count("{{")
    long_run = ds._scan("x" * ds.CACHED_SOURCE + "{" * 200)
    assert long_run.opens == 100
    at = len(long_run.source) - 99
    assert ds._opens_edited(long_run.source[:at] + "}" + long_run.source[at:], long_run, at, at, at + 1) is None  # counted again when asked


@settings(max_examples=3000, deadline=None)
@given(
    text=st.lists(st.sampled_from(["{", "}", "{{", "a", "😀", " ", "{" * 20 + "a"]), max_size=20).map("".join),
    pair=st.sampled_from(["{{", "}}", "{}", "}{"]),
    start=st.integers(-3, 60),
    end=st.one_of(st.none(), st.integers(-3, 60)),
)
def test_find_pair_finds_what_str_find_finds(text, pair, start, end):
    assert find_pair(text, pair, start, end) == text.find(pair, start, end)


def test_a_closing_tag_left_open_names_only_its_first_word():
    """`{{/i` typed before a long text runs on to the next tag's `}}`: the scanner reads its name, not
    every word of the text."""
    found = scan('{{role "user"}}\n{{#if q}}yes{{/i\n' + "Some rule text here. " * 5000 + '\n{{role "user"}}\nQ')
    assert str(found.error) == "{{/i}} does not close {{#if}}"
    assert found.error.span.start == len('{{role "user"}}\n{{#if q}}yes')
