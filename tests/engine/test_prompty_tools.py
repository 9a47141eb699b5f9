"""Prompty tool definitions become the OpenAI function specs their runtime sends, or are named as uncounted."""

from __future__ import annotations

import json
from pathlib import Path

from promptwise.formats import Format, parse_document


def parse(tmp_path: Path, text: str):
    (tmp_path / ".git").mkdir(exist_ok=True)
    path = tmp_path / "t.prompty"
    path.write_text(text, encoding="utf-8")
    return parse_document(path, text, Format.PROMPTY)


LOOKUP = {
    "type": "function",
    "function": {
        "name": "lookup_order",
        "description": "Find an order by its number",
        "parameters": {"type": "object", "properties": {"number": {"type": "string", "description": "Order number"}}, "required": ["number"]},
    },
}
V1 = "---\nmodel:\n  api: chat\n  configuration:\n    type: openai\n    name: gpt-4o\n  parameters:\n    max_tokens: 100\n    tools: {tools}\n---\nsystem:\nHelp.\n"


def test_v1_tools_inline_under_model_parameters(tmp_path):
    doc = parse(tmp_path, V1.format(tools=json.dumps([LOOKUP])))
    assert doc.tools == [LOOKUP] and doc.max_output_tokens == 100 and not doc.problems


def test_v1_tools_from_a_file_reference(tmp_path):
    (tmp_path / "functions.json").write_text(json.dumps([LOOKUP]))
    doc = parse(tmp_path, V1.format(tools="${file:functions.json}"))
    assert doc.tools == [LOOKUP] and not doc.problems


def test_v2_properties_become_json_schema_with_enums_items_and_nested_objects(tmp_path):
    text = """---
model: gpt-4o
tools:
  - name: book_room
    kind: function
    description: Book a meeting room
    parameters:
      - name: size
        kind: string
        description: Room size
        required: true
        enumValues: [small, large]
      - name: attendees
        kind: array
        items:
          kind: string
      - name: when
        kind: object
        properties:
          - name: day
            kind: string
            required: true
          - name: hours
            kind: integer
---
system:
Book rooms.
"""
    doc = parse(tmp_path, text)
    assert not doc.problems
    [tool] = doc.tools
    assert tool["type"] == "function" and tool["function"]["name"] == "book_room"
    params = tool["function"]["parameters"]
    assert params["type"] == "object" and params["required"] == ["size"]
    assert params["properties"]["size"] == {"type": "string", "description": "Room size", "enum": ["small", "large"]}
    assert params["properties"]["attendees"] == {"type": "array", "items": {"type": "string"}}
    assert params["properties"]["when"] == {
        "type": "object",
        "properties": {"day": {"type": "string"}, "hours": {"type": "integer"}},
        "required": ["day"],
        "additionalProperties": False,
    }


def test_v2_strict_tools_require_every_property(tmp_path):
    text = "---\nmodel: gpt-4o\ntools:\n  - name: f\n    kind: function\n    strict: true\n    parameters:\n      - name: a\n        kind: string\n        required: true\n      - name: b\n        kind: float\n---\nsystem:\nx\n"
    [tool] = parse(tmp_path, text).tools
    function = tool["function"]
    assert function["strict"] is True
    assert function["parameters"]["required"] == ["a", "b"] and function["parameters"]["additionalProperties"] is False
    assert function["parameters"]["properties"]["b"] == {"type": ["number", "null"]}


def test_tools_defined_elsewhere_are_named_not_counted_as_stubs(tmp_path):
    text = """---
model: gpt-4o
tools:
  - name: files
    kind: mcp
    serverName: filesystem
  - name: weather
    kind: openapi
    specification: ./weather.json
  - name: search
    kind: bing_grounding
  - name: add
    kind: function
    description: Add two numbers
---
system:
Use tools.
"""
    doc = parse(tmp_path, text)
    assert doc.uncounted_tools == ["files (mcp)", "weather (openapi)", "search (bing_grounding)"]
    assert [t["function"]["name"] for t in doc.tools] == ["add"]
