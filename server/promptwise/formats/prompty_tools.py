"""Tool definitions of a Prompty file as the OpenAI function specs its runtime sends.

- Prompty 1: OpenAI's own shape under `model.parameters.tools` (written inline or loaded with `${file:}`).
- Prompty 2: `tools:` entries of `kind: function` whose `parameters` list properties (`name`, `kind`,
  `description`, `required`, `enumValues`, `items` for arrays, `properties` for objects), converted as
  prompty 2's OpenAI provider converts them (`strict: true` makes every property required and the
  optional ones nullable).
- Any other kind (`mcp`, `openapi`, a custom kind): the definitions come from elsewhere at run time, so
  they are listed as "name (kind)" in `uncounted_tools` instead of being counted as an empty stub.
"""

from __future__ import annotations

from typing import Any

_KINDS = {"string": "string", "integer": "integer", "float": "number", "number": "number", "boolean": "boolean", "array": "array", "object": "object"}
_MAX_DEPTH = 32  # nested properties; the frontmatter's own nesting limit already bounds this


def prompty_tools(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """(OpenAI function specs, "name (kind)" of tools whose definitions are not in the file)."""
    tools: list[dict[str, Any]] = []
    uncounted: list[str] = []
    model = data.get("model")
    params = model.get("parameters") if isinstance(model, dict) else None
    v1 = params.get("tools") if isinstance(params, dict) else None
    if isinstance(v1, list):
        tools.extend(_openai_tool(t) for t in v1 if isinstance(t, dict))
    v2 = data.get("tools")
    if isinstance(v2, list):
        for tool in v2:
            if not isinstance(tool, dict):
                continue
            kind = tool.get("kind") or tool.get("type") or "function"
            if "function" in tool and isinstance(tool["function"], dict):
                tools.append(_openai_tool(tool))
            elif kind == "function":
                tools.append(_function(tool))
            else:
                uncounted.append(f"{tool.get('name') or '(unnamed)'} ({kind})")
    return tools, uncounted


def _openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """A tool already in OpenAI's shape, kept as written (a bare function is wrapped)."""
    if isinstance(tool.get("function"), dict):
        return {"type": tool.get("type") or "function", **{k: v for k, v in tool.items() if k != "type"}}
    return {"type": "function", "function": tool}


def _function(tool: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": str(tool.get("name", ""))}
    if tool.get("description"):
        spec["description"] = tool["description"]
    strict = bool(tool.get("strict"))
    params = tool.get("parameters")
    if isinstance(params, dict) and isinstance(params.get("properties"), list):
        params = params["properties"]  # v2 also writes `parameters: {properties: [...]}`
    if isinstance(params, list) and params:
        bound = {b.get("name") for b in tool.get("bindings") or [] if isinstance(b, dict)} if isinstance(tool.get("bindings"), list) else set()
        spec["parameters"] = _object([p for p in params if isinstance(p, dict) and p.get("name") not in bound], strict, 0)
    elif isinstance(params, dict):
        spec["parameters"] = params  # already a JSON Schema
    if strict:
        spec["strict"] = True
        if isinstance(spec.get("parameters"), dict):
            spec["parameters"]["additionalProperties"] = False
    return {"type": "function", "function": spec}


def _object(props: list[dict[str, Any]], strict: bool, depth: int) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for prop in props:
        if not isinstance(prop, dict) or not prop.get("name"):
            continue
        name = str(prop["name"])
        properties[name] = _property(prop, strict and not prop.get("required"), strict, depth + 1)
        if strict or prop.get("required"):
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _property(prop: dict[str, Any], optional: bool, strict: bool, depth: int) -> dict[str, Any]:
    kind = prop.get("kind") or prop.get("type")
    json_type = _KINDS.get(kind) if isinstance(kind, str) else None
    schema: dict[str, Any] = {"type": json_type} if json_type else {}
    if prop.get("description"):
        schema["description"] = prop["description"]
    enum = prop.get("enumValues", prop.get("enum"))
    if isinstance(enum, list) and enum:
        schema["enum"] = list(enum)
    if depth < _MAX_DEPTH:
        if kind == "array":
            items = prop.get("items")
            schema["items"] = _property(items, False, strict, depth + 1) if isinstance(items, dict) else {"type": "string"}
        if kind == "object":
            nested = prop.get("properties")
            if isinstance(nested, list) and nested:
                inner = _object(nested, strict, depth)
                schema["properties"] = inner["properties"]
                if "required" in inner:
                    schema["required"] = inner["required"]
            else:
                schema["properties"] = {}
            schema["additionalProperties"] = False
    if prop.get("nullable") or optional:
        if isinstance(schema.get("type"), str):
            schema["type"] = [schema["type"], "null"]
        elif schema:
            schema = {**schema, "anyOf": [dict(schema), {"type": "null"}]} if "anyOf" not in schema else schema
        if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
            schema["enum"].append(None)
    return schema
