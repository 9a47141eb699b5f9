"""Re-parsing a Dotprompt file after an edit that changes its structure (a role tag typed, broken or mended,
a frontmatter value, a tag typed a character at a time) gives what parsing the new text from scratch gives:
the same messages, problems (codes, spans, messages) and variables."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from promptwise.formats import Format, parse_document, reparse_document
from promptwise.formats.dotprompt import reparse_dotprompt
from promptwise.formats import dotprompt_reparse
from promptwise.formats.dotprompt_reparse import reparse_structure
from promptwise.formats.dotprompt_render import render
from promptwise.text import Edit

from tests.engine.replay import replay, snapshot

HEAD = """---
model: openai/gpt-4o
config:
  maxOutputTokens: 800
input:
  schema:
    question: string
    flag?: boolean
  default:
    question: Where is my order NW-1234? 🎉
    items: [a, b]
---
"""
SECTIONS = [
    '{{role "system"}}\n## Rule 1\nBe brief 👩‍💻.\n\n',
    '{{role "user"}}\n{{question}}\n\n',
    '{{role "model"}}\nAn answer.\n\n',
    '{{role "user"}}\nAsk {{missing}} and {{#if flag}}yes{{/if}}.\n\n',
    '{{role "system"}}\nPlain 日本語 text\r\nwith lines.\n\n',
    '{{role "user"}}\n{{#if question}}Q: {{question}}{{else}}none{{/if}}\n',
    '{{role "user"}}\n{{! a comment {{role "model"}} }}\nAfter it.\n\n',
    '{{role "model"}}\n\\{{escaped}} text and {{json question}}\n\n',
    '{{role "user"}}\n{{{{raw}}}}{{role "x"}}{{{{/raw}}}}\n\n',
    '{{~role "system"~}}\nTrimmed\n\n',
    '{{role "user"}}\n{{#each items}}- {{this}}\n{{/each}}\n',
    '{{role "user"}}\n\n',
]
# What the user types: a role tag, a broken role name, half-typed tags, plain text, blank lines.
TYPED = ['{{role "user"}}', '{{role "model"}}\n', "s", "\n", "\n\n", "{{", "{{ro", "{{#if question}}yes{{/if}}", " {{ question }}", "}}", "{", "x", "~", "\\", "{{!--", "--}}", "{{{{raw}}}}", '{{role "bot"}}', "{{/if}}"]

bodies = st.lists(st.sampled_from(SECTIONS), min_size=1, max_size=6).map("".join)


def typed_one_at_a_time(path: Path, text: str, at: int, word: str, erase: bool = True) -> None:
    """Type `word` at `at` a character at a time (then erase it), checking each version against a fresh parse."""
    doc = parse_document(path, text, Format.DOTPROMPT)
    for ch in word:
        new = text[:at] + ch + text[at:]
        doc = reparse_document(doc, new, Edit(at, at, at + 1))
        assert snapshot(doc) == snapshot(parse_document(path, new, Format.DOTPROMPT)), repr(new[at - 20 : at + 20])
        text, at = new, at + 1
    while erase and word:
        new = text[: at - 1] + text[at:]
        doc = reparse_document(doc, new, Edit(at - 1, at, at - 1))
        assert snapshot(doc) == snapshot(parse_document(path, new, Format.DOTPROMPT)), repr(new[at - 20 : at + 20])
        text, at, word = new, at - 1, word[1:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, share=st.floats(0, 1), word=st.sampled_from(TYPED))
def test_typing_a_character_at_a_time_equals_a_fresh_parse(tmp_path, body, share, word):
    text = HEAD + body
    at = len(HEAD) + int(share * len(body))
    typed_one_at_a_time(tmp_path / "main.prompt", text, at, word)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=bodies,
    script=st.lists(st.tuples(st.sampled_from([False, False, True]), st.floats(0, 1), st.integers(0, 6), st.sampled_from(TYPED + ["", "Hi "])), min_size=1, max_size=8),
)
def test_structural_edits_equal_a_fresh_parse(tmp_path, body, script):
    replay(tmp_path / "main.prompt", Format.DOTPROMPT, HEAD + body, len(HEAD), script)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies, value=st.sampled_from(["NW-1234?", "openai/gpt-4o", "800", "string"]), word=st.sampled_from([" Thanks", "x", "0", ": {{", "\n"]))
def test_frontmatter_values_typed_equal_a_fresh_parse(tmp_path, body, value, word):
    text = HEAD + body
    typed_one_at_a_time(tmp_path / "main.prompt", text, text.index(value) + len(value), word)


def big(n: int = 40) -> str:
    """A long file of the sections that need no whole parse (no loop, no whitespace control)."""
    return HEAD + "".join(SECTIONS[i % 6] for i in range(n))


def test_a_role_tag_broken_and_mended_renders_only_its_section(tmp_path, monkeypatch):
    rendered = []

    def counting(*args):
        result = render(*args)
        rendered.append(len(result.messages))
        return result

    monkeypatch.setattr(dotprompt_reparse, "render", counting)
    path = tmp_path / "main.prompt"
    text = big()
    doc = parse_document(path, text, Format.DOTPROMPT)
    at = text.index('{{role "user', len(text) // 2) + len('{{role "user')
    broken = text[:at] + "s" + text[at:]
    again = reparse_structure(doc, broken, Edit(at, at, at + 1))
    assert again is not None
    assert [p.code for p in again.problems if p.code == "template-error"] == ["template-error"]
    assert snapshot(again) == snapshot(parse_document(path, broken, Format.DOTPROMPT))
    assert rendered == [1]  # the one section, of 40
    mended = reparse_structure(again, text, Edit(at, at + 1, at))
    assert mended is not None and snapshot(mended) == snapshot(doc) and rendered == [1, 1]


def test_a_role_tag_typed_on_a_line_splits_the_message(tmp_path):
    path = tmp_path / "main.prompt"
    text = big()
    doc = parse_document(path, text, Format.DOTPROMPT)
    at = text.index("## Rule 1\n", len(text) // 2) + len("## Rule 1\n")
    new = text[:at] + '{{role "user"}}' + text[at:]
    again = reparse_dotprompt(doc, new, Edit(at, at, at + len('{{role "user"}}')))
    assert again is not None and len(again.messages) == len(doc.messages) + 1
    assert snapshot(again) == snapshot(parse_document(path, new, Format.DOTPROMPT))


def test_a_half_typed_tag_errs_at_one_place(tmp_path):
    path = tmp_path / "main.prompt"
    text = big()
    doc = parse_document(path, text, Format.DOTPROMPT)
    at = text.index("\n\n", len(text) // 2) + 1
    for typed in ("{{", "{{ro", "{{#if"):
        new = text[:at] + typed + text[at:]
        again = reparse_structure(doc, new, Edit(at, at, at + len(typed)))
        fresh = parse_document(path, new, Format.DOTPROMPT)
        assert again is not None and snapshot(again) == snapshot(fresh)
        assert [p.code for p in again.problems] == ["template-error"]


def test_a_model_name_edit_keeps_every_message(tmp_path):
    path = tmp_path / "main.prompt"
    text = big()
    doc = parse_document(path, text, Format.DOTPROMPT)
    at = text.index("gpt-4o") + len("gpt-4o")
    new = text[:at] + "-mini" + text[at:]
    again = reparse_structure(doc, new, Edit(at, at, at + 5))
    assert again is not None and again.model == "openai/gpt-4o-mini"
    assert [m.content for m in again.messages] == [m.content for m in doc.messages]
    assert snapshot(again) == snapshot(parse_document(path, new, Format.DOTPROMPT))


def test_a_sample_value_edit_renders_the_sections_that_read_it(tmp_path):
    path = tmp_path / "main.prompt"
    text = big()
    doc = parse_document(path, text, Format.DOTPROMPT)
    at = text.index("NW-1234?") + len("NW-1234?")
    new = text[:at] + " Thanks" + text[at:]
    again = reparse_structure(doc, new, Edit(at, at, at + 7))
    assert again is not None and any("NW-1234? Thanks" in m.content for m in again.messages)
    assert snapshot(again) == snapshot(parse_document(path, new, Format.DOTPROMPT))


def test_partials_fall_back_to_a_whole_parse(tmp_path):
    path = tmp_path / "main.prompt"
    (tmp_path / "_p.prompt").write_text("partial text")
    text = HEAD + '{{role "user"}}\nA\n\n{{role "model"}}\n{{> p}}\n'
    doc = parse_document(path, text, Format.DOTPROMPT)
    at = text.index("A\n") + 2
    new = text[:at] + '{{role "user"}}' + text[at:]
    assert reparse_structure(doc, new, Edit(at, at, at + len('{{role "user"}}'))) is None


def test_typing_in_a_long_template_equals_a_fresh_parse(tmp_path):
    """Past 64 KiB the scan of an edit reuses the tags on each side of it (dotprompt_scan.scan_edited)."""
    filler = "".join(f"## Rule {i}\nKeep replies short and cite the policy you used.\n\n" for i in range(1400))
    text = HEAD + SECTIONS[0] + filler + "".join(SECTIONS[1:6]) + filler + SECTIONS[1]
    assert len(text) > 128 * 1024
    path = tmp_path / "main.prompt"
    for share, word in ((0.3, '{{role "user"}}'), (0.5, "{{#if question}}yes{{/if}}"), (0.52, "}}"), (0.7, "\\{{x")):
        at = text.index("\n\n", int(len(text) * share)) + 1
        typed_one_at_a_time(path, text, at, word)
    for at, word in ((len(HEAD), "x "), (len(HEAD), "\n"), (len(HEAD) + 1, "{"), (len(text) - 1, "}}{{")):  # where the template starts and ends
        typed_one_at_a_time(path, text, at, word)
    for at, word in ((HEAD.index("NW-1234?") + 8, " Thanks"), (HEAD.index("800") + 3, "0")):  # the input's sample, and not the input
        typed_one_at_a_time(path, text, at, word)


def test_keys_in_the_frontmatter_and_the_body_of_a_long_template_in_turn_equal_a_fresh_parse(tmp_path):
    """A frontmatter edit keeps the last version's template and its scan; the body edit after it scans
    against them."""
    filler = "".join(f"## Rule {i}\nKeep replies short and cite the policy you used.\n\n" for i in range(1400))
    text = HEAD + SECTIONS[0] + filler + "".join(SECTIONS[1:6]) + filler + SECTIONS[1]
    path = tmp_path / "main.prompt"
    doc = parse_document(path, text, Format.DOTPROMPT)
    question = HEAD.index("NW-1234?") + 8
    body = text.index("\n\n", len(text) // 2) + 1
    for at, typed in [(body, "{"), (question, "!"), (body + 2, "{"), (question + 1, "?"), (body + 4, "x"), (HEAD.index("800"), "1"), (body + 6, "}}")]:
        new = text[:at] + typed + text[at:]
        doc = reparse_document(doc, new, Edit(at, at, at + len(typed)))
        assert snapshot(doc) == snapshot(parse_document(path, new, Format.DOTPROMPT)), (at, typed)
        text = new
        body += len(typed) if at < body else 0
