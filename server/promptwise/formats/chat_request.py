"""A chat request body (`.json`, OpenAI's chat completions shape, as litellm also takes it) as a document,
so it is counted and priced exactly like a prompt file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..text import Span
from .document import Format, ImagePart, Message, PromptDocument
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
        parts: list[ImagePart] = []
        if isinstance(content, list):
            texts = []
            for j, part in enumerate(content):
                if isinstance(part, dict) and part.get("type") in ("text", "input_text"):
                    texts.append(str(part.get("text", "")))
                else:
                    images += 1
                    parts.append(media_part(part, f"messages[{i}].content[{j}]"))
            content = "".join(texts)
        message = Message(str(raw["role"]), Span(0, 0), Span(0, 0), Span(0, 0), "" if content is None else str(content))
        message.name = raw.get("name") if isinstance(raw.get("name"), str) else None
        # Tool calls are outside the published counting rule: counted as their JSON, not exact. Non-text
        # parts are kept as written, for the model's image rule (analysis.images).
        if raw.get("tool_calls") or raw.get("function_call"):
            message.content += json.dumps(raw.get("tool_calls") or raw.get("function_call"))
            doc.tool_calls += 1
        message.images = images
        message.image_parts = parts
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


# Content part types that carry an image: OpenAI's chat and Responses shapes, Anthropic's.
_IMAGE_TYPES = ("image_url", "input_image", "image")
_OTHER_KINDS = {"input_audio": "audio", "audio": "audio", "file": "file", "input_file": "file", "document": "file"}


def media_part(part: Any, where: str) -> ImagePart:
    """A non-text content part as written: OpenAI's image_url {url, detail}, the Responses API's input_image,
    Anthropic's image {source: base64 | url | file}; audio and files are kept as parts that are not counted."""
    if not isinstance(part, dict):
        return ImagePart(Span(0, 0), kind="other", where=where)
    kind = part.get("type")
    if kind not in _IMAGE_TYPES:
        return ImagePart(Span(0, 0), kind=_OTHER_KINDS.get(str(kind), "other"), where=where)
    url: Any = None
    detail: Any = part.get("detail")
    data: Any = None
    image = part.get("image_url")
    if isinstance(image, dict):
        url, detail = image.get("url"), image.get("detail", detail)
    elif isinstance(image, str):
        url = image
    source = part.get("source")
    if isinstance(source, dict):
        if source.get("type") == "base64":
            data = source.get("data")
        elif source.get("type") == "url":
            url = source.get("url")
    return ImagePart(
        Span(0, 0),
        url=url if isinstance(url, str) else None,
        detail=detail.lower() if isinstance(detail, str) else None,
        where=where,
        data=data if isinstance(data, str) else None,
    )
