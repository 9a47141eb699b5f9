"""Instruction files sent with every request (AGENTS.md, CLAUDE.md, Copilot files, .cursorrules) and plain prompts."""

from __future__ import annotations

import re
from pathlib import Path

from ..text import Span
from .common import read_included, set_model, start_document
from .document import Format, Include, Message, PromptDocument, Severity
from .schema import InstructionsFrontmatter

# Claude Code expands `@path` imports in CLAUDE.md (and in the files it imports), up to five hops.
_CLAUDE_IMPORT = re.compile(r"(?<![\w`@/])@(?P<path>(?:~/|\.{1,2}/|/)?[\w.\-]+(?:/[\w.\-]+)*)")
_FENCE = re.compile(r"^(```|~~~)", re.MULTILINE)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
# VS Code attaches local files linked from prompt and instructions files as context.
_MARKDOWN_LINK = re.compile(r"(?<!!)\[(?P<label>[^\]\n]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_MAX_IMPORT_DEPTH = 5


def instruction_kind(path: Path) -> str:
    name = path.name
    if name in ("CLAUDE.md", "CLAUDE.local.md"):
        return "claude"
    if name.endswith((".prompt.md", ".instructions.md")):
        return "vscode"
    return "plain"


def parse_instructions(path: Path, text: str) -> PromptDocument:
    doc, body_start, fm = start_document(path, text, Format.INSTRUCTIONS, InstructionsFrontmatter)
    set_model(doc, doc.frontmatter.get("model"), "model")
    body = text[body_start:]
    kind = instruction_kind(path)
    message = Message(
        role="system",
        span=Span(body_start, len(text)),
        header=Span(body_start, body_start),
        body=Span(body_start, len(text)),
    )
    if kind == "claude":
        message.content = _expand_claude_imports(doc, message, body, body_start)
    elif kind == "vscode":
        message.content = _attach_links(doc, message, body, body_start)
    else:
        message.content = body.strip()
    doc.messages.append(message)
    return doc


def parse_plain(path: Path, text: str) -> PromptDocument:
    doc = PromptDocument(path=path, format=Format.PLAIN, text=text)
    doc.messages.append(Message("user", Span(0, len(text)), Span(0, 0), Span(0, len(text)), text.strip()))
    return doc


def _code_regions(text: str) -> list[tuple[int, int]]:
    regions: list[tuple[int, int]] = []
    fences = list(_FENCE.finditer(text))
    for opening, closing in zip(fences[::2], fences[1::2]):
        regions.append((opening.start(), closing.end()))
    if len(fences) % 2:
        regions.append((fences[-1].start(), len(text)))
    regions.extend((m.start(), m.end()) for m in _CODE_SPAN.finditer(text))
    return regions


def _outside_code(regions: list[tuple[int, int]], offset: int) -> bool:
    return not any(start <= offset < end for start, end in regions)


def _looks_like_path(ref: str) -> bool:
    return "/" in ref or bool(re.search(r"\.[A-Za-z0-9]{1,8}$", ref))


def _expand_claude_imports(doc: PromptDocument, message: Message, body: str, base: int) -> str:
    def expand(text: str, directory: Path, chain: tuple[Path, ...], owner: Include | None, depth: int) -> str:
        regions = _code_regions(text)
        out: list[str] = []
        pos = 0
        for match in _CLAUDE_IMPORT.finditer(text):
            ref = match.group("path").rstrip(".")
            if not _looks_like_path(ref) or not _outside_code(regions, match.start()):
                continue
            target = Path(ref).expanduser() if ref.startswith("~/") else directory / ref
            resolved = target.resolve()
            include = None
            if owner is None:
                include = Include(ref, Span(base + match.start(), base + match.start() + 1 + len(ref)), target)
                message.includes.append(include)
            report = include or owner
            out.append(text[pos : match.start()])
            pos = match.start() + 1 + len(ref)
            if resolved in chain:
                if report is not None and report.error is None:
                    report.error = "include cycle: " + " -> ".join(p.name for p in chain + (resolved,))
                out.append(text[match.start() : pos])
                continue
            if depth >= _MAX_IMPORT_DEPTH:
                out.append(text[match.start() : pos])
                continue
            content, error = read_included(resolved)
            if content is None:
                if report is not None and report.error is None:
                    report.error = f"import @{ref}: {error}"
                out.append(text[match.start() : pos])
                continue
            expanded = expand(content, resolved.parent, chain + (resolved,), report, depth + 1)
            if include is not None:
                include.text = expanded
            out.append(expanded)
        out.append(text[pos:])
        return "".join(out)

    content = expand(body, doc.path.parent, (doc.path.resolve(),), None, 0).strip()
    _report_includes(doc, message)
    return content


def _attach_links(doc: PromptDocument, message: Message, body: str, base: int) -> str:
    regions = _code_regions(body)
    attached: list[str] = []
    for match in _MARKDOWN_LINK.finditer(body):
        target = match.group("target")
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith("#"):
            continue
        if not _outside_code(regions, match.start()):
            continue
        path_part = target.split("#", 1)[0]
        if not path_part:
            continue
        path = (doc.path.parent / path_part).resolve()
        include = Include(path_part, Span(base + match.start(), base + match.end()), path)
        text, error = read_included(path)
        if text is None:
            include.error = f"linked file {path_part}: {error}"
        else:
            include.text = text.strip()
            attached.append(include.text)
        message.includes.append(include)
    _report_includes(doc, message)
    return "\n\n".join([body.strip(), *attached]).strip()


def _report_includes(doc: PromptDocument, message: Message) -> None:
    for include in message.includes:
        if include.error:
            code = "include-cycle" if include.error.startswith("include cycle") else "missing-include"
            doc.problem(code, Severity.ERROR, include.error, include.span)
