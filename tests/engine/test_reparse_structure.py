"""Edits that change a Prompty file's structure (role lines typed, broken or removed, text at line starts,
blank lines that become role lines, frontmatter values, half-typed template tags) re-parse to what a fresh
parse gives, re-rendering only what they touched; a long section rendered run by run renders as Jinja2
renders it whole, errors included."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

from hypothesis import given, settings, strategies as st

from promptwise.formats import Format, parse_document, prompty, prompty_layout, reparse_document
from promptwise.formats import prompty_render as engine
from promptwise.formats.limits import Budget, limits_for
from promptwise.formats.prompty import reparse_prompty
from promptwise.formats.prompty_layout import Layout
from promptwise.text import Edit

from tests.engine.replay import replay, snapshot

V1_HEAD = """---
model:
  api: chat
  configuration:
    type: openai
    name: gpt-4o
sample:
  question: Where is my order? 🎉
---
"""
V2_HEAD = """---
model: gpt-4o
inputs:
  question:
    sample: Where is my order? 🎉
---
"""
PATH = Path("/prompts/structure.prompty")

# ---- a long section, run by run ----

BITS = [
    "Hello world. ", "\n", "\r\n", "\r", "{{ question }}", "{{ q", "}}", "{{ 'a}}b' }}", '{{ "x', '"', "{{ missing }}", "{{ a.b }}",
    "日本語 🎉 ", "{", "}", "{{ (1 }}", "{{ 1 + }}", "\n\n", "?", "{{ question | upper }}", "{{\n question\n }}", "{{ 'two\nlines' }}",
]
SIMPLE = Layout("v1", False, 0, [], True)


def _outcome(render) -> tuple:
    touched: set[str] = set()
    budget = Budget(limits_for(None))
    try:
        result = ("rendered", render(budget, touched), (budget.output, budget.steps))
    except Exception as exc:  # the error a finding is made of: its kind, words and line
        result = ("failed", type(exc).__name__, getattr(exc, "message", str(exc)), getattr(exc, "lineno", None))
    return result, sorted(touched)


@settings(max_examples=400, deadline=None)
@given(source=st.lists(st.sampled_from(BITS), min_size=1, max_size=60).map("".join), window=st.sampled_from([0, 3, 12, 4096]))
def test_a_section_rendered_run_by_run_is_the_section_rendered_whole(source, window):
    values = {"question": "Where? 🎉"}
    whole = _outcome(lambda budget, touched: engine.render(source, values, budget, False, touched))
    with mock.patch.object(prompty, "PIECEWISE", -1), mock.patch.object(prompty_layout, "ERROR_WINDOW", window):
        runs = _outcome(lambda budget, touched: prompty._render_text(source, values, budget, SIMPLE, touched))
        names = prompty._free_names(source, SIMPLE)
    assert runs == whole
    try:
        expected = engine.undeclared(source)
    except Exception:
        expected = frozenset()
    assert names == expected


def test_an_error_far_into_a_long_section_is_reported_where_jinja2_reports_it():
    source = "".join(f"Rule {i}: be brief 🎉\r\n" for i in range(400)) + "{{ question\nmore text ? here\n" + "Tail.\n" * 300
    with mock.patch.object(prompty_layout, "ERROR_WINDOW", 8):
        got = _outcome(lambda budget, touched: prompty._render_text(source, {}, budget, SIMPLE, touched))
    assert got == _outcome(lambda budget, touched: engine.render(source, {}, budget, False, touched))
    assert got[0][0] == "failed" and got[0][3] == 402  # at "more", the token after the name


def test_the_error_window_is_parsed_once_for_the_render_and_the_names_of_a_section():
    source = "".join(f"Rule {i}: be brief.\n" for i in range(300)) + "{{ question\nmore text ? here\n" + "Tail.\n" * 300
    at = source.index("{{ question")
    parses = []

    def parse(text: str):
        parses.append(len(text))
        return engine.ENV.parse(text)

    prompty_layout._window_parse.cache_clear()
    first = prompty_layout.window_error(source, at, parse)
    again = prompty_layout.window_error(source, at, parse)
    assert len(parses) == 1
    assert first is not again and (first.message, first.lineno) == (again.message, again.lineno)
    assert first.message == "expected token 'end of print statement', got 'more'" and first.lineno == 302


# ---- edits that change the structure ----

STRUCTURE = [
    "system:\n", "user:\n", "assistant:\n", "users:\n", "user", ":", "s", "\n", "\n\n", "\r\n", " ", "Be brief. ", "日本語 ", "👩‍💻 ",
    "{{question}} ", "{{ question", " }}", "{{", "}}", "{{ missing }} ", "# user:\n", "  user:  \n", "x",
]
TEXT = ["Be brief. ", "日本語 ", "👩‍💻 ", "{{question}} ", "\n", "x", "Always cite. "]
messages = st.tuples(st.sampled_from(["system:\n", "user:\n", "assistant:\n"]), st.lists(st.sampled_from(TEXT), min_size=1, max_size=8).map("".join))
bodies = st.lists(messages.map("".join), min_size=1, max_size=8).map("".join)
inserts = st.one_of(st.sampled_from(STRUCTURE), st.lists(st.sampled_from(STRUCTURE), max_size=3).map("".join), st.just(""))
edits = st.lists(st.tuples(st.sampled_from([True, False, False, False, False]), st.floats(0, 1), st.integers(0, 8), inserts), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(body=bodies, script=edits, head=st.sampled_from([V1_HEAD, V2_HEAD]), piecewise=st.booleans())
def test_structural_edits_re_parse_to_a_fresh_parse(body, script, head, piecewise):
    with mock.patch.object(prompty, "PIECEWISE", -1 if piecewise else prompty.PIECEWISE):
        replay(PATH, Format.PROMPTY, head + body, len(head), script)


def _typed(text: str, at: int, keys: str):
    """Type `keys` at `at` one by one (backspace as \\b): each version re-parsed from the one before it,
    and each equal to a fresh parse. Returns the documents, the first one's parse first."""
    doc = parse_document(PATH, text, Format.PROMPTY)
    docs = [doc]
    for key in keys:
        if key == "\b":
            new, edit = text[: at - 1] + text[at:], Edit(at - 1, at, at - 1)
            at -= 1
        else:
            new, edit = text[:at] + key + text[at:], Edit(at, at, at + 1)
            at += 1
        doc = reparse_document(doc, new, edit)
        assert snapshot(doc) == snapshot(parse_document(PATH, new, Format.PROMPTY))
        docs.append(doc)
        text = new
    return docs


