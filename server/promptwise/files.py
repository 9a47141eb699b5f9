"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import errno
import itertools
import os
import threading
from pathlib import Path
from typing import Iterable

_counter = itertools.count()


def write_atomic(target: Path | str, data: bytes | Iterable[bytes], *, mode: int | None = None, durable: bool = False) -> None:
    """Write to a temporary file beside the target, then rename over it: readers never see half a file.

    `data` may come in chunks (a long report is never held whole). `mode` sets the file's permissions
    (an edited file keeps its own); `durable` flushes it to disk before the rename (a user's file).
    """
    target = os.fspath(target)
    tmp, fd = _create_temporary(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                handle.writelines(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def _create_temporary(target: str) -> tuple[str, int]:
    """A new temporary file beside `target`. Unique per process, thread and call, and created
    exclusively without following symlinks: a name planted in a repository is skipped, never written through."""
    for _ in range(100):
        tmp = f"{target}.{os.getpid()}-{threading.get_ident()}-{next(_counter)}.promptwise-tmp"
        try:
            return tmp, os.open(tmp, _CREATE, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink
                continue
            raise
    raise FileExistsError(f"no free temporary name beside {target}")
