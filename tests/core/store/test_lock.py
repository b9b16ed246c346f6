"""The writer lock is free the moment its library is closed, even while a process started by
another thread still holds a copy of its descriptor (between that process's fork and exec)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tracker.core.errors import LibraryLocked
from tracker.core.store.lock import WriterLock, in_use

fcntl = pytest.importorskip("fcntl")


def test_a_released_lock_is_free_while_a_forked_child_still_has_its_descriptor(
    tmp_path: Path,
) -> None:
    held = WriterLock(tmp_path)
    held.acquire()
    readable, writable = os.pipe()
    child = os.fork()
    if child == 0:  # as a process being started is, until its exec: the copy is open
        try:
            os.close(writable)
            os.read(readable, 1)
        finally:
            os._exit(0)
    os.close(readable)
    try:
        held.release()  # the child has its copy of the lock's descriptor open
        assert not in_use(tmp_path)
        again = WriterLock(tmp_path)
        again.acquire()  # refused as "open in another copy of the app" before
        assert again.held and in_use(tmp_path)
        with pytest.raises(LibraryLocked):
            WriterLock(tmp_path).acquire()  # the lock itself still works
        again.release()
    finally:
        os.write(writable, b"x")
        os.close(writable)
        os.waitpid(child, 0)
