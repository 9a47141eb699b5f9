"""Fixes that trim a prompt's context, each with the exact tokens and cost it saves per call.

Every fix is a list of TextEdits against the document text. Its saving is measured, not
estimated: the edits are applied, the result is parsed and analyzed again, and the saving is
the difference of the two analyses. A fix that would add an error (a broken template, a lost
partial) is not offered.

Safe fixes change no meaning and are what `promptwise check --fix` and "Trim to budget" apply:
- trailing whitespace on body lines, outside fenced code blocks; in Markdown files (instruction
  files, .md prompts) two or more trailing spaces before a non-blank line are a hard line break
  and are kept;
- runs of blank lines (three or more line breaks become two), outside fenced code blocks;
- exact duplicate paragraphs within one message, outside code blocks and template blocks.
The frontmatter is never touched: YAML block scalars keep their whitespace as data.

Fixes that change what is sent ask for confirmation (`needs_confirmation`), so an editor shows
the edit before applying it: duplicates that repeat text from another message or differ in
whitespace, and shortening an oversized include.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..analysis import Analysis, analyze, catalog_for
from ..catalog import Catalog
from ..config import LoadedConfig
from ..formats import Finding, Format, Include, parse_document
from ..formats.common import read_included
from ..formats.instructions import instruction_kind
from ..text import Span
from .edits import TextEdit, apply_edits, saving_text, unified_diff
from .headings import widen_over_empty_headings

BUDGET_CODES = ("over-budget", "near-budget", "over-cost-budget", "near-cost-budget", "context-overflow")
# Findings a trim may legitimately change; any other finding that appears or grows means the edit broke something.
_MAY_CHANGE = {*BUDGET_CODES, "duplicated-paragraph"}
# An include is worth shortening when it brings in at least this many tokens and a quarter of the
# prompt, or when the file is over its budget or context window.
OVERSIZED_INCLUDE_TOKENS = 200
OVERSIZED_INCLUDE_SHARE = 0.25

SAFE_KINDS = (
    "remove-duplicates",
    "remove-html-comments",
    "remove-duplicate-items",
    "collapse-blank-lines",
    "trailing-whitespace",
)


@dataclass
class Fix:
    """One quick fix: edits against the analyzed text, what they save, and the findings they answer."""

    kind: str  # remove-duplicate, remove-duplicates, collapse-blank-lines, trailing-whitespace, shorten-include, trim-to-budget
    title: str
    edits: list[TextEdit]
    tokens_saved: int
    cost_saved: float | None
    tokens_after: int
    span: Span  # the part of the file the fix is about, to offer it where the cursor is
    codes: tuple[str, ...] = ()  # finding codes it fixes or reduces
    findings: list[Finding] = field(default_factory=list)  # the findings in the analysis it answers
    safe: bool = False  # meaning-preserving: applied by `check --fix` and "Trim to budget"
    needs_confirmation: bool = False  # show the edit before applying it
    description: str = ""
    remaining: int | None = None  # trim-to-budget: tokens still over the budget (0 when it fits)
    result: Analysis | None = field(default=None, repr=False, compare=False)  # the analysis after the edits
    new_files: dict[Path, str] = field(default_factory=dict)  # files the fix creates, with their text

    def apply(self, text: str) -> str:
        return apply_edits(text, self.edits)

    def preview(self, text: str, name: str = "prompt") -> str:
        return unified_diff(text, self.apply(text), name)


class _Session:
    """The analyzed text, and re-analysis of edited versions of it with the same model and config."""

    def __init__(self, analysis: Analysis, config: LoadedConfig, catalog: Catalog | None) -> None:
        self.analysis = analysis
        self.config = config
        self.catalog = catalog or catalog_for(config)
        doc = analysis.document
        self.doc = doc
        self.text = doc.text
        named = doc.model or config.settings.default_model
        # `check --model` prices every file with one model; keep pricing edits with it.
        self.model_override = analysis.model if analysis.model != named else None
        self.body_start = doc.frontmatter_span.end if doc.frontmatter_span else 0
        self.fences = fenced_regions(self.text, self.body_start)
        self.markdown = doc.format is Format.INSTRUCTIONS or (doc.format is Format.PLAIN and doc.path.suffix.lower() == ".md")

    def reanalyze(self, text: str) -> Analysis:
        doc = parse_document(self.doc.path, text, self.doc.format, self.doc.max_bytes)
        return analyze(doc, self.config, self.catalog, model=self.model_override)

    def in_fence(self, offset: int) -> bool:
        return any(start <= offset < end for start, end in self.fences)

    def budget_findings(self) -> list[Finding]:
        return [f for f in self.analysis.findings if f.code in BUDGET_CODES]

    def measure(
        self,
        kind: str,
        edits: list[TextEdit],
        title: Callable[[str], str],
        span: Span,
        findings: list[Finding],
        codes: tuple[str, ...],
        safe: bool,
        description: str = "",
        allow_zero: bool = True,
    ) -> Fix | None:
        """Apply the edits, analyze the result, and price the fix by the difference; None if it breaks anything."""
        if not edits:
            return None
        new_text = apply_edits(self.text, edits)
        if new_text == self.text:
            return None
        after = self.reanalyze(new_text)
        if _breaks(self.analysis, after):
            return None
        tokens = self.analysis.prompt_tokens - after.prompt_tokens
        if tokens < 0 or (tokens == 0 and not allow_zero):
            return None
        before_cost, after_cost = self.analysis.cost_per_call, after.cost_per_call
        cost = before_cost - after_cost if before_cost is not None and after_cost is not None else None
        return Fix(
            kind=kind,
            title=title(saving_text(tokens, cost)),
            edits=edits,
            tokens_saved=tokens,
            cost_saved=cost,
            tokens_after=after.prompt_tokens,
            span=span,
            codes=codes,
            findings=findings,
            safe=safe,
            needs_confirmation=not safe,
            description=description,
            result=after,
        )


def _breaks(before: Analysis, after: Analysis) -> bool:
    old = Counter(f.code for f in before.findings if f.code not in _MAY_CHANGE)
    new = Counter(f.code for f in after.findings if f.code not in _MAY_CHANGE)
    return any(count > old[code] for code, count in new.items())


# ---- Markdown structure ----

_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})")
_FENCE_CLOSE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})[ \t]*$")


def fenced_regions(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Offsets of fenced code blocks (``` or ~~~) from `start`; an unclosed fence runs to the end."""
    regions: list[tuple[int, int]] = []
    opening: tuple[int, str] | None = None
    for line_start, content, line_end in iter_lines(text, start):
        if opening is None:
            m = _FENCE_OPEN.match(content)
            if m:
                opening = (line_start, m.group("fence"))
            continue
        m = _FENCE_CLOSE.match(content)
        if m and m.group("fence")[0] == opening[1][0] and len(m.group("fence")) >= len(opening[1]):
            regions.append((opening[0], line_end))
            opening = None
    if opening is not None:
        regions.append((opening[0], len(text)))
    return regions


