"""The frontmatter of an edited file comes from a cache of parsed heads: each reader gets its own copy of
the containers, with YAML aliases still shared, as the parse gave them."""

from __future__ import annotations

from promptwise.formats.frontmatter import parse_frontmatter

TEXT = "---\nbase: &b\n  temperature: 0.2\n  stop: [a, b]\nconfig: *b\ntags: !!set {x: null}\n---\nHello\n"


def test_a_reader_changing_its_copy_changes_no_other():
    first = parse_frontmatter(TEXT)
    first.data["base"]["stop"].append("c")
    first.data["config"]["temperature"] = 9
    first.data["tags"].add("y")
    first.keys["base.temperature"].value = 9
    again = parse_frontmatter(TEXT)
    assert again.data["base"] == {"temperature": 0.2, "stop": ["a", "b"]}
    assert again.data["tags"] == {"x"}
    assert again.keys["base.temperature"].value == "0.2"  # as written


def test_an_alias_stays_one_value():
    fm = parse_frontmatter(TEXT)
    assert fm.data["config"] is fm.data["base"]
