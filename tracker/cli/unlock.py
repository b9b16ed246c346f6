"""Opening an encrypted library from the command line, and changing its passphrase.

The passphrase is read from the terminal without echo, or, for scripts, from the environment
variable ``TRACKER_PASSPHRASE`` (its risk: other programs of the same user, and a crash
report or a shell history that records the environment, can read it; docs/CLI.md says so).
``--recovery-key`` unlocks with the recovery key instead, read the same way
(``TRACKER_RECOVERY_KEY``). A wrong one is exit status 2 with one sentence, as every refusal.

A new passphrase (``init --encrypt``, ``encrypt``, ``passphrase change``) is typed twice, or
read from ``TRACKER_NEW_PASSPHRASE``, one name for all three. Where the library has no
passphrase yet (``init --encrypt``, ``encrypt``), ``TRACKER_PASSPHRASE`` is read when that is
not set: ``init --encrypt`` read only it before, and scripts may set it.
"""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tracker.cli import clinic_library
from tracker.cli.output import emit
from tracker.cli.parser import EXIT_OK
from tracker.cli.secrets import ENV_PASSPHRASE, secret, unlocking
from tracker.core.crypto.layout import is_encrypted
from tracker.core.errors import UsageError
from tracker.core.services import audit
from tracker.core.store.library import Library

if TYPE_CHECKING:
    from tracker.core.crypto.keys import Keys

ENV_NEW_PASSPHRASE = "TRACKER_NEW_PASSPHRASE"


def keys_for(args: argparse.Namespace, root: Path) -> Keys | None:
    """The keys of the library at ``root`` when it is encrypted (asked for), else None."""
    if not is_encrypted(root):
        return None
    return keys_for_folder(args, root)


def keys_for_folder(args: argparse.Namespace, root: Path) -> Keys:
    """The keys from the key file in ``root`` (a library, or a backup being restored), from
    the passphrase or, with ``--recovery-key``, the recovery key."""
    # start-up time: cryptography is loaded for an encrypted library only
    from tracker.core.store import encrypted

    return encrypted.unlock(root, **unlocking(getattr(args, "recovery_key", False), str(root)))


def open_library(args: argparse.Namespace, root: Path, **options: Any) -> Library:
    """``Library.open`` for a command: an encrypted library is unlocked first (and the
    unlock, with any failed attempts before it, entered in its audit trail). A library in a
    database (``--library postgresql://...``) is opened by ``clinic_library``."""
    if clinic_library.is_served(args):
        return clinic_library.open_server(args, **options)
    lib = Library.open(root, keys=keys_for(args, root), **options)
    try:
        audit.settle(lib)
    except BaseException:
        lib.close()
        raise
    return lib


def new_passphrase(*, first: bool) -> str:
    """A new passphrase: from ``TRACKER_NEW_PASSPHRASE``, else, for a library's ``first``
    passphrase, from ``TRACKER_PASSPHRASE`` (the older name), else typed twice at the
    terminal (the two must agree)."""
    for env in (ENV_NEW_PASSPHRASE, ENV_PASSPHRASE) if first else (ENV_NEW_PASSPHRASE,):
        given = os.environ.get(env)
        if given:
            return given
    first_typed = secret("New passphrase: ", ENV_NEW_PASSPHRASE, "new passphrase")
    if getpass.getpass("The same passphrase again: ") != first_typed:
        raise UsageError("The two passphrases typed differ; nothing was changed.")
    return first_typed


def init_encrypted(args: argparse.Namespace, root: Path) -> int:
    """``tracker init --encrypt``: a new encrypted library, and its recovery key shown once."""
    # start-up time: cryptography is loaded for an encrypted library only
    from tracker.core.store import encrypted

    lib, recovery = encrypted.create(root, new_passphrase(first=True))
    lib.close()
    emit(
        args,
        {"library": str(root), "created": True, "encrypted": True, "recovery_key": recovery},
        f"Created an encrypted library at {root}.\n"
        f"Its recovery key, shown only this once: {recovery}\n"
        "Print it or write it down and keep it apart from the computer: it opens the library "
        "if the passphrase is forgotten, and nothing else can.",
    )
    return EXIT_OK


def cmd_encrypt(args: argparse.Namespace, root: Path) -> int:
    """``tracker encrypt``: the plain library at ``root`` encrypted in place (crash safe: see
    ``core.care.encrypt``), and its recovery key shown once, as ``init --encrypt`` does."""
    # start-up time: cryptography and SQLCipher are loaded for this command only
    from tracker.core.care.encrypt import encrypt_library

    if is_encrypted(root):
        raise UsageError(f"The library in {root} is encrypted already; nothing was changed.")
    if not root.is_dir():
        raise UsageError(f"There is no library at {root}; create one with 'tracker init'.")
    Library.open(root).close()  # refused before the passphrase is asked: locked, read-only
    passphrase = new_passphrase(first=True)
    counted: list[int] = []
    recovery = encrypt_library(root, passphrase, lambda done, total: counted.append(total))
    files = counted[-1] if counted else 0  # originals, pictures, database and snapshots
    emit(
        args,
        {
            "library": str(root),
            "encrypted": True,
            "files": files,
            "recovery_key": recovery,
        },
        f"The library at {root} is encrypted ({files} files).\n"
        f"Its recovery key, shown only this once: {recovery}\n"
        "Print it or write it down and keep it apart from the computer: it opens the library "
        "if the passphrase is forgotten, and nothing else can.",
    )
    return EXIT_OK


def cmd_passphrase(args: argparse.Namespace, root: Path) -> int:
    """``tracker passphrase change``: unlock with the passphrase (or the recovery key), then
    wrap the master key with a new passphrase; nothing else is encrypted again."""
    # start-up time: cryptography is loaded for an encrypted library only
    from tracker.core.store import encrypted

    if not is_encrypted(root):
        raise UsageError(f"The library in {root} is not encrypted; it has no passphrase.")
    with open_library(args, root) as lib:
        encrypted.change_passphrase(lib, new_passphrase(first=False))
    emit(
        args,
        {"library": str(root), "passphrase_changed": True},
        "The passphrase was changed; the recovery key stays as it was.",
    )
    return EXIT_OK
