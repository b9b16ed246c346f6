"""The writer lock is free the moment its library is closed, even while a process started by
another thread still holds a copy of its descriptor (between that process's fork and exec);
a temporary file is abandoned when its writer is gone, even if its number was reused."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tracker.core.errors import LibraryLocked
from tracker.core.store.lock import WriterLock, abandoned, claim, in_use

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


def test_a_file_left_by_a_killed_writer_is_abandoned_though_its_number_was_reused(
    tmp_path: Path,
) -> None:
    left = tmp_path / ".out.zip.1234-abcd.part"
    left.write_bytes(b"half an archive")
    hour_ago = time.time() - 3600
    os.utime(left, (hour_ago, hour_ago))
    # A process of the writer's number that started after the file was written: another one.
    later = subprocess.Popen(["sleep", "30"])
    try:
        assert abandoned(left, later.pid)
    finally:
        later.kill()
        later.wait()
    # A writer that started before its file and still runs is at work, claimed or not yet.
    fresh = tmp_path / ".out.zip.5678-abcd.part"
    fresh.write_bytes(b"being written")
    assert not abandoned(fresh, os.getppid())
    with open(fresh, "rb+") as fh:
        claim(fh.fileno())
        assert not abandoned(fresh, None)
    assert abandoned(fresh, None)  # its claim went with its writer