BODY = "system:\n" + "".join(f"Rule {i}: answer in one line. 🎉\n\n" for i in range(30)) + "user:\n{{question}}\n\nassistant:\nSure.\n"


def test_a_role_line_typed_on_a_blank_line_splits_the_message_and_keeps_the_others():
    text = V1_HEAD + BODY
    blank = text.index("\n\nRule 15") + 1
    docs = _typed(text, blank, "user:" + "\b" * 5)
    assert [m.role for m in docs[5].messages] == ["system", "user", "user", "assistant"]
    assert docs[5].messages[-1].content is docs[0].messages[-1].content  # kept, not rendered again
    assert [m.role for m in docs[-1].messages] == ["system", "user", "assistant"]


def test_a_role_line_broken_and_mended_merges_and_splits_the_messages():
    text = V2_HEAD + BODY
    at = text.index("user:") + len("user")
    docs = _typed(text, at, "s\bs\b")
    assert [m.role for m in docs[1].messages] == ["system", "assistant"]
    assert "users:" in docs[1].messages[0].content and "Where is my order?" in docs[1].messages[0].content
    assert [m.role for m in docs[2].messages] == ["system", "user", "assistant"]
    assert docs[2].messages[-1].content is docs[0].messages[-1].content


def test_words_typed_at_the_start_of_a_line_and_of_a_role_line():
    text = V1_HEAD + BODY
    _typed(text, text.index("Rule 7:"), "Also \b\b\b\b\b")
    docs = _typed(text, text.index("assistant:"), "x\b")
    assert [m.role for m in docs[1].messages] == ["system", "user"]


def test_a_template_tag_typed_a_character_at_a_time_in_a_long_section():
    text = V1_HEAD + "system:\n" + "".join(f"Rule {i}: answer in one line. 🎉\n\n" for i in range(700)) + "user:\n{{question}}\n"
    assert len(text) > prompty.PIECEWISE
    at = text.index("Rule 350:")
    docs = _typed(text, at, "{{ question }}" + "\b" * 14)
    assert any(p.code == "template-error" for p in docs[4].problems)  # "{{ q": not closed yet
    assert docs[14].messages[0].content.startswith("Rule 0") and "Where is my order? 🎉Rule 350" in docs[14].messages[0].content
    assert not docs[14].problems and snapshot(docs[-1]) == snapshot(docs[0])


