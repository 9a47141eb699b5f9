"""Write the safe trims to files on disk for `promptwise check --fix`: atomically, keeping encoding and line breaks."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from .. import files
from ..analysis import Analysis
from ..config import LoadedConfig, load_config
from ..formats import Finding
from .safe_trims import apply_safe_trims
from .trims import Fix

# A file with one of these was not read as the text on disk; writing it back could corrupt it.
UNTOUCHABLE = {"invalid-utf8", "binary-file", "unreadable-file", "file-too-large"}


@dataclass
class FileFix:
    path: Path
    applied: list[Fix] = field(default_factory=list)
    tokens_before: int = 0
    tokens_after: int = 0
    skipped: str | None = None  # why the file was left alone

    @property
    def changed(self) -> bool:
        return bool(self.applied) and self.skipped is None

    @property
    def tokens_saved(self) -> int:
        return self.tokens_before - self.tokens_after

    def describe(self) -> str:
        if self.skipped:
            return f"skipped: {self.skipped}"
        steps = "; ".join(f.title for f in self.applied)
        return f"{steps}; {self.tokens_before:,} -> {self.tokens_after:,} tokens"


def fix_file(path: Path, analysis: Analysis | None, findings: list[Finding], config: LoadedConfig | None = None) -> FileFix:
    """Apply the safe trims (duplicates, blank lines, trailing whitespace) to one analyzed file on disk."""
    result = FileFix(path)
    bad = sorted({f.code for f in findings} & UNTOUCHABLE)
    if analysis is None or bad:
        result.skipped = f"not fixed because of {', '.join(bad)}" if bad else "not analyzed"
        return result
    try:
        data = path.read_bytes()
    except OSError as exc:
        result.skipped = f"cannot read it: {exc.strerror}"
        return result
    bom = codecs.BOM_UTF8 if data.startswith(codecs.BOM_UTF8) else b""
    try:
        text = data[len(bom) :].decode("utf-8")
    except UnicodeDecodeError:
        result.skipped = "not valid UTF-8"
        return result
    if text != analysis.document.text:
        result.skipped = "it changed on disk while being checked"
        return result
    new_text, after, applied = apply_safe_trims(analysis, config or load_config(path))
    result.tokens_before, result.tokens_after = analysis.prompt_tokens, after.prompt_tokens
    if new_text == text:
        return result
    write_atomic(path, bom + new_text.encode("utf-8"))
    result.applied = applied
    return result


def write_atomic(path: Path, data: bytes) -> None:
    """Replace the file in one step, synced to disk, keeping its mode."""
    files.write_atomic(path, data, mode=path.stat().st_mode & 0o7777, durable=True)