def iter_lines(text: str, start: int = 0):
    """(line start, content without its line break, end including the break) for each line from `start`."""
    pos = start
    n = len(text)
    lone_cr = "\r" in text and "\r\n" not in text  # a classic Mac file: "\r" alone ends its lines
    while pos < n:
        nl = text.find("\r" if lone_cr else "\n", pos)
        if nl == -1:
            yield pos, text[pos:], n
            return
        content_end = nl - 1 if not lone_cr and nl > pos and text[nl - 1] == "\r" else nl
        yield pos, text[pos:content_end], nl + 1
        pos = nl + 1


def _newline_at(text: str, content_end: int) -> str:
    if text.startswith("\r\n", content_end):
        return "\r\n"
    return "\r" if text.startswith("\r", content_end) else "\n"


# ---- trailing whitespace and blank lines ----

_TRAILING = re.compile(r"[ \t]+$")


def _trailing_whitespace_edits(s: _Session) -> tuple[list[TextEdit], int]:
    edits: list[TextEdit] = []
    kept = 0
    lines = list(iter_lines(s.text, s.body_start))
    for i, (start, content, _end) in enumerate(lines):
        m = _TRAILING.search(content)
        if not m or s.in_fence(start):
            continue
        run = m.group()
        if s.markdown and content.strip() and len(run) >= 2 and set(run) == {" "}:
            following = lines[i + 1][1] if i + 1 < len(lines) else ""
            if following.strip():
                kept += 1  # a Markdown hard line break
                continue
        edits.append(TextEdit.delete(start + m.start(), start + len(content)))
    return edits, kept


