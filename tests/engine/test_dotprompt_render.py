"""Dotprompt bodies render as Dotprompt's runtime renders them: Handlebars from dotpromptz-handlebars,
Dotprompt's helpers and message splitting, spans for what the editor shows, and a bound before any render."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from promptwise.formats import Format, parse_document
from promptwise.formats.dotprompt import render_dotprompt


def parse(path: Path, text: str, max_bytes: int | None = None):
    path.write_text(text, encoding="utf-8")
    return parse_document(path, text, Format.DOTPROMPT, max_bytes)


def texts(doc) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in doc.messages]


def codes(doc) -> list[str]:
    return [p.code for p in doc.problems]


def fm(defaults: str = "") -> str:
    return "---\nmodel: googleai/gemini-2.5-flash\ninput:\n  default:\n" + defaults + "---\n" if defaults else "---\nmodel: googleai/gemini-2.5-flash\n---\n"


def test_license_lines_before_the_frontmatter(tmp_path):
    doc = parse(tmp_path / "a.prompt", "# Copyright 2026 Someone\n#\n# SPDX-License-Identifier: MIT\n\n---\nmodel: openai/gpt-4o\n---\nHi {{x}}.\n")
    assert doc.model == "openai/gpt-4o" and doc.provider == "openai"
    assert texts(doc) == [("user", "Hi .")]
    assert doc.text[doc.frontmatter_span.start :].startswith("---\nmodel")
    assert doc.text[doc.model_span.start : doc.model_span.end] == "openai/gpt-4o"
    bad = parse(tmp_path / "b.prompt", "# header\n---\nmodel: [unclosed\n---\nHi\n")
    assert codes(bad) == ["invalid-frontmatter"] and bad.lines.position(bad.problems[0].span.start).line >= 2


@pytest.mark.parametrize(
    "defaults, body, expected",
    [
        ("    items: [x, y]\n", "{{#each items}}{{@index}}:{{this}}{{#unless @last}}, {{/unless}}{{/each}}", "0:x, 1:y"),
        ("    obj: {a: 1, b: 2}\n", "{{#each obj}}{{@key}}={{this}};{{/each}}", "a=1;b=2;"),
        ("    items: [x, y, z]\n", "{{#each items}}{{this}} {{/each}}", "x y z "),
        ("    a: false\n    b: true\n", "{{#if a}}A{{else if b}}B{{else}}C{{/if}}", "B"),
        ("    items: []\n", "{{^items}}none{{/items}}", "none"),
        ("    items: [p, q]\n", "{{#each items as |it|}}<{{it}}>{{/each}}", "<p><q>"),
        ("    items: [zero, one]\n", "{{items.[1]}}", "one"),
        ("    name: N\n", "literal \\{{name}} and {{name}}", "literal {{name}} and N"),
        ("    name: N\n", "{{{{raw}}}}{{name}}{{{{/raw}}}}", "{{name}}"),
        ("    p: 3.0\n    xs: [a, b]\n    o: {}\n", "{{p}} {{xs}} {{#if o}}yes{{/if}}", "3 a,b yes"),
        ("    obj: {k: [1, 2], s: é}\n", "{{json obj}}", '{"k":[1,2],"s":"\\u00e9"}'),
        ("    obj: {k: 1}\n", "{{json obj indent=2}}", '{\n  "k": 1\n}'),
        ("    a: 1\n    b: 1\n", "{{#ifEquals a b}}same{{/ifEquals}}{{#unlessEquals a b}}differ{{/unlessEquals}}", "same"),
    ],
)
def test_handlebars_as_the_runtime_renders_it(tmp_path, defaults, body, expected):
    doc = parse(tmp_path / "t.prompt", fm(defaults) + body + "\n")
    assert texts(doc) == [("user", expected)] and not doc.problems


def test_role_tags_keep_the_whitespace_the_runtime_sends(tmp_path):
    doc = parse(tmp_path / "t.prompt", fm() + '{{role "system"}}\nBe brief.\n\n{{role "user"}}\nHi.\n')
    assert texts(doc) == [("system", "\nBe brief.\n\n"), ("user", "\nHi.")]
    system = doc.messages[0]
    assert doc.text[system.header.start : system.header.end] == '{{role "system"}}'


def test_a_message_of_only_media_keeps_its_image(tmp_path):
    doc = parse(tmp_path / "t.prompt", fm("    photo: https://example.com/a.png\n") + '{{role "user"}}{{media url=photo}}\n{{role "model"}}ok\n')
    assert [(m.role, m.content, m.images) for m in doc.messages] == [("user", "", 1), ("model", "ok", 0)]


def test_roles_from_a_partial_and_from_a_branch_point_at_their_tag(tmp_path):
    (tmp_path / "_persona.prompt").write_text('{{role "system"}}\nYou are {{who}}.\n{{role "user"}}\n')
    doc = parse(
        tmp_path / "t.prompt",
        fm("    who: a pirate\n    strict: true\n") + '{{> persona}}\nTell a story.\n{{#if strict}}{{role "system"}}No swearing.{{/if}}\n',
    )
    assert texts(doc) == [("system", "\nYou are a pirate.\n"), ("user", "\nTell a story.\n"), ("system", "No swearing.")]
    first, second, third = doc.messages
    assert doc.text[first.header.start : first.header.end] == "{{> persona}}" == doc.text[second.header.start : second.header.end]
    assert doc.text[third.header.start : third.header.end] == '{{role "system"}}'
    [include] = first.includes
    assert include.target == "persona" and "You are a pirate." in include.text and "dotprompt:" not in include.text
    assert not doc.problems


def test_partial_arguments_and_partial_blocks(tmp_path):
    (tmp_path / "_greet.prompt").write_text("Hello {{name}}")
    doc = parse(
        tmp_path / "t.prompt",
        fm("    who: Ann\n    person: {name: Bo}\n") + "{{> greet name=who}}. {{> greet person}}. {{#> missing}}fallback{{/missing}}.\n",
    )
    assert texts(doc) == [("user", "Hello Ann. Hello Bo. fallback.")]
    assert not doc.problems  # a partial block's missing partial is what its fallback is for


def test_a_missing_partial_renders_empty_and_is_reported(tmp_path):
    doc = parse(tmp_path / "t.prompt", fm() + "Start {{> nowhere}} end.\n")
    assert texts(doc) == [("user", "Start  end.")]
    [problem] = doc.problems
    assert problem.code == "missing-include" and doc.text[problem.span.start : problem.span.end] == "{{> nowhere}}"


def test_runtime_data_is_not_a_mistake(tmp_path):
    doc = parse(tmp_path / "t.prompt", fm("    name: Ann\n") + "{{@state.count}}|{{@auth.email}}|{{@root.name}}|{{#each @state.items}}x{{/each}}\n")
    assert texts(doc) == [("user", "||Ann|")]
    assert not doc.problems


def test_only_variables_in_branches_that_render_are_findings(tmp_path):
    doc = parse(
        tmp_path / "t.prompt",
        fm("    yes_flag: true\n    no_flag: false\n")
        + "{{#if yes_flag}}{{shown}}{{else}}{{hidden}}{{/if}}{{#if no_flag}}{{hidden2}}{{else if yes_flag}}{{shown2}}{{/if}}"
        "{{#unless yes_flag}}{{hidden3}}{{/unless}}{{#each list}}{{item}}{{/each}}\n",
    )
    assert sorted(doc.problems[i].message.split("'")[1] for i in range(len(doc.problems))) == ["shown", "shown2"]
    assert {p.code for p in doc.problems} == {"undefined-variable"}


def test_a_role_the_runtime_refuses_is_an_error(tmp_path):
    doc = parse(tmp_path / "t.prompt", fm() + '{{role "assistant"}}Hi\n')
    assert codes(doc) == ["template-error"] and "assistant" in doc.problems[0].message


def test_helpers_the_application_defines_do_not_stop_the_render(tmp_path):
    doc = parse(tmp_path / "t.prompt", fm("    x: 1\n") + "A {{upper x}} {{#myblock x}}B{{/myblock}} {{#if (isBig x)}}C{{/if}}\n")
    assert texts(doc) == [("user", "A  B ")]  # a stand-in helper prints nothing and is false


def test_the_log_helper_prints_nothing(tmp_path):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        doc = parse(tmp_path / "t.prompt", fm() + '{{log "to stdout"}}Hi\n')
    assert out.getvalue() == "" and texts(doc) == [("user", "Hi")]


def test_eval_values_render_over_the_defaults(tmp_path):
    doc = parse(tmp_path / "t.prompt", fm("    topic: tides\n") + "About {{topic}}.\n")
    again = render_dotprompt(doc, {"topic": "waves"})
    assert texts(again) == [("user", "About waves.")] and texts(doc) == [("user", "About tides.")]


# ---- bounded before anything renders ----


def test_a_partial_that_includes_itself_is_a_cycle_and_is_cut(tmp_path):
    (tmp_path / "_a.prompt").write_text("A{{> a}}{{> a}}")
    doc = parse(tmp_path / "t.prompt", fm() + "x {{> a}}\n")
    assert codes(doc) == ["include-cycle"] and texts(doc) == [("user", "x A")]


def test_recursive_inline_partials_and_partial_blocks_are_refused(tmp_path):
    inline = parse(tmp_path / "i.prompt", fm() + '{{#*inline "a"}}{{> a}}{{> a}}{{/inline}}{{> a}}\n')
    assert codes(inline) == ["include-cycle"]
    block = parse(tmp_path / "b.prompt", fm() + "{{#> missing}}{{> @partial-block}}{{> @partial-block}}{{/missing}}\n")
    assert codes(block) == ["limit-exceeded"]


def test_nested_loops_over_long_lists_are_refused(tmp_path):
    items = "[" + ",".join(["1"] * 300) + "]"
    doc = parse(tmp_path / "t.prompt", fm(f"    a: {items}\n") + "{{#each a}}{{#each ../a}}{{#a}}{{x}}{{/a}}{{/each}}{{/each}}\n")
    assert codes(doc) == ["limit-exceeded"] and "loop iterations" in doc.problems[0].message
    assert doc.messages[0].content.startswith("{{#each a}}")  # counted as written


def test_output_beyond_the_limit_is_refused(tmp_path):
    big = "w" * 2000
    doc = parse(tmp_path / "t.prompt", fm(f"    a: [{','.join(['1'] * 200)}]\n    big: {big}\n") + "{{#each a}}{{../big}}{{/each}}\n", 64 * 1024)
    assert codes(doc) == ["limit-exceeded"] and "output" in doc.problems[0].message
    wide = parse(tmp_path / "j.prompt", fm("    o: {k: 1}\n") + "{{json o indent=100000}}\n")
    assert codes(wide) == ["limit-exceeded"]


def test_an_indented_partial_counts_its_indent(tmp_path):
    (tmp_path / "_lines.prompt").write_text("a\n" * 3000)
    text = fm() + "{{#each (lookup this 'x')}}{{/each}}\n" + " " * 3000 + "{{> lines}}\n"
    doc = parse(tmp_path / "t.prompt", text, 1024 * 1024)
    assert codes(doc) == ["limit-exceeded"]
    small = parse(tmp_path / "s.prompt", fm() + "x\n  {{> lines}}\n", 1024 * 1024)
    assert not small.problems and small.messages[0].content.startswith("x\n  a\n  a\n")


@pytest.mark.parametrize(
    "partial, expected",
    [
        ("a\na\n", "start\n  a\n  a\nend a\na\n|"),
        ("a\na", "start\n  a\n  aend a\na|"),
        ("", "start\nend |"),
        ("a\n  ", "start\n  a\n    end a\n  |"),
    ],
)
def test_an_indented_standalone_partial_is_indented_as_the_runtime_does(tmp_path, partial, expected):
    (tmp_path / "_p.prompt").write_text(partial)
    doc = parse(tmp_path / "t.prompt", fm() + "start\n  {{> p}}\nend {{> p}}|\n")
    assert texts(doc) == [("user", expected)]


def test_prompty_mustache_inverse_sections_close_by_their_own_name():
    """handlebars.py stays the renderer of Prompty's mustache templates; {{^x}} closes with {{/x}}."""
    from promptwise.formats import handlebars as hb

    nodes = hb.parse("{{^items}}none{{/items}}")
    ctx = hb.RenderContext(helpers={}, partial=lambda node, scope: "", missing=lambda node: "")
    assert hb.render(nodes, [{"items": []}], ctx) == "none" and hb.render(nodes, [{"items": [1]}], ctx) == ""
