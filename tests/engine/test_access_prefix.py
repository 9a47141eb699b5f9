"""A file's first bytes (an image's header) are read by the same rules as a whole file: inside the
workspace, regular files only, never blocking on a FIFO; only the size limit does not apply."""

from __future__ import annotations

import os

import pytest

from promptwise import access


@pytest.fixture()
def workspace(tmp_path):
    inside = tmp_path / "repo"
    inside.mkdir()
    (inside / ".git").mkdir()
    return inside


def test_the_head_of_a_file_over_the_limit(workspace):
    big = workspace / "photo.png"
    big.write_bytes(b"\x89PNG" + b"x" * 10_000)
    origin = workspace / "a.prompty"
    assert access.read_bytes(big, 64, origin=origin, prefix=True) == (b"\x89PNG" + b"x" * 60, None)
    data, why = access.read_bytes(big, 64, origin=origin)
    assert data is None and why == "photo.png is 10,004 bytes, over the 64-byte limit"


def test_the_head_of_a_file_outside_the_workspace_is_not_read(workspace):
    outside = workspace.parent / "secret.png"
    outside.write_bytes(b"\x89PNG")
    data, why = access.read_bytes(outside, 64, origin=workspace / "a.prompty", prefix=True)
    assert data is None and "is outside the workspace; it was not read" in why


def test_the_head_of_a_fifo_is_not_waited_for(workspace):
    fifo = workspace / "pipe.png"
    os.mkfifo(fifo)
    data, why = access.read_bytes(fifo, 64, origin=workspace / "a.prompty", prefix=True)
    assert data is None and why.startswith(f"{fifo} is not a regular file")
