"""``tracker clinic create URL``, ``tracker clinic user add NAME --role ROLE [--url URL]`` and
``tracker clinic migrate-from FOLDER [--url URL]`` (issue 21): a clinic library in a PostgreSQL
server, a login of their own for each person, and a library folder moved in
(``core.care.clinic_migrate``). The rights are the server's (``core.db.roles``); this only
reads what was typed.

A new login's password is typed twice at the terminal without echo, or, for scripts, read from
``TRACKER_CLINIC_PASSWORD`` (its risk as ``TRACKER_PASSPHRASE``'s: other programs of the same
user, a crash report or a shell history that records the environment, can read it). It is
never printed, logged or put in a statement: the server gets its SCRAM verifier only.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from tracker.cli import clinic_library
from tracker.cli.output import emit
from tracker.cli.parser import EXIT_OK
from tracker.core.care import clinic_migrate
from tracker.core.db import roles, server, server_errors
from tracker.core.errors import LibraryError, UsageError
from tracker.core.paths import ENV_LIBRARY
from tracker.core.store.server_library import ServerLibrary

ENV_PASSWORD = "TRACKER_CLINIC_PASSWORD"
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
def _server(url: str, doing: str) -> Iterator[Engine]:
    """An engine for ``url``; what the server refuses becomes one sentence (exit 2)."""
    address = _address(url)
    engine = server.make_pg_engine(url)
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
    """The new login's password: ``ENV_PASSWORD``, or typed twice without echo."""
    given = os.environ.get(ENV_PASSWORD)
    if given:
        return given
    if not sys.stdin.isatty():
        raise UsageError(
            f"{name}'s password is needed and there is no terminal to type it in; run the "
            f"command in a terminal, or set {ENV_PASSWORD} (see docs/CLI.md for its risk)."
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
    lib = ServerLibrary.open_server(clinic_library.with_password(url))
    try:
        done = clinic_migrate.migrate_from(args.folder, lib)
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
    emit(args, done, text)
    return EXIT_OK


def cmd_clinic(args: argparse.Namespace, _root: Path) -> int:
    if args.clinic_command == "migrate-from":
        return _migrate_from(args)
    if args.clinic_command == "create":
        address = _address(args.url)
        with _server(args.url, "make a clinic library") as engine:
            revision = roles.create_clinic(engine)
        # As typed, unless it holds a password (SQLAlchemy's rendering escapes the query).
        safe = args.url if address.password is None else address.render_as_string()
        text = (
            f"Made a clinic library in {_where(address)} (schema {revision}). Give each person "
            f"a login: tracker clinic user add NAME --role ROLE --url {safe}"
        )
        result = {
            "url": safe,
            "database": address.database,
            "revision": revision,
            "groups": dict(roles.GROUPS),
        }
        emit(args, result, text)
        return EXIT_OK
    name = roles.check_user_name(args.name)
    roles.group_of(args.role)  # before the password is asked for
    url = _library_url(args)
    address = _address(url)
    password = _password(name)
    with _server(url, f"add {name}") as engine:
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
