"""Which files a prompt may pull in, and reading them within bounds.

A prompt file, a config or a suite comes from a repository nobody vetted, so what it names is read only
when it is a regular file inside the workspace (or a folder the user's own configuration allows), with
its size checked before the read and the read capped. A refused read is a reason in words, never an
exception: the caller turns it into a finding that names the path.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

DEFAULT_INCLUDE_BYTES = 2 * 1024 * 1024

_lock = threading.Lock()
_roots: tuple[Path, ...] | None = None  # None: each file's own project is its workspace
_allowed: tuple[Path, ...] | None = None  # None: read from the user's config on first use


def set_workspace(roots: Iterable[Path | str] | None) -> None:
    """The folders the user opened (the editor's workspace folders, the CLI's paths); None forgets them."""
    global _roots
    with _lock:
        _roots = None if roots is None else tuple(dict.fromkeys(_real(Path(r)) for r in roots))


def set_allowed(folders: Iterable[Path | str] | None) -> None:
    """Folders outside the workspace the user allows reads from; None reloads them from user config."""
    global _allowed
    with _lock:
        _allowed = None if folders is None else tuple(_real(Path(f).expanduser()) for f in folders)


def allowed_folders() -> tuple[Path, ...]:
    global _allowed
    if _allowed is None:
        from .config.user import load_user_config

        folders = tuple(_real(Path(f).expanduser()) for f in load_user_config().settings.allow_read)
        with _lock:
            _allowed = folders
    return _allowed


def project_root(path: Path) -> Path:
    """The top of the repository holding `path` (the nearest folder with `.git`), else its own folder.
    The user's home folder and `/` never count as a repository top: a home under git is not a project."""
    real = _real(path)
    folder = real if real.is_dir() else real.parent
    home = _real(Path.home())
    for candidate in (folder, *folder.parents):
        if candidate in (home, Path(candidate.anchor)):
            break
        if (candidate / ".git").exists():
            return candidate
    return folder


def workspace_for(origin: Path) -> tuple[Path, ...]:
    """The folders a file may read from: the workspace folder holding it, else its own project."""
    real = _real(origin)
    roots = _roots
    if roots:
        inside = tuple(r for r in roots if _within(real, r))
        if inside:
            return roots
    return (project_root(real),)


def workspace_folder(origin: Path) -> Path:
    """The one folder a file belongs to: the innermost workspace folder holding it, else its project."""
    real = _real(origin)
    inside = [r for r in _roots or () if _within(real, r)]
    return max(inside, key=lambda r: len(r.parts)) if inside else project_root(real)


def refusal(path: Path, origin: Path) -> str | None:
    """Why `path` may not be read for a file at `origin`, or None when it may."""
    real = _real(path)
    if any(_within(real, r) for r in workspace_for(origin)):
        return None
    if any(_within(real, r) for r in allowed_folders()):
        return None
    return (
        f"{path} is outside the workspace; it was not read "
        "(allow its folder with allow_read in the user config, ~/.config/promptwise/config.toml)"
    )


def read_bytes(path: Path, max_bytes: int, origin: Path | None = None, prefix: bool = False) -> tuple[bytes | None, str | None]:
    """The bytes of a regular file of at most `max_bytes`, or (None, why not); with `prefix`, its first
    `max_bytes` whatever its size (an image's header).

    With `origin`, the file must also be one that `origin` may read (see `refusal`). Symlinks are
    followed with loop detection; FIFOs, devices and folders are refused without blocking on them.
    """
    try:
        real = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        return None, f"{path.name} does not exist"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, f"{path} is a symlink loop"
        return None, f"cannot read {path}: {exc.strerror or exc}"
    except RuntimeError:  # symlink loop on some Pythons
        return None, f"{path} is a symlink loop"
    if origin is not None:
        why = refusal(real, origin)
        if why is not None:
            return None, why
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            return None, f"{path} is a folder, not a file"
        if not stat.S_ISREG(info.st_mode):
            return None, f"{path} is not a regular file ({file_kind(info.st_mode)}); it was not read"
        if prefix:
            return os.read(fd, max_bytes), None
        if info.st_size > max_bytes:
            return None, f"{path.name} is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit"
        chunks: list[bytes] = []
        left = max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        if len(data) > max_bytes:  # it grew after the size check
            return None, f"{path.name} is over the {max_bytes:,}-byte limit"
        return data, None
    except OSError as exc:
        return None, f"cannot read {path}: {exc.strerror or exc}"
    finally:
        os.close(fd)


def read_text(path: Path, max_bytes: int = DEFAULT_INCLUDE_BYTES, origin: Path | None = None) -> tuple[str | None, str | None]:
    """`read_bytes` decoded as UTF-8 (bad bytes replaced); binary files are refused."""
    data, error = read_bytes(path, max_bytes, origin)
    if data is None:
        return None, error
    if b"\x00" in data[:8192]:
        return None, f"{path.name} is a binary file"
    return data.decode("utf-8", errors="replace"), None


def is_regular_file(path: Path) -> bool:
    """True for a regular file (after following symlinks, without looping); never blocks."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, RuntimeError):
        return False


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a FIFO"), for the finding that says it was not read."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _real(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path))
    except (OSError, RuntimeError, ValueError):
        return Path(os.path.abspath(path))


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
