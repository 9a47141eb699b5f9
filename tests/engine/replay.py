"""Replaying edits on a prompt file: after each one, the LSP's re-parse must equal a fresh parse."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from promptwise.formats import Format, PromptDocument, parse_document, reparse_document
from promptwise.text import Edit


def snapshot(doc: PromptDocument) -> dict:
    data = asdict(doc)
    data.pop("_lines")  # a cache of line starts, built on demand
    return data


def replay(path: Path, fmt: Format, text: str, head: int, script) -> PromptDocument:
    """Apply each (anywhere, share, length, insert) edit: it replaces `length` characters at `share` of
    the text (of the text after its first `head` characters unless `anywhere`) by `insert`."""
    doc = parse_document(path, text, fmt)
    for anywhere, share, length, insert in script:
        first = 0 if anywhere else min(head, len(text))
        start = first + int(share * (len(text) - first))
        end = min(len(text), start + length)
        new = text[:start] + insert + text[end:]
        doc = reparse_document(doc, new, Edit(start, end, start + len(insert)))
        assert snapshot(doc) == snapshot(parse_document(path, new, fmt))
        text = new
    return doc
