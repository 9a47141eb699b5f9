"""Instruction files an agent sends with its requests (AGENTS.md, CLAUDE.md, GEMINI.md, Copilot and VS Code
files, Cursor rules, Agent Skills) and plain prompts, each parsed by the rules of the tool that reads it."""

from __future__ import annotations

from pathlib import Path

from ..text import Span
from .common import set_model
from .document import Format, Message, PromptDocument
from .instruction_frontmatter import start_instruction_document
from .instruction_imports import attach_links, expand_imports
from .instruction_kinds import instruction_kind, is_vscode_agent
from .instruction_schema import CursorRuleFrontmatter, SkillFrontmatter, VSCodeAgentFrontmatter
from .schema import InstructionsFrontmatter

__all__ = ["instruction_kind", "parse_instructions", "parse_plain"]


def parse_instructions(path: Path, text: str, max_bytes: int | None = None) -> PromptDocument:
    kind = instruction_kind(path)
    if kind == "cursor":
        return _parse_cursor_rule(path, text, max_bytes)
    if kind == "skill":
        return _parse_skill(path, text, max_bytes)
    if kind == "vscode" and is_vscode_agent(path):
        doc, body_start, _ = start_instruction_document(path, text, VSCodeAgentFrontmatter, max_bytes)
    else:
        doc, body_start, _ = start_instruction_document(path, text, InstructionsFrontmatter, max_bytes)
    model = doc.frontmatter.get("model")
    if isinstance(model, list) and model:
        model = model[0]  # VS Code tries a custom agent's models in order
    set_model(doc, model, "model")
    body = text[body_start:]
    message = _body_message(body_start, len(text))
    if kind in ("claude", "gemini"):
        message.content = expand_imports(doc, message, body, body_start, kind)
    elif kind == "vscode":
        message.content = attach_links(doc, message, body, body_start)
    else:
        message.content = body.strip()
    doc.messages.append(message)
    return doc


def parse_plain(path: Path, text: str, max_bytes: int | None = None) -> PromptDocument:
    doc = PromptDocument(path=path, format=Format.PLAIN, text=text, max_bytes=max_bytes)
    doc.messages.append(Message("user", Span(0, len(text)), Span(0, 0), Span(0, len(text)), text.strip()))
    return doc


def _body_message(start: int, end: int, content: str = "", on_use: bool = False) -> Message:
    span = Span(start, end)
    return Message(role="system", span=span, header=Span(start, start), body=span, content=content, on_use=on_use)


def _frontmatter_message(doc: PromptDocument, content: str) -> Message:
    """The part of a file's frontmatter an agent keeps in every request (a skill's name and description)."""
    span = doc.frontmatter_span or Span(0, 0)
    return Message(role="system", span=span, header=Span(span.start, span.start), body=span, content=content)


def _parse_cursor_rule(path: Path, text: str, max_bytes: int | None) -> PromptDocument:
    """A Cursor rule: `alwaysApply: true` is sent with every request. Any other rule is sent only when it is
    used (its body is an on-use message): when a file matching its `globs` is in the context, when the agent
    picks it by its `description` (which Cursor lists in every request, so that is counted per call), or when
    the user @-mentions it."""
    doc, body_start, _ = start_instruction_document(path, text, CursorRuleFrontmatter, max_bytes, lenient=True)
    fm = doc.frontmatter
    always = fm.get("alwaysApply") is True
    description = fm.get("description") if isinstance(fm.get("description"), str) else None
    if not always and description and description.strip() and not fm.get("globs"):
        doc.messages.append(_frontmatter_message(doc, f"{path.name.removesuffix('.mdc')}: {description.strip()}"))
    doc.messages.append(_body_message(body_start, len(text), text[body_start:].strip(), on_use=not always))
    return doc


def _parse_skill(path: Path, text: str, max_bytes: int | None) -> PromptDocument:
    """An Agent Skill: its name and description are in the agent's context on every call, its body (and the
    files it points to, which the agent reads itself) only once the agent uses the skill."""
    doc, body_start, _ = start_instruction_document(path, text, SkillFrontmatter, max_bytes, required=True)
    fm = doc.frontmatter
    parts = [str(fm[k]).strip() for k in ("name", "description") if isinstance(fm.get(k), str) and fm[k].strip()]
    if parts:
        doc.messages.append(_frontmatter_message(doc, ": ".join(parts)))
    doc.messages.append(_body_message(body_start, len(text), text[body_start:].strip(), on_use=True))
    return doc
