"""``tracker clinic create URL``, ``tracker clinic user add NAME --role ROLE [--url URL]`` and
``tracker clinic migrate-from FOLDER [--url URL]`` (issue 21): a clinic library in a PostgreSQL
server, a login of their own for each person, and a library folder moved in
(``core.care.clinic_migrate``). The rights are the server's (``core.db.roles``); this only
reads what was typed.

A new login's password is typed twice at the terminal without echo, or, for scripts, read from
``TRACKER_NEW_PASSWORD`` (its risk as ``TRACKER_PASSPHRASE``'s: other programs of the same
user, a crash report or a shell history that records the environment, can read it). It is
never printed, logged or put in a statement: the server gets its SCRAM verifier only.
``TRACKER_CLINIC_PASSWORD`` is, here as for every command, the password of the login that
connects (the admin adding staff), never the new login's.

``clinic create --encrypt``: the clinic's passphrase (typed twice, or
``TRACKER_NEW_PASSPHRASE``) wraps the new library's key (``core.store.server_keys``); its
recovery key is shown once. ``clinic passphrase change`` wraps it again
(``core.services.clinic_keys``: the change in the audit trail); ``clinic rights`` grants the
staff's rights again (``core.care.clinic_rights``). ``clinic migrate-from`` of an encrypted
folder reads the folder's passphrase from ``TRACKER_FOLDER_PASSPHRASE`` (or typed), never the
clinic's ``TRACKER_PASSPHRASE``.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from tracker.cli import clinic_library, secrets, unlock
from tracker.cli.output import emit
from tracker.cli.parser import EXIT_OK
from tracker.core.care import clinic_migrate, clinic_rights
from tracker.core.db import roles, server, server_errors
from tracker.core.errors import LibraryError, UsageError
from tracker.core.paths import ENV_LIBRARY

ENV_NEW_PASSWORD = "TRACKER_NEW_PASSWORD"  # the new login's (``clinic user add``)
_INSUFFICIENT_PRIVILEGE = "42501"


def _address(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise UsageError(
            f"'{url}' is not a database address; give one as postgresql://LOGIN@HOST/DATABASE."
        ) from None


def _where(address: URL) -> str:
    host = address.host or address.query.get("host") or "this computer"
    return f"{address.database} on {host}"


@contextlib.contextmanager
def _server(
    url: str, doing: str, make: Callable[[str], Engine] = server.make_pg_engine
) -> Iterator[Engine]:
    """An engine for ``url`` (``make``'s: ``server.open_server`` checks that it is a clinic
    library, migrated); what the server refuses becomes one sentence (exit 2)."""
    address = _address(url)
    engine = make(url)
    try:
        yield engine
    except (OperationalError, InterfaceError) as exc:
        # Why, found by asking the server (not by reading its message): server_errors.
        said = server_errors.translate(exc, address, doing)
        if said is not None:
            text = str(said)
            raise LibraryError(f"Cannot {doing}: {text[:1].lower()}{text[1:]}") from None
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "no reason"
        raise LibraryError(
            f"Cannot {doing}: the server at {_where(address)} cannot be used ({reason})."
        ) from None
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != _INSUFFICIENT_PRIVILEGE:
            raise
        raise LibraryError(
            f"Cannot {doing}: the server refused the login {address.username or '(default)'} "
            "the right to (a clinic library is made by the database's owner or the server's "
            "superuser, staff are added by an admin)."
        ) from None
    finally:
        engine.dispose()


def _password(name: str) -> str:
    """The new login's password: ``ENV_NEW_PASSWORD``, or typed twice without echo."""
    given = os.environ.get(ENV_NEW_PASSWORD)
    if given:
        return given
    if not sys.stdin.isatty():
        raise UsageError(
            f"{name}'s password is needed and there is no terminal to type it in; run the "
            f"command in a terminal, or set {ENV_NEW_PASSWORD} (see docs/CLI.md for its risk)."
        )
    first = getpass.getpass(f"Password for {name}: ")
    if not first:
        raise UsageError("The password is empty; nothing was changed.")
    if getpass.getpass("The same password again: ") != first:
        raise UsageError("The two passwords differ; nothing was changed.")
    return first


def _library_url(args: argparse.Namespace) -> str:
    if args.url:
        return str(args.url)
    env = os.environ.get(ENV_LIBRARY, "").strip()
    if env.startswith("postgresql"):
        return env
    raise UsageError(
        "Say which clinic library with --url postgresql://LOGIN@HOST/DATABASE (or set "
        f"{ENV_LIBRARY} to that address)."
    )


