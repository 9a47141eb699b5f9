"""Prompt files are data: templates run sandboxed and within limits, includes stay in the workspace."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from promptwise import access
from promptwise.formats import Format, glob_match, glob_problem, parse_document, read_prompt_file, render_document
from promptwise.formats import handlebars as hb

FM = "---\nmodel: gpt-4o\n---\n"
SECRET = "sk-test-SECRET-value-0123456789"


def bounded(fn, *args, timeout: float = 120):
    """Run `fn` with a generous timeout that only guards against a hang; nothing asserts a duration."""
    result: dict = {}

    def run():
        try:
            result["value"] = fn(*args)
        except BaseException as exc:  # re-raised in the test's thread
            result["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        pytest.fail(f"{getattr(fn, '__name__', fn)} did not finish within {timeout} s")
    if "error" in result:
        raise result["error"]
    return result["value"]


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A repository (its own workspace) beside a folder outside it holding a secret, and a fake home."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "id_rsa").write_text(SECRET + "\n")
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(SECRET + "\n")
    monkeypatch.setenv("HOME", str(home))
    access.set_workspace(None)
    access.set_allowed([home / ".claude"])
    yield root
    access.set_workspace(None)
    access.set_allowed(None)


def parse(path: Path, text: str, fmt: Format, max_bytes: int | None = None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return bounded(parse_document, path, text, fmt, max_bytes)


def codes(doc) -> list[str]:
    return [p.code for p in doc.problems]


def everything(doc) -> str:
    """All the text a document makes available to counting, hovers and reports."""
    parts = [m.content for m in doc.messages] + [p.message for p in doc.problems] + [i.text for i in doc.includes]
    return "\n".join(parts)


# ---- Jinja2 (Prompty) ----


def test_template_code_execution_is_blocked_and_reported_on_its_line(repo, tmp_path):
    marker = tmp_path / "PWNED"
    body = f"user:\nHello\n{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}\n"
    doc = parse(repo / "x.prompty", FM + body, Format.PROMPTY)
    assert not marker.exists()
    [problem] = doc.problems
    assert problem.code == "template-error" and "blocked" in problem.message and "__init__" in problem.message
    assert doc.text[problem.span.start : problem.span.end].startswith("{{ cycler.__init__")


@pytest.mark.parametrize(
    "expression",
    [
        "cycler.__init__.__globals__.os.environ",
        "joiner.__init__.__globals__['os'].environ",
        "namespace.__init__.__globals__.os.environ",
        "self._TemplateReference__context",
        "cycler.next.__globals__",
        "range.__globals__",
        "''.__class__.__mro__[1].__subclasses__()",
        "lipsum.__globals__.os.environ",
        "dict.fromkeys",
    ],
)
def test_nothing_in_a_template_reads_the_environment(repo, monkeypatch, expression):
    monkeypatch.setenv("PROMPTWISE_TEST_SECRET", SECRET)
    doc = parse(repo / "x.prompty", FM + "user:\n{{ " + expression + " }}\n", Format.PROMPTY)
    assert SECRET not in everything(doc)
    assert "template-error" in codes(doc)


def test_ordinary_templates_render_as_they_did(repo):
    body = (
        "system:\n{% set items = ['a', 'b', 'c'] %}"
        "{% for x in items %}{{ loop.index }}.{{ x|upper }}{% if not loop.last %}, {% endif %}{% endfor %}\n"
        "{% for x in [] %}never{% else %}empty{% endfor %} {{ '%s/%d' % ('n', 7) }} {{ 'Hi {}'.format(name) }}\n"
        "{% macro tag(t) %}<{{ t }}>{% endmacro %}{{ tag('b') }} {{ name ~ '!' }} {{ range(3)|join('-') }} {{ 'ab' * 2 }}\n"
        "{{ name.upper() }} {{ '{:>4}'.format(1) }} {{ 5551234567 }} {{ '-' * 3 }}{{ 2 ** 8 }}\n"
    )
    head = "---\nmodel: gpt-4o\ninputs:\n  name:\n    sample: Ada\n---\n"
    doc = parse(repo / "x.prompty", head + body, Format.PROMPTY)
    assert not doc.problems
    assert doc.messages[0].content == (
        "1.A, 2.B, 3.C\nempty n/7 Hi Ada\n<b> Ada! 0-1-2 abab\nADA    1 5551234567 ---256"
    )


@pytest.mark.parametrize(
    "body, says",
    [
        ("{% for i in range(10**9) %}x{% endfor %}", "range() of 1,000,000,000 numbers"),
        ("{% for i in range(5000) %}{% for j in range(5000) %}x{% endfor %}{% endfor %}", "262,144 loop iterations"),
        ("{{ 'a' * 10**9 }}", "the * operator would make 1,000,000,000"),
        ("{{ [1, 2] * 10**9 }}", "the * operator"),
        ("{{ 'a'|center(10**9) }}", "the center filter"),
        ("{{ 'x'.ljust(10**9) }}", "ljust()"),
        ("{{ '%999999999d' % 1 }}", "width of 999999999"),
        ("{{ '{:>999999999}'.format(1) }}", "width of 999999999"),
        ("{{ 'ab'.replace('', 'x' * 5000000) }}", "replace()"),
        ("{% set ns = namespace(s='a') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", "joining strings with ~"),
        ("{% macro m(n) %}{% if n %}{{ m(n-1) }}{{ m(n-1) }}{% endif %}{% endmacro %}{{ m(40) }}", "loop iterations and calls"),
        ("{% for i in range(100000) %}{% set x %}{% for j in range(100000) %}y{% endfor %}{% endset %}{% endfor %}", "loop iterations"),
        ("{{ 2 ** 10000000 }}", "too large to render"),
    ],
)
def test_template_work_is_bounded_with_one_clear_finding(repo, body, says):
    doc = parse(repo / "x.prompty", FM + "system:\nRules.\nuser:\n" + body + "\nassistant:\n{{ 'a' * 10 }}\n", Format.PROMPTY)
    [problem] = doc.problems
    assert problem.code == "limit-exceeded" and says in problem.message, problem.message
    assert problem.message.startswith("rendering stopped")
    assert doc.messages[1].content == body  # counted as written
    assert doc.messages[2].content == "{{ 'a' * 10 }}"  # after the stop, as written, without a second finding
    assert sum(len(m.content) for m in doc.messages) < 10_000


def test_the_output_limit_follows_max_file_size(repo):
    body = FM + "user:\n{% for i in range(3000) %}{{ 'x' * 40 }}{% endfor %}\n"
    assert not parse(repo / "x.prompty", body, Format.PROMPTY).problems  # 120,000 characters: fine at 8 MiB
    doc = parse(repo / "x.prompty", body, Format.PROMPTY, max_bytes=64 * 1024)
    [problem] = doc.problems
    assert problem.code == "limit-exceeded" and "rendering stopped at 64 KiB of output" in problem.message


def test_eval_renders_are_bounded_too(repo):
    doc = parse(repo / "x.prompty", FM + "user:\n{{ text * times }}\n", Format.PROMPTY)
    out = bounded(render_document, doc, {"text": "ab", "times": 10**9})
    assert codes(out) == ["limit-exceeded"]
    assert render_document(doc, {"text": "ab", "times": 3}).messages[0].content == "ababab"


def test_prompty_mustache_is_bounded(repo):
    items = "[" + ",".join(["1"] * 1000) + "]"
    text = f"---\nmodel: gpt-4o\ntemplate: mustache\ninputs:\n  a:\n    sample: {items}\n---\nuser:\n{{{{#a}}}}{{{{#a}}}}{{{{#a}}}}x{{{{/a}}}}{{{{/a}}}}{{{{/a}}}}\n"
    doc = parse(repo / "x.prompty", text, Format.PROMPTY)
    assert codes(doc) == ["limit-exceeded"]


# ---- Handlebars (Dotprompt) ----

# The tokenizer's former regular expression: the new scanner must split every template the same way.
_OLD_TAG = re.compile(
    r"\{\{(?P<lstrip>~)?(?:!--(?P<long>.*?)--(?P<rstrip1>~)?\}\}"
    r"|!(?P<short>.*?)(?P<rstrip2>~)?\}\}"
    r"|\{(?P<raw>.*?)\}(?P<rstrip3>~)?\}\}"
    r"|(?P<kind>[#/>^&]|else\b)?(?P<body>.*?)(?P<rstrip4>~)?\}\})",
    re.DOTALL,
)


def _old_tags(source: str) -> list[tuple]:
    out = []
    for m in _OLD_TAG.finditer(source):
        rstrip = bool(m.group("rstrip1") or m.group("rstrip2") or m.group("rstrip3") or m.group("rstrip4"))
        if m.group("long") is not None or m.group("short") is not None:
            kind, body = "comment", ""
        elif m.group("raw") is not None:
            kind, body = "raw", m.group("raw")
        else:
            kind = {"#": "open", "/": "close", "^": "inverse", ">": "partial", "&": "raw", "else": "else"}.get(m.group("kind") or "", "mustache")
            body = m.group("body")
        out.append((kind, m.start(), m.end(), body, bool(m.group("lstrip")), rstrip))
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["{{", "}}", "{", "}", "~", "!", "--", "#", "/", ">", "^", "&", "else", " ", "x", "\n", "elsewhere"]), max_size=30).map("".join))
def test_the_linear_tokenizer_splits_like_the_former_regex(source):
    found, unclosed = hb._tokenize(source)
    tokens = [(t.kind, t.span.start, t.span.end, t.body, t.lstrip, t.rstrip) for t in found if t.kind != "text"]
    old = _old_tags(source)
    # Whitespace stripping rewrites only text tokens, so the tags must be identical.
    assert tokens == old
    assert (unclosed is not None) == (source.find("{{", old[-1][2] if old else 0) != -1)


@pytest.mark.parametrize("source", ["{{" * 600_000, "{{!--" * 200_000 + "}}", "{{{" * 300_000 + "}}", "{{!--" * 200_000, "[" + "{{~" * 300_000])
def test_handlebars_tokenizing_is_linear(source):
    bounded(hb._tokenize, source)


def test_handlebars_whitespace_control_is_linear():
    nodes = bounded(hb.parse, " \t" * 300_000 + "x {{#if a}}\n{{/if}}")
    assert len(nodes) == 2


def test_a_file_of_unclosed_braces_is_one_template_error_counted_as_written(repo):
    doc = parse(repo / "x.prompt", FM + "Hi.\n" + "{{" * 60_000, Format.DOTPROMPT)
    [problem] = doc.problems
    assert problem.code == "template-error" and problem.message == "Handlebars: this {{ is never closed with }}"
    assert doc.lines.position(problem.span.start).line == 4
    assert doc.messages[0].content == "Hi.\n" + "{{" * 60_000


def test_deeply_nested_blocks_are_one_template_error(repo):
    doc = parse(repo / "x.prompt", FM + "{{#if a}}" * 5000 + "x" + "{{/if}}" * 5000, Format.DOTPROMPT)
    [problem] = doc.problems
    assert problem.code == "template-error" and "nested more than" in problem.message


def test_each_and_partials_are_bounded(repo):
    items = "[" + ",".join(["1"] * 1000) + "]"
    each = f"---\nmodel: openai/gpt-4o\ninput:\n  default:\n    a: {items}\n---\n{{{{#each a}}}}{{{{#each ../a}}}}{{{{#each ../../a}}}}x{{{{/each}}}}{{{{/each}}}}{{{{/each}}}}\n"
    doc = parse(repo / "each.prompt", each, Format.DOTPROMPT)
    assert codes(doc) == ["limit-exceeded"] and "loop iterations" in doc.problems[0].message

    folder = repo / "fan"
    folder.mkdir()
    for i in range(1, 8):
        (folder / f"_p{i}.prompt").write_text(f"{{{{> p{i + 1}}}}}" * 10)
    (folder / "_p8.prompt").write_text("leaf words " * 10)
    doc = parse(folder / "main.prompt", FM + "{{> p1}}" * 10, Format.DOTPROMPT)
    assert codes(doc) == ["limit-exceeded"] and doc.problems[0].message.startswith("partials stopped after 512 expansions")
    assert doc.text[doc.problems[0].span.start : doc.problems[0].span.end] == "{{> p1}}"

    deep = repo / "deep"
    deep.mkdir()
    for i in range(30):
        (deep / f"_d{i}.prompt").write_text(f"d{i} {{{{> d{i + 1}}}}}")
    doc = parse(deep / "main.prompt", FM + "{{> d0}}", Format.DOTPROMPT)
    assert codes(doc) == ["limit-exceeded"] and "partials stopped at 8 levels deep" in doc.problems[0].message


# ---- YAML frontmatter ----


def test_yaml_alias_bomb_is_refused(repo):
    lines = ["---", "model: gpt-4o", "a: &a [" + ",".join(['"lol"'] * 9) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines += ["inputs:", "  x:", "    sample: *i", "---", "user:", "{{ x }}", ""]
    doc = parse(repo / "bomb.prompty", "\n".join(lines), Format.PROMPTY)
    assert codes(doc)[0] == "invalid-frontmatter" and "expand it to more than 1 MiB" in doc.problems[0].message
    assert sum(len(m.content) for m in doc.messages) < 1000


@pytest.mark.parametrize(
    "yaml_text",
    [
        "x: " + "[" * 500 + "]" * 500,
        "".join(" " * i + f"k{i}:\n" for i in range(500)) + " " * 500 + "v: 1",
        "- " * 500 + "x",
        "a: &a [*a]",
        "x: " + "9" * 5000,  # more digits than Python converts
        "x: !!timestamp 2001-13-40",
    ],
)
def test_deep_recursive_or_unbuildable_yaml_is_one_invalid_frontmatter_finding(repo, yaml_text):
    doc = parse(repo / "deep.prompty", "---\n" + yaml_text + "\n---\nuser:\nhi\n", Format.PROMPTY)
    assert codes(doc) == ["invalid-frontmatter"]
    assert doc.messages[0].content == "hi"


def test_ordinary_anchors_and_aliases_still_work(repo):
    text = "---\nmodel: gpt-4o\nbase: &base {temperature: 0.2}\ninputs:\n  who: &who\n    sample: Ada\n  also: *who\n---\nuser:\n{{ who }} {{ also }}\n"
    doc = parse(repo / "ok.prompty", text, Format.PROMPTY)
    assert not doc.problems and doc.messages[0].content == "Ada Ada"


# ---- includes stay inside the workspace ----


def test_claude_imports_outside_the_workspace_are_refused(repo, tmp_path):
    secret = tmp_path / "outside" / "id_rsa"
    (repo / "notes.md").write_text("Team notes.\n")
    text = f"Rules.\n@~/.ssh/id_rsa\n@{secret}\n@../outside/id_rsa\n@notes.md\n"
    doc = parse(repo / "CLAUDE.md", text, Format.INSTRUCTIONS)
    assert SECRET not in everything(doc)
    refused = [p for p in doc.problems if p.code == "outside-workspace"]
    assert len(refused) == 3 and not [p for p in doc.problems if p.code != "outside-workspace"]
    assert "id_rsa is outside the workspace" in refused[0].message and str(tmp_path / "home") in refused[0].message
    assert [doc.text[p.span.start : p.span.end] for p in refused] == ["@~/.ssh/id_rsa", f"@{secret}", "@../outside/id_rsa"]
    assert "Team notes." in doc.messages[0].content


def test_claude_imports_from_the_users_claude_folder_are_allowed(repo, tmp_path):
    claude = tmp_path / "home" / ".claude"
    claude.mkdir()
    (claude / "style.md").write_text("Use British spelling.\n")
    doc = parse(repo / "CLAUDE.md", "Rules.\n@~/.claude/style.md\n", Format.INSTRUCTIONS)
    assert not doc.problems and "British spelling" in doc.messages[0].content


def test_symlinks_fifos_and_devices_never_block_or_leak(repo, tmp_path):
    os.symlink(tmp_path / "outside" / "id_rsa", repo / "link.md")
    os.symlink("/dev/zero", repo / "zero.md")
    os.mkfifo(repo / "pipe.md")
    os.symlink(repo / "loop2.md", repo / "loop1.md")
    os.symlink(repo / "loop1.md", repo / "loop2.md")
    doc = parse(repo / "CLAUDE.md", "@link.md\n@zero.md\n@pipe.md\n@loop1.md\n@/dev/zero\n", Format.INSTRUCTIONS)
    assert SECRET not in everything(doc)
    found = {doc.text[p.span.start : p.span.end]: (p.code, p.message) for p in doc.problems}
    assert found["@link.md"][0] == "outside-workspace"
    assert found["@zero.md"][0] == found["@/dev/zero"][0] == "outside-workspace"
    assert found["@pipe.md"] == ("missing-include", f"import @pipe.md: {repo / 'pipe.md'} is not a regular file (a FIFO); it was not read")
    assert found["@loop1.md"][0] == "missing-include" and "symlink loop" in found["@loop1.md"][1]


def test_a_prompt_file_that_is_a_fifo_or_a_device_is_a_finding(repo):
    os.mkfifo(repo / "pipe.prompty")
    os.symlink("/dev/zero", repo / "zero.prompty")
    for name in ("pipe.prompty", "zero.prompty"):
        result = bounded(read_prompt_file, repo / name)
        [problem] = result.problems
        assert result.text is None and problem.code == "unreadable-file" and "not a regular file" in problem.message


def test_partials_samples_and_links_outside_the_workspace_are_refused(repo, tmp_path):
    os.symlink(tmp_path / "outside" / "id_rsa", repo / "_leak.prompt")
    doc = parse(repo / "x.prompt", FM + "{{> leak}}\n", Format.DOTPROMPT)
    assert codes(doc) == ["outside-workspace"] and SECRET not in everything(doc)
    assert doc.text[doc.problems[0].span.start : doc.problems[0].span.end] == "{{> leak}}"

    text = "---\nmodel: gpt-4o\nsample: ../outside/id_rsa\n---\nuser:\n{{ x }}\n"
    doc = parse(repo / "s.prompty", text, Format.PROMPTY)
    assert "outside-workspace" in codes(doc) and SECRET not in everything(doc)

    doc = parse(repo / "a.prompt.md", "See [key](../outside/id_rsa) and [home](~/.ssh/id_rsa).\n", Format.INSTRUCTIONS)
    assert SECRET not in everything(doc) and "outside-workspace" in codes(doc)


def test_sample_files_are_parsed_within_the_yaml_limits(repo):
    (repo / "deep.json").write_text("[" * 5000 + "]" * 5000)
    (repo / "deep.yaml").write_text("x: " + "[" * 5000 + "]" * 5000)
    for name in ("deep.json", "deep.yaml"):
        doc = parse(repo / "s.prompty", f"---\nmodel: gpt-4o\nsample: {name}\n---\nuser:\nhi\n", Format.PROMPTY)
        assert codes(doc) == ["invalid-frontmatter"] and "nested more than 64 deep" in doc.problems[0].message


def test_import_fan_out_stops_with_a_finding(repo):
    (repo / "CLAUDE.md").write_text("")
    for i in range(1, 5):
        (repo / f"f{i}.md").write_text(f"Level {i} text.\n" + " ".join([f"@f{i + 1}.md"] * 12) + "\n")
    (repo / "f5.md").write_text("Leaf " + "word " * 20 + "\n")
    doc = parse(repo / "CLAUDE.md", "Root.\n" + " ".join(["@f1.md"] * 12) + "\n", Format.INSTRUCTIONS)
    limits = [p for p in doc.problems if p.code == "limit-exceeded"]
    assert len(limits) == 1 and limits[0].message.startswith("imports stopped at 512 files")
    assert len(doc.messages[0].content) < 512 * 200


def test_scanners_are_linear_on_adversarial_text(repo):
    text = "x" + "`" * 200_001 + "\n" + "@" + "a/" * 200_000 + "\n" + ("@" + "a/" * 400 + "x.md ") * 2000 + "\n" + "[" * 200_000 + "\n" + "[](x" * 100_000 + "\n" + "`@x.md` " * 20_000
    doc = parse(repo / "CLAUDE.md", text, Format.INSTRUCTIONS)
    missing = [p.message for p in doc.problems if p.code == "missing-include"]
    assert "the path is longer than 1,024 characters" in missing[0]
    assert len(missing) == 1 + 512 and codes(doc).count("limit-exceeded") == 1  # 512 imports tried, then one finding
    doc = parse(repo / "big.prompt.md", text, Format.INSTRUCTIONS)
    assert doc.messages
    role_lines = FM + (" " * 100_000 + "x:\n") * 3
    assert parse(repo / "r.prompty", role_lines, Format.PROMPTY).messages


# ---- globs ----


def test_globs_match_without_backtracking_and_never_raise():
    assert not bounded(glob_match, "a/" * 2000 + "b", "**/" * 12 + "c")
    assert bounded(glob_match, "a/" * 2000 + "c", "**/" * 12 + "c")
    assert not bounded(glob_match, "a" * 5000, "*a" * 30 + "b")
    assert glob_match("prompts/x/y.txt", "prompts/**/*.txt") and not glob_match("other/y.txt", "prompts/**/*.txt")
    assert glob_match("deep/a.prompty", "*.prompty") and glob_match("a1.md", "a[0-9].md") and not glob_match("ab.md", "a[!b].md")
    assert glob_match("a.txt", "[z-a].txt") is False
    assert glob_problem("[z-a].txt") == "the range z-a in '[z-a].txt' is reversed, so it matches no character"
    assert glob_problem("**/*.prompty") is None
