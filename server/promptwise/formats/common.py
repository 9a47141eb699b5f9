"""Pieces every format parser shares: frontmatter into the document, settings, includes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from pydantic import BaseModel

from .. import access
from ..access import DEFAULT_INCLUDE_BYTES
from ..text import Edit, Span
from .document import Format, Message, PromptDocument, Severity
from .frontmatter import Frontmatter, parse_frontmatter
from .limits import OUTSIDE_WORKSPACE, Limits, limits_for
from .schema import PromptwiseSettings, validate_frontmatter


def start_document(
    path: Path,
    text: str,
    fmt: Format,
    schema: type[BaseModel] | None,
    max_bytes: int | None = None,
    read: Callable[[str, Limits], Frontmatter] = parse_frontmatter,
    required: bool = False,
) -> tuple[PromptDocument, int, Any]:
    """Parse frontmatter into a new document; returns it, the body's offset and the validated model.

    `read` is how the format finds its frontmatter (Dotprompt allows license lines before it; Cursor
    writes `key: value` lines that are not YAML); `required` validates an empty or missing frontmatter
    too (a skill must have its name and description)."""
    doc = PromptDocument(path=path, format=fmt, text=text, max_bytes=max_bytes)
    fm = read(text, limits_for(max_bytes))
    doc.frontmatter_span = fm.span
    doc.keys = fm.keys
    if fm.error is not None:
        message, span = fm.error
        doc.problem("invalid-frontmatter", Severity.ERROR, message, span)
        return doc, fm.body_start, None
    doc.frontmatter = fm.data
    validated = validate_frontmatter(doc, schema) if (schema is not None and (fm.data or required)) else None
    if validated is not None:
        apply_settings(doc, getattr(validated, "promptwise", None))
    return doc, fm.body_start, validated


def apply_settings(doc: PromptDocument, settings: PromptwiseSettings | None) -> None:
    if settings is None:
        return
    if settings.budget is not None:
        doc.budget = settings.budget
    if settings.expected_output_tokens is not None:
        doc.expected_output_tokens = settings.expected_output_tokens
    if settings.reasoning_effort is not None:
        doc.reasoning_effort = settings.reasoning_effort
        doc.reasoning_span = _value_span(doc, "promptwise.reasoning_effort")
    if settings.reasoning_budget is not None:
        doc.reasoning_budget = settings.reasoning_budget
        doc.reasoning_span = doc.reasoning_span or _value_span(doc, "promptwise.reasoning_budget")
    if settings.service_tier is not None:
        doc.service_tier = settings.service_tier
    if settings.calls_per_day is not None:
        doc.calls_per_day = settings.calls_per_day
    if settings.budget_usd is not None:
        doc.budget_usd = settings.budget_usd
    if settings.budget_usd_per_month is not None:
        doc.budget_usd_per_month = settings.budget_usd_per_month
    if settings.model is not None:
        doc.model = settings.model
        key = doc.keys.get("promptwise.model")
        doc.model_span = key.value_span if key else doc.model_span


def _value_span(doc: PromptDocument, key: str) -> Span | None:
    found = doc.keys.get(key)
    return found.value_span if found else None


def set_model(doc: PromptDocument, name: Any, key: str) -> None:
    """Record the model the file names and where, unless the promptwise block already chose one."""
    if doc.model is not None or not isinstance(name, str) or not name.strip():
        return
    doc.model = name.strip()
    found = doc.keys.get(key)
    doc.model_span = found.value_span if found else None


def int_or_none(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def first_int(mapping: Any, *keys: str) -> int | None:
    if not isinstance(mapping, dict):
        return None
    for key in keys:
        value = int_or_none(mapping.get(key))
        if value is not None:
            return value
    return None


def read_included(path: Path, max_bytes: int = DEFAULT_INCLUDE_BYTES, origin: Path | None = None) -> tuple[str | None, str | None]:
    """Read a file another file pulls in; returns (text, error). With `origin` (the prompt file that pulls
    it in), only a regular file inside its workspace or a folder the user allowed is read."""
    return access.read_text(path, max_bytes, origin=origin)


def read_include(path: Path, origin: Path, limits: Limits) -> tuple[str | None, str | None, str]:
    """(text, None, "") for a file `origin` may pull in, else (None, why, the finding's code): a path
    outside the workspace is `outside-workspace`, one that is missing or not a readable file `missing-include`."""
    why = access.refusal(path, origin)
    if why is not None:
        return None, why, OUTSIDE_WORKSPACE
    text, error = access.read_text(path, limits.include_file_bytes, origin=origin)
    if text is None:
        return None, error, OUTSIDE_WORKSPACE if error and "outside the workspace" in error else "missing-include"
    return text, None, ""


def resolve(path: Path) -> Path:
    """`path` with symlinks resolved; a symlink loop is left as written (reading it is then refused)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return path.absolute()


def report_includes(doc: PromptDocument, message: Message) -> None:
    """One finding per include of `message` that could not be pulled in, on the reference itself."""
    for include in message.includes:
        if include.error:
            code = include.error_code or ("include-cycle" if include.error.startswith("include cycle") else "missing-include")
            doc.problem(code, Severity.ERROR, include.error, include.span)


def body_offset(doc: PromptDocument) -> int:
    return doc.frontmatter_span.end if doc.frontmatter_span is not None else 0


def rendered_copy(doc: PromptDocument, codes: tuple[str, ...]) -> PromptDocument:
    """A copy of a parsed document without its messages or the problems a re-render reports again (`codes`)."""
    return replace(doc, messages=[], problems=[p for p in doc.problems if p.code not in codes])


def message_span(start: int, end: int) -> Span:
    return Span(start, max(start, end))


def edited_message(old: PromptDocument, text: str, edit: Edit) -> tuple[int, int, int] | None:
    """Where an edit of `old`'s text landed, when it is inside the body of one message after a valid
    frontmatter: (that message's index, the start of the first edited line, the end of the last edited
    line in the new `text`). Whole lines, because role lines and standalone tags are recognised by line.
    None when the edit may reach further (the caller parses the whole file)."""
    if old.frontmatter_span is None or edit.start <= body_offset(old) or not old.messages:
        return None  # without a closed frontmatter, text far below can still turn into one
    if any(p.code == "invalid-frontmatter" for p in old.problems):
        return None
    first = old.text.rfind("\n", 0, edit.start) + 1
    last_old = line_end(old.text, edit.old_end)
    for i, message in enumerate(old.messages):
        if message.body.start <= first and last_old <= message.body.end:
            if len(message.header) and first <= message.header.end:
                return None  # the role line itself
            return i, first, line_end(text, edit.new_end)
    return None


def line_end(text: str, offset: int) -> int:
    end = text.find("\n", offset)
    return len(text) if end == -1 else end