def _migrate_from(args: argparse.Namespace) -> int:
    url = _library_url(args)
    _address(url)
    recovery = getattr(args, "recovery_key", False)  # the clinic library's, as for every command
    lib = clinic_library.open_url(clinic_library.with_password(url), recovery)
    try:
        # Everything that can refuse is asked before the folder's passphrase is.
        encrypted = clinic_migrate.movable(args.folder)
        clinic_migrate.refuse_plain(args.folder, lib, args.allow_unencrypted)
        keys = None
        if encrypted:
            # start-up time: cryptography is loaded for an encrypted folder only
            from tracker.core.store import encrypted as encrypted_folder

            root = args.folder.expanduser()
            keys = encrypted_folder.unlock(
                root, **secrets.folder_unlocking(args.folder_recovery_key, str(root))
            )
        done = clinic_migrate.migrate_from(
            args.folder, lib, keys=keys, allow_plain=args.allow_unencrypted
        )
    finally:
        lib.close()
    where = lib.server
    clients, photos = done["clients"], done["photos"]
    text = (
        f"Moved {args.folder} into {where}: {clients} client{'s' if clients != 1 else ''}, "
        f"{done['visits']} visit{'s' if done['visits'] != 1 else ''}, {photos} "
        f"photo{'s' if photos != 1 else ''}; {done['verified']} file"
        f"{'s' if done['verified'] != 1 else ''} ({done['bytes']:,} bytes) each checked by its "
        "SHA-256 and read back from the server. Thumbnails are made again as they are shown."
    )
    if encrypted:
        text += " The folder's photos were decrypted on this computer and are " + (
            "encrypted with the clinic library's key." if lib.keys else "kept in plain."
        )
    emit(args, done, text)
    return EXIT_OK


def _create(args: argparse.Namespace) -> int:
    address = _address(args.url)
    # Asked before anything is made: a cancelled prompt leaves the database as it was.
    passphrase = unlock.new_passphrase(first=True) if args.encrypt else None
    recovery = None
    with _server(clinic_library.with_password(args.url), "make a clinic library") as engine:
        revision = roles.create_clinic(engine)
        if passphrase is not None:
            # start-up time: cryptography is loaded for an encrypted library only
            from tracker.core.store import server_keys

            recovery = server_keys.encrypt_new(engine, passphrase)
    # As typed, unless it holds a password (SQLAlchemy's rendering escapes the query).
    safe = args.url if address.password is None else address.render_as_string()
    text = (
        f"Made a clinic library in {_where(address)} (schema {revision}). Give each person "
        f"a login: tracker clinic user add NAME --role ROLE --url {safe}"
    )
    if recovery is not None:
        text += (
            f"\nIts photos are encrypted. Its recovery key, shown only this once: {recovery}\n"
            "Print it or write it down and keep it apart from the server: it opens the "
            "library's photos if the passphrase is forgotten, and nothing else can."
        )
    result = {
        "url": safe,
        "database": address.database,
        "revision": revision,
        "groups": dict(roles.GROUPS),
        "encrypted": recovery is not None,
        **({"recovery_key": recovery} if recovery is not None else {}),
    }
    emit(args, result, text)
    return EXIT_OK


def _change_passphrase(args: argparse.Namespace) -> int:
    """``clinic passphrase change``: refused before anything is asked unless the login may
    write the key; the old passphrase (or recovery key), then the new one twice."""
    # start-up time: cryptography is loaded for an encrypted library only
    from tracker.core.services import clinic_keys

    url = _library_url(args)
    address = _address(url)
    doing = "change the clinic library's passphrase"
    with _server(clinic_library.with_password(url), doing, server.open_server) as engine:
        where = server_errors.where(engine.url)
        clinic_keys.refuse_unless_may_change(engine, where)
        old = secrets.unlocking(getattr(args, "recovery_key", False), clinic_library.shown(url))
        keys = clinic_keys.unlock_again(
            engine,
            where,
            passphrase=old.get("passphrase"),
            recovery_key=old.get("recovery_key"),
            entered=False,
        )
        clinic_keys.change_passphrase(engine, where, keys, unlock.new_passphrase(first=False))
    emit(
        args,
        {"database": address.database, "passphrase_changed": True},
        f"The passphrase of the clinic library in {_where(address)} was changed; its recovery "
        "key stays as it was, and no photo was encrypted again. Tell the staff the new one.",
    )
    return EXIT_OK


def _rights(args: argparse.Namespace) -> int:
    """``clinic rights``: ``roles.grant_rights`` again, as after a migration."""
    url = _library_url(args)
    address = _address(url)
    with _server(
        clinic_library.with_password(url), "grant the staff's rights", server.open_server
    ) as engine:
        done = clinic_rights.regrant(engine, server_errors.where(engine.url))
    tables, granted, revoked = done["tables"], len(done["granted"]), len(done["revoked"])
    emit(
        args,
        {"database": address.database, **done},
        f"The staff groups of {_where(address)} have this version's rights again on its "
        f"{tables} tables: {granted} privilege{'s' if granted != 1 else ''} granted that "
        f"they lacked, {revoked} taken back that this version no longer gives.",
    )
    return EXIT_OK


def cmd_clinic(args: argparse.Namespace, _root: Path) -> int:
    if args.clinic_command == "migrate-from":
        return _migrate_from(args)
    if args.clinic_command == "passphrase":
        return _change_passphrase(args)
    if args.clinic_command == "rights":
        return _rights(args)
    if args.clinic_command == "create":
        return _create(args)
    name = roles.check_user_name(args.name)
    roles.group_of(args.role)  # before the password is asked for
    url = _library_url(args)
    address = _address(url)
    password = _password(name)
    with _server(clinic_library.with_password(url), f"add {name}") as engine:
        roles.add_user(engine, name, args.role, password)
    text = f"Added {name} as {args.role}: they log in to {_where(address)} as {name}."
    result = {
        "user": name,
        "role": args.role,
        "group": roles.GROUPS[args.role],
        "database": address.database,
    }
    emit(args, result, text)
    return EXIT_OK