def test_a_frontmatter_value_typed_renders_only_the_messages_with_a_template():
    text = V1_HEAD + BODY
    docs = _typed(text, text.index("order?") + len("order?"), " Thanks" + "\b" * 7)
    assert docs[7].messages[1].content == "Where is my order? Thanks 🎉"
    assert docs[7].messages[0].content is docs[0].messages[0].content  # no template: kept as it was
    assert snapshot(docs[-1]) == snapshot(docs[0])


def test_an_edit_that_changes_the_body_style_parses_the_whole_file():
    text = V1_HEAD + BODY
    doc = parse_document(PATH, text, Format.PROMPTY)
    at = text.index("sample:")
    new = text[:at] + "x" + text[at:]  # "xsample": no sample, so a Prompty 2 file now
    again = reparse_prompty(doc, new, Edit(at, at, at + 1))
    assert snapshot(again) == snapshot(parse_document(PATH, new, Format.PROMPTY))


# ---- the diagnostics pull while typing ----


def test_a_pull_of_a_long_document_waits_for_a_pause_and_gives_way_to_a_newer_version():
    import asyncio
    from types import SimpleNamespace

    from lsprotocol import types as lsp

    from promptwise.lsp import diagnostics
    from promptwise.lsp.documents import Workspace

    state = Workspace()
    uri = "file:///prompts/long.prompty"
    doc = state.open(uri, V1_HEAD + "system:\n" + "Rule: be brief.\n" * (diagnostics.LARGE_DOCUMENT // 16 + 1), 1)
    ls = SimpleNamespace(state=state)
    key = lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(10, 0), lsp.Position(10, 0)), text="x")

    async def typing() -> None:
        state.change(uri, 2, [key])
        waiting = asyncio.ensure_future(diagnostics._typing_paused(ls, uri))
        await asyncio.sleep(0)
        state.change(uri, 3, [key])  # the next key, before the pause
        try:
            await waiting
        except asyncio.CancelledError:
            return
        raise AssertionError("the pull of version 2 went on after version 3 came")

    async def paused() -> None:
        doc.changed_at -= diagnostics.DEBOUNCE_SECONDS  # typing stopped a while ago
        await diagnostics._typing_paused(ls, uri)  # returns: the scan may run

    asyncio.run(typing())
    asyncio.run(paused())


def test_a_pull_waiting_for_a_pause_holds_no_version_of_the_text():
    """The pulls of a burst of typing wait for the pause before asking for the analysis: a pull that held its
    version while it waited kept one copy of a long document per keystroke."""
    import asyncio
    from types import SimpleNamespace

    from lsprotocol import types as lsp

    from promptwise.lsp import diagnostics
    from promptwise.lsp.documents import Workspace

    state = Workspace()
    uri = "file:///prompts/long.prompty"
    state.open(uri, V1_HEAD + "system:\n" + "Rule: be brief.\n" * (diagnostics.LARGE_DOCUMENT // 16 + 1), 1)
    asked: list[int] = []

    async def analysis(u: str):
        asked.append(state.get(u).version)
        return state.snapshot(u)

    ls = SimpleNamespace(state=state, analysis=analysis, generation=0)
    key = lsp.TextDocumentContentChangePartial(range=lsp.Range(lsp.Position(10, 0), lsp.Position(10, 0)), text="x")
    params = lsp.DocumentDiagnosticParams(lsp.TextDocumentIdentifier(uri))

    async def burst() -> None:
        pulls = []
        for version in range(2, 6):
            state.change(uri, version, [key])
            pulls.append(asyncio.ensure_future(diagnostics.document_diagnostic(ls, params)))
            await asyncio.sleep(0.01)
        done = await asyncio.gather(*pulls[:-1], return_exceptions=True)
        assert all(isinstance(d, asyncio.CancelledError) for d in done)
        pulls[-1].cancel()

    asyncio.run(burst())
    assert asked == []  # no pull of the burst asked for (and so held) an analysis
