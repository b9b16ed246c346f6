"""The grammar of a clinic library in a PostgreSQL server (issue 21, docs/CLI.md "Clinic"):
``clinic create URL``, ``clinic user add NAME --role ROLE [--url URL]``, ``clinic
migrate-from FOLDER [--url URL]``, ``clinic passphrase change [--url URL]`` and ``clinic rights
[--url URL]``. Kept apart from
``parser`` as the consent commands are; ``parser.build_parser`` adds them with its helpers."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

Command = Callable[[Any, str, str, list[argparse.ArgumentParser]], argparse.ArgumentParser]

# ``db.roles.GROUPS``' keys, written here so that parsing a command does not load SQLAlchemy
# (start-up time); a test holds the two equal.
STAFF_ROLES = ("admin", "practitioner", "assistant", "front-desk")
_URL_HELP = "postgresql://LOGIN@HOST[:PORT]/DATABASE (libpq's ?host=/socket/folder works too)"


def add_clinic_commands(
    sub: Any, command: Command, c: list[argparse.ArgumentParser], parser_class: type
) -> None:
    clinic = command(sub, "clinic", "a clinic library in a PostgreSQL server, and its staff", c)
    clinic_sub: Any = clinic.add_subparsers(
        dest="clinic_command",
        metavar="create|user|migrate-from|passphrase|rights",
        required=True,
        parser_class=parser_class,
        help="what to do",
    )
    create = command(
        clinic_sub,
        "create",
        "make a clinic library in an empty database: its tables, and the staff groups' rights",
        c,
    )
    create.add_argument("url", metavar="URL", help=_URL_HELP)
    create.add_argument(
        "--encrypt",
        action="store_true",
        help="encrypt its photos on the workstations with a passphrase (the server holds none "
        "of them in plain); its recovery key is shown once",
    )
    user = command(clinic_sub, "user", "the staff's logins", c)
    user_sub: Any = user.add_subparsers(
        dest="user_command",
        metavar="add",
        required=True,
        parser_class=parser_class,
        help="what to do",
    )
    add = command(
        user_sub,
        "add",
        "give a person a login of their own in a staff role (its password asked twice, or "
        "read from $TRACKER_CLINIC_PASSWORD)",
        c,
    )
    add.add_argument(
        "name", metavar="NAME", help="the login: a letter, then letters, digits, _ . -"
    )
    add.add_argument(
        "--role",
        required=True,
        choices=STAFF_ROLES,
        help="what they may do: admin (everything, and add staff), practitioner (all the "
        "records, erasing and exports), assistant (import and record; no erasing or exports), "
        "front-desk (names and visit dates only)",
    )
    add.add_argument(
        "--url",
        metavar="URL",
        help="the clinic library, logged in as an admin or the server's superuser (default: "
        "$TRACKER_LIBRARY when it is a postgresql:// address)",
    )
    moving = command(
        clinic_sub,
        "migrate-from",
        "move a library folder into an empty clinic library, in one transaction: every "
        "record with its id, every original checked by its SHA-256 (the folder is only read)",
        c,
    )
    moving.add_argument(
        "folder",
        type=Path,
        metavar="FOLDER",
        help="the library folder, closed (an encrypted one is unlocked with its passphrase, "
        "asked for or read from $TRACKER_FOLDER_PASSPHRASE)",
    )
    moving.add_argument(
        "--folder-recovery-key",
        action="store_true",
        help="unlock the encrypted folder with its recovery key instead (asked for, or read "
        "from $TRACKER_FOLDER_RECOVERY_KEY)",
    )
    moving.add_argument(
        "--allow-unencrypted",
        action="store_true",
        help="move an encrypted folder into a clinic library that is not encrypted, its "
        "photos then kept on the server in plain (refused without)",
    )
    moving.add_argument(
        "--url",
        metavar="URL",
        help="the empty clinic library, logged in as its owner (who ran 'clinic create') or "
        "the server's superuser (default: $TRACKER_LIBRARY when it is a postgresql:// address)",
    )
    secret = command(clinic_sub, "passphrase", "an encrypted clinic library's passphrase", c)
    secret_sub: Any = secret.add_subparsers(
        dest="passphrase_command",
        metavar="change",
        required=True,
        parser_class=parser_class,
        help="what to do",
    )
    change = command(
        secret_sub,
        "change",
        "lock the clinic library with a new passphrase: the old one (or, with --recovery-key, "
        "the recovery key) asked first, the new one twice (or $TRACKER_NEW_PASSPHRASE); its "
        "key is wrapped again, no photo is encrypted again",
        c,
    )
    change.add_argument(
        "--url",
        metavar="URL",
        help="the clinic library, logged in as its owner (who ran 'clinic create') or the "
        "server's superuser (default: $TRACKER_LIBRARY when it is a postgresql:// address)",
    )
    rights = command(
        clinic_sub,
        "rights",
        "grant the staff groups again the rights this version gives them on every table "
        "(a library made by an older version keeps its old grants until then)",
        c,
    )
    rights.add_argument(
        "--url",
        metavar="URL",
        help="the clinic library, logged in as its owner (who ran 'clinic create') or the "
        "server's superuser (default: $TRACKER_LIBRARY when it is a postgresql:// address)",
    )
