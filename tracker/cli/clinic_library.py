"""``tracker --library postgresql://LOGIN@HOST/DATABASE COMMAND`` (issue 21): the commands that
work through the services alone, on a clinic library in a database (``store.server_library``).

The address comes from ``--library``, or from ``TRACKER_LIBRARY`` when that is an address. The
password is the address's own, else ``TRACKER_CLINIC_PASSWORD``, else what libpq finds itself
(``PGPASSFILE`` or ``~/.pgpass``, a ``PGPASSWORD``); it is never printed: every message shows
the address with its password hidden. Every command takes an address but those of a library folder's own
(``init``, ``passphrase``, ``encrypt``: ``FOLDER_ONLY``), which are refused with a sentence
that says what does their work on a server, before anything is opened. A backup writes a
folder's archive (``core.care.server_backup``), which ``tracker restore`` makes a library
folder of.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from tracker.cli import secrets
from tracker.core.errors import UsageError
from tracker.core.paths import ENV_LIBRARY, NOT_A_PORT, SCHEMES

if TYPE_CHECKING:
    from tracker.core.store.server_library import ServerLibrary

ENV_PASSWORD = "TRACKER_CLINIC_PASSWORD"
# The commands that work on a library folder only, each refused on an address with its way.
FOLDER_ONLY = frozenset({"init", "passphrase", "encrypt"})


def address(given: str | None) -> str | None:
    """The server library's address that ``--library`` (``given``) or ``TRACKER_LIBRARY``
    names; None when the library is a folder."""
    if not is_address(given):
        return None
    location = given if given is not None else os.environ.get(ENV_LIBRARY, "").strip()
    try:
        make_url(location)
    except ArgumentError:
        raise UsageError(
            "The library address is not a database address; give one as "
            "postgresql://LOGIN@HOST/DATABASE."
        ) from None
    except ValueError:  # make_url's own, for a port that is not a number
        raise UsageError(NOT_A_PORT) from None
    return location


def is_address(given: str | None) -> bool:
    """Whether ``--library`` (``given``) or ``TRACKER_LIBRARY`` is an address, well formed
    or not (never taken for a folder's name)."""
    location = given if given is not None else os.environ.get(ENV_LIBRARY, "").strip()
    return location.startswith(SCHEMES)


def shown(url: str) -> str:
    """``url`` as a message shows it: its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def refuse_unless_served(command: str, url: str) -> None:
    """A UsageError (exit 2) for a command that works on a library folder only, saying
    what does its work on a clinic library; nothing else is refused here."""
    if command not in FOLDER_ONLY:
        return
    if command == "passphrase":
        raise UsageError(
            f"{shown(url)} is a clinic library: its passphrase is changed with 'tracker "
            "clinic passphrase change --url ADDRESS', by its owner."
        )
    if command == "init":
        raise UsageError(
            f"{shown(url)} is a database: a clinic library is made there with "
            "'tracker clinic create ADDRESS', not 'tracker init'."
        )
    raise UsageError(
        f"{shown(url)} is a clinic library, which is encrypted when it is made ('tracker "
        "clinic create NEW-ADDRESS --encrypt'), not afterwards: to encrypt this one's photos, "
        "back it up ('tracker --library ADDRESS backup OUT.zip') and restore that into the new "
        "encrypted clinic library ('tracker restore OUT.zip NEW-ADDRESS'); nothing was changed."
    )


def with_password(url: str) -> str:
    """``url`` with ``TRACKER_CLINIC_PASSWORD`` as its password when it holds none."""
    parsed = make_url(url)
    password = os.environ.get(ENV_PASSWORD)
    if parsed.password is None and password:
        parsed = parsed.set(password=password)
    return parsed.render_as_string(hide_password=False)


def open_server(args: argparse.Namespace, *, create: bool = False, **options: Any) -> ServerLibrary:
    """The server library of ``args.server_url`` (``create`` does not apply: a clinic library
    is made by 'tracker clinic create'). An encrypted one is opened with the passphrase (or,
    ``--recovery-key``, the recovery key) from the environment, else typed when it asks."""
    del create
    return open_url(with_password(args.server_url), getattr(args, "recovery_key", False), **options)


def open_url(url: str, recovery: bool = False, **options: Any) -> ServerLibrary:
    """``ServerLibrary.open_server(url)``, asking for the passphrase when it is encrypted
    (``services.clinic_keys``: the attempts entered in its audit trail)."""
    # start-up time: the server's modules are loaded for a server library only
    from tracker.core.services import clinic_keys

    # start-up time: as above
    from tracker.core.store.server_keys import PassphraseNeeded

    given = secrets.given(recovery)
    # The unlock, and each wrong passphrase, is entered in the library's audit trail.
    try:
        return clinic_keys.open_server(
            url,
            passphrase=given.get("passphrase"),
            recovery_key=given.get("recovery_key"),
            **options,
        )
    except PassphraseNeeded:
        if given:
            raise
    typed = secrets.unlocking(recovery, shown(url))
    return clinic_keys.open_server(
        url, passphrase=typed.get("passphrase"), recovery_key=typed.get("recovery_key"), **options
    )


def is_served(args: argparse.Namespace) -> bool:
    return getattr(args, "server_url", None) is not None