def _blank_run_edits(s: _Session) -> list[TextEdit]:
    """Each run of two or more blank lines (three or more line breaks) becomes one empty line."""
    edits: list[TextEdit] = []
    run: list[tuple[int, str, int]] = []

    def close() -> None:
        if len(run) >= 2:
            first_start, first_content, _ = run[0]
            edits.append(TextEdit(Span(first_start, run[-1][2]), _newline_at(s.text, first_start + len(first_content))))
        run.clear()

    for line in iter_lines(s.text, s.body_start):
        start, content, _end = line
        if not content.strip(" \t") and not s.in_fence(start):
            run.append(line)
        else:
            close()
    close()
    return edits


def trailing_whitespace_fix(s: _Session) -> Fix | None:
    findings = s.budget_findings()
    edits, kept = _trailing_whitespace_edits(s)
    lines = len(edits)
    note = f"; {kept} Markdown line break{'s' if kept != 1 else ''} kept" if kept else ""
    return s.measure(
        "trailing-whitespace",
        edits,
        lambda saved: f"Remove trailing whitespace on {lines} line{'s' if lines != 1 else ''} ({saved})",
        Span(s.body_start, len(s.text)),
        findings,
        tuple(sorted({f.code for f in findings})),
        safe=True,
        description="Delete spaces and tabs at the ends of lines, outside code blocks" + note + ".",
    )


def blank_lines_fix(s: _Session) -> Fix | None:
    findings = s.budget_findings()
    runs = _blank_run_edits(s)
    count = len(runs)
    return s.measure(
        "collapse-blank-lines",
        runs,
        lambda saved: f"Collapse {count} run{'s' if count != 1 else ''} of blank lines ({saved})",
        Span(s.body_start, len(s.text)),
        findings,
        tuple(sorted({f.code for f in findings})),
        safe=True,
        description="Replace each run of blank lines with a single blank line, outside code blocks.",
    )


# ---- duplicated paragraphs ----

_JINJA_OPEN = re.compile(r"\{%-?\s*(?:if|for|macro|block|call|filter|with|raw)\b")
_JINJA_CLOSE = re.compile(r"\{%-?\s*end(?:if|for|macro|block|call|filter|with|raw)\b")
_HBS_OPEN = re.compile(r"\{\{~?[#^]")
_HBS_CLOSE = re.compile(r"\{\{~?/")
_TEMPLATE_TAG = re.compile(r"\{%|\{\{~?[#^/]|\{\{~?else")


@dataclass
class _Duplicate:
    finding: Finding
    span: Span  # the repeated paragraph, without its line break
    first: Span
    safe: bool


def _template_depth(s: _Session, offset: int) -> int:
    segment = s.text[s.body_start : offset]
    if s.doc.format is Format.PROMPTY:
        return len(_JINJA_OPEN.findall(segment)) - len(_JINJA_CLOSE.findall(segment))
    if s.doc.format is Format.DOTPROMPT:
        return len(_HBS_OPEN.findall(segment)) - len(_HBS_CLOSE.findall(segment))
    return 0


def _message_index(s: _Session, offset: int) -> int | None:
    for i, message in enumerate(s.doc.messages):
        if message.span.start <= offset < max(message.span.end, message.span.start + 1):
            return i
    return None


def _duplicates(s: _Session) -> list[_Duplicate]:
    found: list[_Duplicate] = []
    text = s.text
    for finding in s.analysis.findings:
        if finding.code != "duplicated-paragraph" or "first" not in finding.data:
            continue
        span = finding.span
        if span.end > span.start and text[span.end - 1] == "\r":
            span = Span(span.start, span.end - 1)  # the \r belongs to the line break
        first = Span(*finding.data["first"])
        if span.start < s.body_start or s.in_fence(span.start) or s.in_fence(span.end - 1):
            continue  # code is data: never delete it
        index = _message_index(s, span.start)
        if index is not None:
            body = s.doc.messages[index].body
            rest = text[body.start : span.start] + text[span.end : body.end]
            if not rest.strip():
                continue  # removing it would leave an empty message
        exact = text[span.start : span.end].strip() == text[first.start : first.end].strip()
        templated = bool(_TEMPLATE_TAG.search(text[span.start : span.end])) or bool(_TEMPLATE_TAG.search(text[first.start : first.end]))
        safe = (
            exact
            and not templated
            and index is not None
            and index == _message_index(s, first.start)
            and _template_depth(s, span.start) == 0
            and _template_depth(s, first.start) == 0
            and not s.in_fence(first.start)
        )
        found.append(_Duplicate(finding, span, first, safe))
    return found


