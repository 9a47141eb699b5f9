"""Writing files so that a reader never sees half of one."""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path

_counter = itertools.count()


def write_atomic(target: Path | str, data: bytes) -> None:
    """Write to a temporary file beside the target, then rename over it: readers never see half a file."""
    target = os.fspath(target)
    # Unique per process, thread and call: no two writers ever share a temporary file.
    tmp = f"{target}.{os.getpid()}-{threading.get_ident()}-{next(_counter)}.tmp"
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
