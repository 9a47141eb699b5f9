"""Trims that change what the model reads, shown for confirmation: each is measured like every other fix
(the edited text is analysed again), and an editor shows the edit before applying it.

- Move a section of an instruction file to a file of its own, read on demand: the section keeps its
  heading and one line naming the file as a code span. No tool attaches a path written that way (a
  Markdown link is attached by VS Code, an `@path` imported by Claude Code and Gemini CLI on every
  turn), and every agent with a file tool can read it when the task needs it.
- Shorten a long code block, table or `<examples>` list to its first items, with a note of what was cut.
- Drop the largest section.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..analysis.sections import Part, breakdowns
from ..formats import Format
from ..text import Span
from .edits import TextEdit
from .markdown_trims import lines

if TYPE_CHECKING:
    from .trims import Fix, _Session

# A part this small is not worth a confirmation; shortening keeps this many items.
MIN_PART_TOKENS = 150
KEEP_CODE_LINES = 12
KEEP_TABLE_ROWS = 8
KEEP_EXAMPLES = 2
MAX_OFFERED = 3  # of each kind: every offer costs one analysis of the edited text
_SEPARATOR_ROW = re.compile(r"\s*\|?\s*:?-{3,}")
_EXAMPLE = re.compile(r"<example\b[^>]*>.*?</example\s*>", re.IGNORECASE | re.DOTALL)


def _eol(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\r" if "\r" in text and "\n" not in text else "\n"


def _parts(s: "_Session", kinds: tuple[str, ...]) -> list[tuple[int, Part]]:
    found = []
    for bd in breakdowns(s.analysis, min_tokens=MIN_PART_TOKENS):
        found += [(bd.message, p) for p in bd.parts if p.kind in kinds and p.tokens >= MIN_PART_TOKENS]
    return sorted(found, key=lambda item: -item[1].tokens)


def _sections(s: "_Session") -> list[Part]:
    """Sections that can go without emptying their message: below a title that holds them all."""
    parts = _parts(s, ("section",))
    whole = {(s.analysis.messages[i].message.body.start, s.analysis.messages[i].message.body.end) for i, _ in parts}
    return [p for _, p in parts if not any(p.span.start <= a and p.span.end >= b for a, b in whole)]


def drop_largest_section_fix(s: "_Session") -> "Fix | None":
    sections = _sections(s)
    if not sections:
        return None
    part = sections[0]
    return s.measure(
        "drop-section",
        [TextEdit.delete(part.span.start, part.span.end)],
        lambda saved: f'Drop the section "{_short(part.title)}" ({saved})',
        part.heading or part.span,
        s.budget_findings(),
        tuple(sorted({f.code for f in s.budget_findings()})),
        safe=False,
        description=f'Delete the largest section, "{part.title}" ({part.tokens:,} tokens as written), heading and all.',
        allow_zero=False,
    )


def move_section_fixes(s: "_Session") -> list["Fix"]:
    """For instruction files: each of the largest sections moved to `docs/<slug>.md` beside the file."""
    if s.doc.format is not Format.INSTRUCTIONS:
        return []
    eol = _eol(s.text)
    folder = s.doc.path.parent
    fixes = []
    taken: set[Path] = set()
    for part in [p for p in _sections(s) if p.heading is not None][:MAX_OFFERED]:
        target = _free_path(folder / "docs", _slug(part.title) or "section", taken)
        taken.add(target)
        relative = target.relative_to(folder).as_posix()
        heading = s.text[part.heading.start : part.heading.end]
        moved = s.text[part.span.start : part.span.end].rstrip("\r\n") + eol
        subject = part.title[:1].lower() + part.title[1:] if part.title else "this"
        link = f"{heading}{eol}{eol}Read `{relative}` when the task involves {subject}.{eol}{eol}"
        fix = s.measure(
            "move-section",
            [TextEdit(Span(part.span.start, part.span.end), link)],
            lambda saved, title=part.title, relative=relative: f'Move "{_short(title)}" to {relative}, read on demand ({saved})',
            part.heading,
            s.budget_findings(),
            tuple(sorted({f.code for f in s.budget_findings()})),
            safe=False,
            description=f"Create {relative} with the section's text and leave its heading with a line naming the file, "
            "which the agent reads when a task needs it instead of on every turn.",
            allow_zero=False,
        )
        if fix is not None:
            fix.new_files = {target: moved}
            fixes.append(fix)
    return fixes


def shorten_fixes(s: "_Session") -> list["Fix"]:
    """Long code blocks, tables and `<examples>` lists cut to their first items, with a note."""
    fixes = []
    for _, part in _parts(s, ("code block", "table", "examples"))[:MAX_OFFERED]:
        edit, kept, total, unit = _shortened(s.text, part)
        if edit is None:
            continue
        what = part.title if part.kind == "code block" else "examples list" if part.kind == "examples" else part.kind
        fix = s.measure(
            "shorten-part",
            [edit],
            lambda saved, what=what, kept=kept, total=total, unit=unit: f"Shorten the {what} to its first {kept} of {total} {unit} ({saved})",
            part.span,
            s.budget_findings(),
            tuple(sorted({f.code for f in s.budget_findings()})),
            safe=False,
            description=f"Keep the first {kept} {unit} of {total} and say so in a note, for the model to read as a sample.",
            allow_zero=False,
        )
        if fix is not None:
            fixes.append(fix)
    return fixes


def _shortened(text: str, part: Part) -> tuple[TextEdit | None, int, int, str]:
    eol = _eol(text)
    rows = [(a, b, c) for a, b, c in lines(text, part.span.start) if a < part.span.end]
    if part.kind == "code block":
        closed = len(rows) > 1 and text[rows[-1][0] : rows[-1][1]].strip().startswith(text[rows[0][0]] * 3)
        body = rows[1:-1] if closed else rows[1:]
        if len(body) <= KEEP_CODE_LINES + 2:
            return None, 0, 0, ""
        cut_from, cut_to = body[KEEP_CODE_LINES][0], body[-1][2] if closed else part.span.end
        note = f"… ({KEEP_CODE_LINES} of {len(body)} lines kept){eol}" if closed else f"{eol}… ({KEEP_CODE_LINES} of {len(body)} lines kept)"
        return TextEdit(Span(cut_from, min(cut_to, part.span.end)), note), KEEP_CODE_LINES, len(body), "lines"
    if part.kind == "table":
        head = 2 if len(rows) > 1 and _SEPARATOR_ROW.match(text[rows[1][0] : rows[1][1]]) else 1
        body = rows[head:]
        if len(body) <= KEEP_TABLE_ROWS + 2:
            return None, 0, 0, ""
        note = f"{eol}{eol}({KEEP_TABLE_ROWS} of {len(body)} rows kept)"
        return TextEdit(Span(body[KEEP_TABLE_ROWS - 1][1], part.span.end), note), KEEP_TABLE_ROWS, len(body), "rows"
    examples = list(_EXAMPLE.finditer(text, part.span.start, part.span.end))
    if len(examples) <= KEEP_EXAMPLES:
        return None, 0, 0, ""
    note = f"{eol}({KEEP_EXAMPLES} of {len(examples)} examples kept)"
    return TextEdit(Span(examples[KEEP_EXAMPLES - 1].end(), examples[-1].end()), note), KEEP_EXAMPLES, len(examples), "examples"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


def _free_path(folder: Path, slug: str, taken: set[Path]) -> Path:
    """`folder/slug.md`, or `slug-2.md` and so on when that exists (a move never overwrites a file)."""
    n = 1
    while True:
        candidate = folder / (f"{slug}.md" if n == 1 else f"{slug}-{n}.md")
        if candidate not in taken and not candidate.exists():
            return candidate
        n += 1


def _short(title: str, limit: int = 40) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"
