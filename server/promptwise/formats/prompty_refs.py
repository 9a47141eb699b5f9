"""`${file:...}` and `${env:...}` references in Prompty frontmatter.

A value written as exactly `${file:path}` (anywhere in the frontmatter: inputs, model, connection, sample,
tools...) is replaced by that file's data, as both runtimes do: JSON for `.json`, YAML for `.yaml`/`.yml`,
text otherwise. The path is relative to the .prompty file (also in a file that another reference loaded, as the runtimes
resolve it) and is read only through `read_include` (inside
the workspace, bounded); a file that cannot be read is a finding on the key that names it.

`${env:NAME}` and `${env:NAME:default}` are left as written: an environment variable is never read into
counted or displayed text (it may hold an API key), so nothing here looks at the environment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .common import read_include
from .document import PromptDocument, Severity
from .frontmatter import load_data
from .limits import LIMIT_EXCEEDED, Limits, limits_for

_MAX_NESTING = 8  # a referenced file that references a file that...


def file_reference(value: Any) -> str | None:
    """The path of a whole-value `${file:path}` reference, else None."""
    if not isinstance(value, str) or not value.startswith("${") or not value.endswith("}"):
        return None
    protocol, _, ref = value[2:-1].partition(":")
    if protocol.strip().lower() != "file" or not ref.strip() or "\n" in ref:
        return None
    return ref.strip()


class _Reader:
    def __init__(self, doc: PromptDocument) -> None:
        self.doc = doc
        self.limits: Limits = limits_for(doc.max_bytes)
        self.files = 0
        self.chars = 0

    def _span(self, key: str) -> Any:
        """The key as written, or the nearest key above it (a key inside a loaded file has no span)."""
        parts = key.split(".")
        for n in range(len(parts), 0, -1):
            found = self.doc.keys.get(".".join(parts[:n]))
            if found is not None:
                return found.span
        return self.doc.frontmatter_span or self.doc.key_span(key)

    def resolve(self, data: Any, key: str, depth: int) -> Any:
        if isinstance(data, dict):
            out = {}
            for name, value in data.items():
                path = f"{key}.{name}" if key else str(name)
                ref = file_reference(value)
                out[name] = self.load(ref, path, depth) if ref is not None else self.resolve(value, path, depth)
            return out
        if isinstance(data, list):
            return [self.resolve(item, key, depth) for item in data]
        return data

    def load(self, ref: str, key: str, depth: int) -> Any:
        span = self._span(key)
        if depth >= _MAX_NESTING:
            self.doc.problem(LIMIT_EXCEEDED, Severity.ERROR, f"${{file:{ref}}}: file references nested more than {_MAX_NESTING} deep", span)
            return None
        self.files += 1
        if self.files > self.limits.include_count:
            self.doc.problem(LIMIT_EXCEEDED, Severity.ERROR, f"${{file:{ref}}}: more than {self.limits.include_count} file references", span)
            return None
        path = self.doc.path.parent / ref
        text, error, code = read_include(path, self.doc.path, self.limits)
        if text is None:
            self.doc.problem(code, Severity.ERROR, f"{key}: ${{file:{ref}}}: {error}", span)
            return None
        self.chars += len(text)
        if self.chars > self.limits.include_bytes:
            self.doc.problem(LIMIT_EXCEEDED, Severity.ERROR, f"${{file:{ref}}}: referenced files are over the include limit", span)
            return None
        suffix = Path(ref).suffix.lower()
        if suffix not in (".json", ".yaml", ".yml"):
            return text
        data, why = load_data(text, self.limits, json_text=suffix == ".json")
        if why is not None:
            self.doc.problem("invalid-frontmatter", Severity.ERROR, f"{key}: {Path(ref).name} is not valid: {why}", span)
            return None
        return self.resolve(data, key, depth + 1)


def resolve_references(doc: PromptDocument, data: dict[str, Any]) -> dict[str, Any]:
    """`data` with every `${file:}` reference replaced by the file's data."""
    return _Reader(doc).resolve(data, "", 0)