def _next_content_line(text: str, offset: int) -> int | None:
    """Start of the first non-blank line after the line holding `offset`."""
    nl = text.find("\n", offset)
    if nl == -1:
        return None
    for start, content, _end in iter_lines(text, nl + 1):
        if content.strip():
            return start
    return None


def _previous_content_end(text: str, offset: int, floor: int) -> int:
    """End of the content of the last non-blank line before the line starting at `offset`."""
    pos = offset
    while pos > floor:
        line_end = pos - 1
        line_start = max(floor, text.rfind("\n", floor, line_end) + 1)
        content = text[line_start:line_end].rstrip("\r")
        if content.strip():
            return line_start + len(content)
        pos = line_start
    return floor


def _duplicate_edits(s: _Session, duplicates: list[_Duplicate]) -> list[TextEdit]:
    """Delete each paragraph with the blank lines after it; at the end of the text, with the blank lines before it."""
    groups: list[list[int | None]] = []  # [start, start of the next kept line or None, end of the last paragraph]
    for dup in sorted(duplicates, key=lambda d: d.span.start):
        following = _next_content_line(s.text, dup.span.end)
        if groups and groups[-1][1] == dup.span.start:
            groups[-1][1:] = [following, dup.span.end]
        else:
            groups.append([dup.span.start, following, dup.span.end])
    edits = []
    for start, following, last_end in groups:
        index = _message_index(s, start)  # a heading emptied by the deletion goes with it (fixes/headings.py)
        ceiling = s.doc.messages[index].body.end if index is not None else len(s.text)
        start = widen_over_empty_headings(s.text, start, following, s.body_start, ceiling, s.in_fence)
        if following is not None:
            edits.append(TextEdit.delete(start, following))
        else:
            edits.append(TextEdit.delete(_previous_content_end(s.text, start, s.body_start), last_end))
    return edits


def duplicate_fixes(s: _Session) -> list[Fix]:
    duplicates = _duplicates(s)
    fixes: list[Fix] = []
    for dup in duplicates:
        line = s.doc.lines.line_of(dup.first.start) + 1
        fix = s.measure(
            "remove-duplicate",
            _duplicate_edits(s, [dup]),
            lambda saved, line=line: f"Remove this duplicated paragraph, kept on line {line} ({saved})",
            dup.span,
            [dup.finding],
            ("duplicated-paragraph",),
            safe=dup.safe,
            description=f"Delete this paragraph; the same text stays on line {line}.",
        )
        if fix:
            fixes.append(fix)
    if len(duplicates) > 1:
        n = len(duplicates)
        fix = s.measure(
            "remove-duplicates",
            _duplicate_edits(s, duplicates),
            lambda saved: f"Remove {n} duplicated paragraphs ({saved})",
            Span(duplicates[0].span.start, duplicates[-1].span.end),
            [d.finding for d in duplicates],
            ("duplicated-paragraph",),
            safe=all(d.safe for d in duplicates),
            description="Delete every paragraph that repeats an earlier one; the first occurrence of each stays.",
        )
        if fix:
            fixes.append(fix)
    return fixes


def _safe_duplicates_fix(s: _Session) -> Fix | None:
    safe = [d for d in _duplicates(s) if d.safe]
    n = len(safe)
    return s.measure(
        "remove-duplicates",
        _duplicate_edits(s, safe),
        lambda saved: f"Remove {n} duplicated paragraph{'s' if n != 1 else ''} ({saved})",
        Span(safe[0].span.start, safe[-1].span.end) if safe else Span(0, 0),
        [d.finding for d in safe],
        ("duplicated-paragraph",),
        safe=True,
    )


# ---- oversized includes ----

_PARTIAL_TAG = re.compile(r"\{\{>\s*(?P<name>[\w./-]+)\s*\}\}\Z")
_BLOCK_START = re.compile(r"[ \t]*(?:$|#|[-*+][ \t]|\d+[.)][ \t])")


def _excerpt(source: str, allowance: int, count: Callable[[str], int]) -> tuple[str, int, int]:
    """The leading lines of `source` that fit in `allowance` tokens, cut before a paragraph, heading or
    list item so no item is left half-written: (text, lines kept, lines in all)."""
    lines = source.rstrip().splitlines()
    best = 0
    for i in range(1, len(lines)):
        if not _BLOCK_START.match(lines[i]) or not lines[i - 1].strip():
            continue
        if count("\n".join(lines[:i]).rstrip()) > allowance:
            break
        best = i
    return "\n".join(lines[:best]).rstrip(), best, len(lines)


