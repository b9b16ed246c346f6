"""One writer per library: a lock file held with an OS lock, naming its owner.

The OS lock (``flock``) is released by the kernel when the owning process ends, however it ends,
so a lock left by a crashed or killed program is taken over without asking. The file's text
(process id, host, start time) is only there to tell the person who holds the library.

An ``flock`` belongs to the open file, not to the descriptor: a process started by another
thread (``subprocess``, a ``spawn`` pool) holds a copy of every descriptor from its fork until
its exec closes them, and while a copy is open, closing ours does not release the lock. So the
lock is released explicitly (``LOCK_UN``, which frees it for every copy) before it is closed:
else a library closed in one thread stayed locked, for a moment, to the next program opening it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
import os
import platform
from pathlib import Path

from tracker.core.errors import FolderReadOnly, LibraryLocked, StorageError

LOCK_NAME = "lock"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def _owner_text(owner: dict[str, object]) -> str:
    host = owner.get("host") or "this computer"
    since = owner.get("since")
    when = f" since {since}" if since else ""
    return f"process {owner.get('pid', '?')} on {host}{when}"


class WriterLock:
    def __init__(self, root: Path) -> None:
        self.path = root / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise LibraryLocked naming who holds it."""
        try:
            # Never through a link: a ``lock`` linked to a file elsewhere would be truncated.
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except PermissionError as exc:
            raise FolderReadOnly(
                f"The library folder {self.path.parent} cannot be written to (no permission)."
            ) from exc
        except OSError as exc:
            error = FolderReadOnly if exc.errno == errno.EROFS else StorageError
            raise error(
                f"The library's lock file {self.path} cannot be created ({exc.strerror})."
            ) from exc
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                owner = self._read(fd)
                os.close(fd)
                where = f"The library {self.path.parent} is open in another copy of the app ({_owner_text(owner)})."
                raise LibraryLocked(
                    f"{where} Close it there first.",
                    f"{where} Close it there first; this copy can only read it.",
                    owner,
                ) from None
        owner = {
            "pid": os.getpid(),
            "host": platform.node(),
            "since": dt.datetime.now().isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        self._fd = fd

    @staticmethod
    def _read(fd: int) -> dict[str, object]:
        try:
            data = os.pread(fd, 4096, 0)
            value = json.loads(data.decode("utf-8")) if data else {}
            return value if isinstance(value, dict) else {}
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        if fcntl is not None:
            with contextlib.suppress(OSError):
                # For every copy of the descriptor: closing this one alone would leave the
                # lock held while a process being started by another thread has a copy.
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def in_use(root: Path) -> bool:
    """Whether a program (this one included) holds the library at ``root`` for changes now,
    found without taking the lock or creating its file: while one does, its folder holds its
    work in flight (an import's staged files), which is not damage."""
    try:
        fd = os.open(root / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return False  # no lock file: nobody has had it open for changes
    try:
        if fcntl is None:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False
    finally:
        os.close(fd)


# -- temporary files that say whether their writer is still at work ------------------------------


def claim(fd: int) -> None:
    """Hold an OS lock on an open temporary file for as long as it is open, so that a later
    run can tell a file still being written from one left by a killed writer (``abandoned``)."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def abandoned(path: Path, pid: int | None, max_age: dt.timedelta = dt.timedelta(days=1)) -> bool:
    """Whether the temporary file at ``path``, written by process ``pid`` (None when its name
    does not say), was left by a writer that is gone: nobody holds its ``claim`` and its
    process has ended. Where there are no OS locks, a file older than ``max_age`` is."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    except OSError:
        return False  # gone already, or not ours to judge
    try:
        if fcntl is None:
            age = dt.datetime.now().timestamp() - os.fstat(fd).st_mtime
            return age > max_age.total_seconds()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # its writer is at work
        if pid is None or pid == os.getpid():
            return True
        return not _alive(pid, os.fstat(fd).st_mtime)
    finally:
        os.close(fd)


def _alive(pid: int, written: float) -> bool:
    """Whether the process ``pid`` that wrote a file last changed at ``written`` (seconds since
    the epoch) still runs (between its file's creation and its claim, a writer holds no lock
    yet: it is left alone while it lives). Process numbers are reused: a process of that
    number started after the file was written is another one, and the writer has gone."""
    try:
        os.kill(pid, 0)  # only reached where there is fcntl (POSIX): signal 0 tests, sends nothing
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    started = started_at(pid)
    return started is None or started <= written + START_SLACK_S


START_SLACK_S = 1.0  # the boot time /proc gives is in whole seconds


def started_at(pid: int) -> float | None:
    """When process ``pid`` started, in seconds since the epoch, where ``/proc`` says (Linux;
    None elsewhere or when it cannot be read)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        ticks = int(stat[stat.rindex(")") + 2 :].split()[19])  # field 22, "starttime"
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
