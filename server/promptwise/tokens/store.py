"""Token counts kept on disk between runs, so a fresh process counts unchanged text without loading a tokenizer."""

from __future__ import annotations

import hashlib
import marshal
import threading
from pathlib import Path

from .encodings import _write_quietly, cache_dir

# Per tokenizer; beyond this many entries only the newest run's counts are kept.
MAX_ENTRIES = 100_000


def _key(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class CountStore:
    """(tokenizer, text digest) -> token count, in one marshal file per tokenizer and version."""

    def __init__(self, directory: Path | None = None, version: str = "") -> None:
        self._directory = directory
        self._version = version
        self._tables: dict[str, dict[bytes, int]] = {}
        self._new: dict[str, dict[bytes, int]] = {}
        self._lock = threading.Lock()

    def _path(self, name: str) -> Path:
        directory = self._directory or cache_dir()
        return directory / f"counts-v2-{name}-{self._version or _litellm_version()}.marshal"  # v1 files may hold bad counts

    def _table(self, name: str) -> dict[bytes, int]:
        table = self._tables.get(name)
        if table is None:
            try:
                loaded = marshal.loads(self._path(name).read_bytes())
                table = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError, EOFError, TypeError):
                table = {}
            self._tables[name] = table
        return table

    def get_many(self, name: str, texts: list[str]) -> list[int | None]:
        with self._lock:
            table = self._table(name)
            return [table.get(_key(t)) for t in texts]

    def put_many(self, name: str, texts: list[str], counts: list[int]) -> None:
        with self._lock:
            table = self._table(name)
            new = self._new.setdefault(name, {})
            for text, n in zip(texts, counts):
                key = _key(text)
                table[key] = n
                new[key] = n

    def save(self) -> None:
        """Merge this run's counts into the files; errors only cost the next run some speed."""
        with self._lock:
            for name, new in self._new.items():
                if not new:
                    continue
                path = self._path(name)
                try:
                    on_disk = marshal.loads(path.read_bytes())
                    if not isinstance(on_disk, dict):
                        on_disk = {}
                except (OSError, ValueError, EOFError, TypeError):
                    on_disk = {}
                merged = {**on_disk, **new} if len(on_disk) + len(new) <= MAX_ENTRIES else dict(new)
                _write_quietly(path, marshal.dumps(merged))
                new.clear()


def _litellm_version() -> str:
    from ..catalog import litellm_version

    return litellm_version()
