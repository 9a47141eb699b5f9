"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

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
    # Unique per process, thread and call: no two writers ever share a temporary file.
    tmp = f"{target}.{os.getpid()}-{threading.get_ident()}-{next(_counter)}.promptwise-tmp"
    try:
        with open(tmp, "wb") as handle:
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
