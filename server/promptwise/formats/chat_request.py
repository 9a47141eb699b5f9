"""A chat request body (`.json`, OpenAI's chat completions shape, as litellm also takes it) as a document,
so it is counted and priced exactly like a prompt file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..text import Span
from .document import Format, Message, PromptDocument
from .reasoning_settings import Options, cache_breakpoints, read_options


class InvalidRequest(ValueError):
    """The body is not a chat request: no `messages` list, or a message without a role."""


@dataclass
class RequestDocument(PromptDocument):
    """A chat request body as a document; `tool_calls` counts the messages whose tool calls are counted as their JSON."""

    tool_calls: int = 0


def request_document(body: Any, path: Path) -> RequestDocument:
    """An OpenAI chat request body as a document; its reasoning, service tier and cache breakpoints too."""
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise InvalidRequest("a request body must be a JSON object with a 'messages' list")
    doc = RequestDocument(path=path, format=Format.PLAIN, text="")
    doc.model = body.get("model") if isinstance(body.get("model"), str) else None
    marked: list[int] = []
    for i, raw in enumerate(body["messages"]):
        if not isinstance(raw, dict) or "role" not in raw:
            raise InvalidRequest(f"messages[{i}] must be an object with a 'role'")
        content = raw.get("content")
        images = 0
        if _has_cache_control(raw):
            marked.append(i)
        if isinstance(content, list):
            texts = []
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text":
                    texts.append(str(part.get("text", "")))
                else:
                    images += 1
            content = "".join(texts)
        message = Message(str(raw["role"]), Span(0, 0), Span(0, 0), Span(0, 0), "" if content is None else str(content))
        message.name = raw.get("name") if isinstance(raw.get("name"), str) else None
        # Tool calls and non-text parts are outside the published counting rule: counted, not exact.
        if raw.get("tool_calls") or raw.get("function_call"):
            message.content += json.dumps(raw.get("tool_calls") or raw.get("function_call"))
            doc.tool_calls += 1
        message.images = images
        doc.messages.append(message)
    tools = body.get("tools") or [{"type": "function", "function": f} for f in body.get("functions") or []]
    doc.tools = [t for t in tools if isinstance(t, dict)]
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    doc.max_output_tokens = max_tokens if isinstance(max_tokens, int) else None
    options = [Options(body, "")]
    read_options(doc, options)
    # A top-level cache_control is Anthropic's automatic caching: the breakpoint moves to the last message.
    doc.cache_breakpoints = cache_breakpoints(options, doc.messages, marked)
    return doc


def _has_cache_control(message: dict[str, Any]) -> bool:
    """Anthropic's cache_control on the message, or on one of its content blocks: the cached prefix ends there."""
    if message.get("cache_control"):
        return True
    content = message.get("content")
    return isinstance(content, list) and any(isinstance(part, dict) and part.get("cache_control") for part in content)
