"""``tracker restore ARCHIVE.zip ADDRESS`` and ``tracker demo ADDRESS`` (issue 21): the
library is made as for a folder, in a private temporary folder, then moved into the empty
clinic library at ``ADDRESS`` by ``clinic migrate-from``'s move (``core.care.clinic_migrate``:
one transaction of the server's, every original and form checked by its SHA-256 and read back),
and the folder removed. What the clinic library refuses of itself (a login not its owner, a
library not empty) is asked first, before anything is unpacked or made.

The temporary folder is the system's (``TMPDIR``), made readable by this user only; it holds
what the archive holds (an encrypted backup stays encrypted there) for as long as the move
takes, and is removed after it, moved in or not: on an interrupt or a SIGTERM too (a SIGTERM is
made an exit while the folder exists, so the folder's removal runs). What a SIGKILL or a power
cut leaves is removed by the next restore or demo into a clinic library: its folder's name
holds the process's id, and a folder of a process that is gone is removed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tracker.cli import clinic_library, secrets
from tracker.cli.output import emit
from tracker.cli.parser import EXIT_OK, EXIT_PROBLEMS
from tracker.core.care import clinic_migrate, restore
from tracker.core.crypto.keys import Keys
from tracker.core.errors import UsageError

Made = Callable[[Path], tuple[dict[str, Any], Keys | None]]
PREFIX = "stria-move-in-"


def _remove_abandoned(where: Path) -> None:
    """Remove the folders in ``where`` that a restore or demo of a process now gone left."""
    for folder in where.glob(f"{PREFIX}*-*"):
        pid = folder.name[len(PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or folder.is_symlink():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:  # another user's process: not this user's folder either
            continue


@contextlib.contextmanager
def _temporary() -> Iterator[Path]:
    """A private temporary folder, removed when the block ends, a SIGTERM ending it too."""
    where = Path(tempfile.gettempdir())
    _remove_abandoned(where)
    main = threading.current_thread() is threading.main_thread()
    before = signal.getsignal(signal.SIGTERM) if main else None

    def terminated(_signum: int, _frame: object) -> None:
        raise SystemExit(128 + signal.SIGTERM)

    if main:
        signal.signal(signal.SIGTERM, terminated)
    try:
        with tempfile.TemporaryDirectory(prefix=f"{PREFIX}{os.getpid()}-") as tmp:
            yield Path(tmp)
    finally:
        if main:
            signal.signal(signal.SIGTERM, before if before is not None else signal.SIG_DFL)


def _move_in(
    args: argparse.Namespace, url: str, make: Made, detail: str, *, allow_plain: bool = False
) -> tuple[dict[str, Any], dict[str, int], str]:
    """``make`` a library in a temporary folder and move it into the clinic library at
    ``url``: what ``make`` said, what was moved, and the address as messages show it."""
    lib = clinic_library.open_url(
        clinic_library.with_password(url), getattr(args, "recovery_key", False)
    )
    try:
        clinic_migrate.refuse_unless_movable_into(lib)
        with _temporary() as tmp:
            folder = tmp / "library"
            made, keys = make(folder)
            clinic_migrate.refuse_plain(folder, lib, allow_plain)
            done = clinic_migrate.migrate_from(
                folder, lib, keys=keys, allow_plain=allow_plain, detail=detail
            )
    finally:
        lib.close()
    return made, done, lib.server or clinic_library.shown(url)


def _checked(done: dict[str, int]) -> str:
    files = done["verified"]
    return (
        f"{files} file{'s' if files != 1 else ''} each checked by its SHA-256 and read back "
        "from the server"
    )


def _moved(done: dict[str, int]) -> str:
    photos = done["photos"]
    return (
        f"{done['clients']} client{'s' if done['clients'] != 1 else ''}, {done['visits']} "
        f"visit{'s' if done['visits'] != 1 else ''}, {photos} photo{'s' if photos != 1 else ''}; "
        + _checked(done)
    )


def restore_into(args: argparse.Namespace, url: str) -> int:
    """``tracker restore ARCHIVE.zip ADDRESS``: an archive of a folder's backup (or a clinic
    library's, ``tracker --library ADDRESS backup``) restored into an empty clinic library.
    An encrypted backup is unlocked with its own passphrase (``TRACKER_FOLDER_PASSPHRASE``, or
    typed), never the clinic library's."""
    archive: Path = args.archive
    unlocked: list[Keys] = []

    def keys_of(folder: Path) -> Keys:
        # start-up time: cryptography is loaded for an encrypted backup only
        from tracker.core.store import encrypted

        keys = encrypted.unlock(folder, **secrets.folder_unlocking(False, archive.name))
        unlocked.append(keys)
        return keys

    def make(folder: Path) -> tuple[dict[str, Any], Keys | None]:
        result = restore.restore(archive, folder, unlock=keys_of)
        if result["left_out"]:
            missing = len(result["left_out"])
            whose = "1 photo's original" if missing == 1 else f"{missing} photos' originals"
            raise UsageError(
                f"{archive.name} is a forced backup that left out {whose}, and a "
                "clinic library takes a library whole: restore it as a folder ('tracker "
                "restore ARCHIVE.zip DIR'), put back or erase those photos, then move the "
                "folder in ('tracker clinic migrate-from DIR'); nothing was written."
            )
        return result, unlocked[-1] if unlocked else None

    result, done, where = _move_in(
        args,
        url,
        make,
        f"restored from the backup {archive.name}",
        allow_plain=args.allow_unencrypted,
    )
    text = f"Restored {archive.name} into {where}: {_moved(done)}."
    trail = result.get("audit", [])
    if trail:  # the backup's anchor says its trail was cut before it was made
        text += " Its audit trail does not hold: " + " ".join(trail)
    emit(args, {**done, "library": where, "audit": trail}, text)
    return EXIT_OK if not trail else EXIT_PROBLEMS


def demo_into(args: argparse.Namespace, url: str) -> int:
    """``tracker demo ADDRESS``: the sample library made in an empty clinic library."""
    # start-up time: the sample's image making is loaded for this command only
    from tracker.core.demo.sample import create_demo

    def make(folder: Path) -> tuple[dict[str, Any], Keys | None]:
        return dict(create_demo(folder)), None

    summary, done, where = _move_in(args, url, make, "the sample library, made by 'tracker demo'")
    emit(
        args,
        {**summary, "library": where},
        f"Created a sample library in {where}: {summary['visits']} visits, "
        f"{summary['photos']} photos, {summary['ratings']} ratings; {_checked(done)}.",
    )
    return EXIT_OK