def include_fixes(s: _Session) -> list[Fix]:
    analysis = s.analysis
    budget_findings = s.budget_findings()
    pressured = any(f.code in ("over-budget", "context-overflow") for f in budget_findings)
    over = 0
    if analysis.budget and analysis.prompt_tokens > analysis.budget:
        over = analysis.prompt_tokens - analysis.budget
    codes = tuple(sorted({f.code for f in budget_findings}))
    fixes: list[Fix] = []
    for count in analysis.messages:
        for ic in count.includes:
            inc = ic.include
            if inc.error or ic.tokens < OVERSIZED_INCLUDE_TOKENS:
                continue
            if not pressured and ic.tokens < OVERSIZED_INCLUDE_SHARE * analysis.prompt_tokens:
                continue
            fix = _shorten_include(s, ic.include, ic.tokens, over, budget_findings, codes)
            if fix:
                fixes.append(fix)
    return fixes


def _shorten_include(
    s: _Session, inc: Include, tokens: int, over: int, findings: list[Finding], codes: tuple[str, ...]
) -> Fix | None:
    reference = s.text[inc.span.start : inc.span.end]
    if s.doc.format is Format.DOTPROMPT:
        return _shorten_partial(s, inc, reference, tokens, over, findings, codes)
    if s.doc.format is not Format.INSTRUCTIONS:
        return None
    if reference.startswith("@"):
        # Claude Code does not expand imports inside code spans: the path stays for on-demand reading.
        path = reference[1:]
        return s.measure(
            "shorten-include",
            [TextEdit(inc.span, f"`{path}`")],
            lambda saved: f"Read {path} on demand instead of importing it ({saved})",
            inc.span,
            findings,
            codes,
            safe=False,
            description=f"Replace the import @{path} with the path in backticks: Claude Code no longer loads the file "
            "into every request, and can still read it when a task needs it.",
            allow_zero=False,
        )
    m = re.match(r"\[(?P<label>[^\]\n]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)\Z", reference)
    if m and instruction_kind(s.doc.path) == "vscode":
        label, target = m.group("label"), m.group("target")
        new = f"{label} (`{target}`)" if label.strip() else f"`{target}`"
        return s.measure(
            "shorten-include",
            [TextEdit(inc.span, new)],
            lambda saved: f"Mention {target} instead of attaching it ({saved})",
            inc.span,
            findings,
            codes,
            safe=False,
            description=f"Turn the link to {target} into a plain mention: VS Code stops attaching the file to every "
            "request; the agent can still open it when needed.",
            allow_zero=False,
        )
    return None


def _shorten_partial(
    s: _Session, inc: Include, reference: str, tokens: int, over: int, findings: list[Finding], codes: tuple[str, ...]
) -> Fix | None:
    name = inc.target
    filename = inc.path.name if isinstance(inc.path, Path) else name
    tag = _PARTIAL_TAG.match(reference)
    source = None
    if tag and inc.path is not None:
        source, _error = read_included(inc.path, origin=s.doc.path)
    allowance = max(0, tokens - over) if over else tokens // 2
    if source is not None and allowance > 0:
        excerpt, kept, total = _excerpt(source, allowance, s.analysis.tokenizer.count)
        if 0 < kept < total:
            newline = "\r\n" if "\r\n" in s.text else "\n"
            note = f"{{{{!-- promptwise: first {kept} of {total} lines of {filename}, inlined; the partial file is unchanged --}}}}"
            replacement = note + newline + excerpt.replace("\r\n", "\n").replace("\n", newline)
            fix = s.measure(
                "shorten-include",
                [TextEdit(inc.span, replacement)],
                lambda saved: f"Inline the first {kept} of {total} lines of partial {name} ({saved})",
                inc.span,
                findings,
                codes,
                safe=False,
                description=f"Replace {{{{> {name}}}}} with the start of {filename} that fits, and a comment saying what "
                "was cut; other prompts that use the partial are not affected.",
                allow_zero=False,
            )
            if fix:
                return fix
    return s.measure(
        "shorten-include",
        [TextEdit(inc.span, f"{{{{!-- {reference} --}}}}")],
        lambda saved: f"Comment out partial {name} ({saved})",
        inc.span,
        findings,
        codes,
        safe=False,
        description=f"Wrap {reference} in a Handlebars comment: the partial is no longer sent; uncomment it to restore.",
        allow_zero=False,
    )
