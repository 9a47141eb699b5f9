"""Formatting shared by the CLI commands: money, token counts, tables and finding lines."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Sequence

import math

from ..formats import Finding
from ..text import LineIndex
from ..units import money as _money


def money(value: float | None) -> str:
    """Dollars; an amount under $0.00001 (a few input tokens) keeps two significant digits instead of
    reading `$0.00000`."""
    if value is not None and 0 < value < 0.00001:
        return f"${value:.{1 - math.floor(math.log10(value))}f}"
    return _money(value)


def per_million(value: float | None) -> str:
    """A price per million tokens: cents from $1 up, else up to four significant digits ($0.075, $0.0375), `$0` for free."""
    if value is None:
        return "n/a"
    if value <= 0:
        return "$0"
    if value >= 1:
        return f"${value:,.2f}"
    decimals = max(2, 3 - math.floor(math.log10(value)))
    text = f"{value:.{decimals}f}".rstrip("0")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def tokens(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(widths[i]) if i in right else c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def display_path(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


# Terminal escapes, other control characters and bidirectional overrides: a repository's file names
# and text must not rewrite the user's terminal or make a finding line read as something else.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


def printable(text: str) -> str:
    """`text` with every unprintable character shown as an escape (`\\x1b`)."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text)


def message_line(text: str) -> str:
    """A message on one printable line."""
    return printable(_LINE_BREAKS.sub(" ", text))


def finding_line(path: Path, lines: LineIndex | None, finding: Finding) -> str:
    """`path:line:col: severity code message`, with a one-based line and a UTF-16 column like editors show."""
    line, col = 1, 1
    if lines is not None:
        try:
            pos = lines.position(finding.span.start)
            line, col = pos.line + 1, pos.character + 1
        except (IndexError, ValueError):  # a span outside the text: the file start still names the file
            pass
    return f"{printable(display_path(path))}:{line}:{col}: {finding.severity.value} {finding.code} {message_line(finding.message)}"


def use_color(stream=sys.stdout) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ


def config_problem_line(path: Path, line: int, message: str, column: int = 0) -> str:
    """`path:line:col: error invalid-config message` for a setting whose default was used (zero-based line and column in)."""
    return f"{printable(display_path(path))}:{line + 1}:{column + 1}: error invalid-config {message_line(message)}"
