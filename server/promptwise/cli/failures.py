"""One file that cannot be read or analyzed becomes one finding with a one-line reason; tracebacks go
to the debug log only (`--debug`, or `--debug-log FILE`)."""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import traceback
from pathlib import Path
from typing import TextIO

from .. import access
from ..formats import Finding, Severity
from ..text import Span

# What a repository's file can make the analysis raise. KeyboardInterrupt and SystemExit still stop the run.
FILE_FAILURES = (Exception, RecursionError, MemoryError)

_debug: TextIO | None = None
_debug_path: Path | None = None
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"\s+")


def set_debug(enabled: bool, log: Path | None = None) -> None:
    """Where tracebacks go: nowhere (the default), stderr, or appended to a log file."""
    global _debug, _debug_path
    if _debug is not None and _debug is not sys.stderr:
        _debug.close()
    _debug, _debug_path = None, None
    if log is not None:
        _debug = open(log, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the run
        _debug_path = log
    elif enabled:
        _debug = sys.stderr


def debug_hint() -> str:
    if _debug_path is not None:
        return f" (traceback in {_debug_path})"
    return "" if _debug is not None else " (run with --debug for the traceback)"


def log_failure(what: str, exc: BaseException) -> None:
    """The traceback of a failure, to the debug log when one is on; nothing otherwise."""
    if _debug is None:
        return
    try:
        _debug.write(f"promptwise: {what}\n")
        _debug.write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        _debug.flush()
    except (OSError, ValueError, RecursionError, MemoryError):
        pass


def one_line(text: str, limit: int = 300) -> str:
    """Text from a file or an exception as one printable line: no newlines, no terminal escapes."""
    text = _SPACE.sub(" ", _CONTROL.sub("?", text)).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(exc: BaseException) -> str:
    """The one-line reason for an exception, in words a user can act on."""
    if isinstance(exc, RecursionError):
        return "it is nested too deeply to analyze (the analysis ran out of stack)"
    if isinstance(exc, MemoryError):
        return "analyzing it ran out of memory"
    detail = one_line(str(exc), 240)
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def failure_finding(exc: BaseException, path: Path) -> Finding:
    """The finding for a file whose analysis raised; the traceback goes to the debug log."""
    log_failure(f"analyzing {path} failed", exc)
    return Finding(
        "analysis-failed",
        Severity.ERROR,
        f"could not analyze this file: {describe(exc)}{debug_hint()}",
        Span(0, 0),
    )


def unreadable(reason: str) -> Finding:
    return Finding("unreadable-file", Severity.ERROR, one_line(reason), Span(0, 0))


def not_a_regular_file(path: Path) -> str | None:
    """Why `path` is not read as a prompt (a FIFO, a device, a socket, a folder, a symlink loop, a broken
    link), or None for a regular file. Only stat is used: nothing is opened, so nothing can block."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path.name} is a symlink loop; it was not read"
        if exc.errno == errno.ENOENT:
            if os.path.islink(path):
                return f"{path.name} is a symlink to a file that does not exist"
            return f"{path.name} does not exist"
        return f"cannot read {path.name}: {exc.strerror or exc}"
    except (RuntimeError, ValueError) as exc:
        return f"cannot read {path.name}: {exc}"
    if stat.S_ISREG(mode):
        return None
    return f"{path.name} is {access.file_kind(mode)}, not a regular file; it was not read"


def add_debug_arguments(parser, prefix: str = "") -> None:
    """`--debug` and `--debug-log FILE`, on the main parser (prefix "global_") and on each command."""
    parser.add_argument(
        "--debug", dest=f"{prefix}debug", action="store_true", help="print the traceback of any failure to stderr"
    )
    parser.add_argument(
        "--debug-log", dest=f"{prefix}debug_log", type=Path, metavar="FILE", help="append tracebacks to FILE instead"
    )


def workspace_root(path: Path) -> Path:
    """The folder a PATH argument makes the workspace: its project (`access.project_root`). A symlinked
    file counts as part of the folder it sits in, not of wherever it points."""
    if os.path.islink(path) and not os.path.isdir(path):
        return access.project_root(path.parent)
    return access.project_root(path)


def link_outside(path: Path) -> str | None:
    """Why a symlinked prompt file is not read: it points outside the workspace (None when it does not)."""
    if not os.path.islink(path) or access.refusal(path, origin=path.parent) is None:
        return None
    return (
        f"{path.name} links to {os.path.realpath(path)}, outside the workspace; it was not read "
        "(allow that folder with allow_read in the user config, ~/.config/promptwise/config.toml)"
    )
