"""Responses cached on disk, keyed by model, rendered messages, parameters and repeat index, so re-runs cost nothing."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import threading
from pathlib import Path
from typing import Any

from ..files import write_atomic

CACHE_VERSION = 1
TEMP_SUFFIX = ".promptwise-tmp"
_TEMP_PID = re.compile(r"\.(\d+)-\d+-\d+\.promptwise-tmp$")  # files.write_atomic's `NAME.PID-THREAD-N.promptwise-tmp`


def remove_stale_temp_files(folder: Path | str, depth: int = 1) -> int:
    """Delete temporary files that a killed run left in `folder` (and `depth` levels below it). A file
    whose writer is still alive (another run writing now) is left alone. Returns how many were removed."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if depth > 0:
                    removed += remove_stale_temp_files(entry.path, depth - 1)
            elif entry.name.endswith(TEMP_SUFFIX) and not _writer_alive(entry.name):
                os.unlink(entry.path)
                removed += 1
        except OSError:
            continue
    return removed


def _writer_alive(name: str) -> bool:
    m = _TEMP_PID.search(name)
    if m is None:
        return False
    pid = int(m.group(1))
    if pid == os.getpid():
        return True  # this process may be writing it now
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's live process, or undecidable: keep it
    return True


def cache_key(kind: str, model: str, api_base: str | None, payload: Any, repeat: int = 0) -> str:
    """sha256 of what decides the answer. API keys are never part of it (nor of anything written)."""
    blob = json.dumps(
        {"v": CACHE_VERSION, "kind": kind, "model": model, "api_base": api_base, "payload": payload, "repeat": repeat},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class RequestKeys:
    """cache_key for many requests that differ only in their messages: the rest is hashed once."""

    def __init__(self, kind: str, model: str, api_base: str | None, params: Any) -> None:
        head = json.dumps(
            {"v": CACHE_VERSION, "kind": kind, "model": model, "api_base": api_base, "params": params},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        self._prefix = hashlib.sha256(head.encode("utf-8"))

    def key(self, messages: list[dict[str, Any]], repeat: int) -> str:
        digest = self._prefix.copy()
        update = digest.update
        # Length-prefixed fields instead of JSON: unambiguous, and several times faster on long prompts.
        for message in messages:
            update(b"\x1d")
            for name, value in message.items():
                text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
                data = text.encode("utf-8", "surrogatepass")
                update(b"%s\x1f%d\x1e" % (name.encode(), len(data)))
                update(data)
        update(b"\x1drepeat=%d" % repeat)
        return digest.hexdigest()


class ResponseCache:
    """One JSON file per response under `folder/ab/abcdef....json`, written atomically.

    The folder is listed once, so a miss costs no file system call; with `start_writer()` writes go
    to a background thread, so a slow disk never stalls the event loop. `close()` waits for them."""

    def __init__(self, folder: Path, enabled: bool = True) -> None:
        self.folder = folder
        self.enabled = enabled
        self.hits = 0
        self.misses = 0
        self.write_errors = 0
        self._base = str(folder)
        self._made: set[str] = set()
        self._known: set[str] | None = None
        self._queue: queue.SimpleQueue[Any] | None = None
        self._thread: threading.Thread | None = None

    def _path(self, key: str) -> str:
        return os.path.join(self._base, key[:2], key + ".json")

    def _index(self) -> set[str]:
        if self._known is None:
            known: set[str] = set()
            try:
                with os.scandir(self._base) as top:
                    for sub in top:
                        if len(sub.name) == 2 and sub.is_dir():
                            with os.scandir(sub.path) as files:
                                known.update(f.name[:-5] for f in files if f.name.endswith(".json"))
            except OSError:
                pass
            self._known = known
        return self._known

    def get(self, key: str) -> dict[str, Any] | None:
        if not self.enabled:
            return None
        if key not in self._index():
            self.misses += 1
            return None
        try:
            with open(self._path(key), "rb") as handle:
                entry = json.loads(handle.read())
        except (OSError, ValueError):
            self.misses += 1
            return None
        if not isinstance(entry, dict) or entry.get("v") != CACHE_VERSION:
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def has(self, key: str) -> bool:
        """Whether a response is cached under `key` (the folder's listing: no file is read)."""
        return self.enabled and key in self._index()

    def put(self, key: str, entry: dict[str, Any]) -> None:
        if not self.enabled:
            return
        data = json.dumps({"v": CACHE_VERSION, **entry}, ensure_ascii=False).encode("utf-8")
        self._index().add(key)
        if self._queue is not None:
            self._queue.put((key, data))
        else:
            self._write(key, data)

    def _write(self, key: str, data: bytes) -> None:
        target = self._path(key)
        folder = os.path.dirname(target)
        try:
            if folder not in self._made:
                os.makedirs(folder, exist_ok=True)
                self._made.add(folder)
            write_atomic(target, data)
        except OSError:
            self.write_errors += 1  # a full disk loses cache entries, not the run

    def remove_stale_temp_files(self) -> int:
        return remove_stale_temp_files(self.folder, depth=1) if self.enabled else 0

    def start_writer(self) -> None:
        if self._thread is None and self.enabled:
            self._queue = queue.SimpleQueue()
            self._thread = threading.Thread(target=self._drain, name="promptwise-cache-writer", daemon=True)
            self._thread.start()

    def _drain(self) -> None:
        assert self._queue is not None
        while True:
            item = self._queue.get()
            if item is None:
                return
            self._write(*item)

    def close(self) -> None:
        """Wait for queued writes; later puts are written directly."""
        if self._thread is not None and self._queue is not None:
            self._queue.put(None)
            self._thread.join()
        self._thread = None
        self._queue = None
