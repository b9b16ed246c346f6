"""The grammar of consent and the audit trail (issue 20, docs/CLI.md): ``consent add``,
``consent withdraw``, ``consent list``, ``consent form``, ``audit``, and the ``--purpose`` every export takes.
Kept apart from ``parser`` so that it stays readable; ``parser.build_parser`` adds them with
its own helpers."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tracker.core.domain.consent import DEFAULT_PURPOSE, MAX_FORM_MB, Purpose, parse_purpose

Command = Callable[[Any, str, str, list[argparse.ArgumentParser]], argparse.ArgumentParser]
Typed = Callable[[str], Any]

_CLIENT_HELP = "the client's name (may be left out when the library has only one client)"
PURPOSES = ", ".join(p.value for p in Purpose)
_FORM_HELP = (
    f"the signed form: a PDF, JPEG, PNG or HEIC file (by its contents) of at most {MAX_FORM_MB} "
    "MB, kept with the consent (encrypted in an encrypted library)"
)


def _purpose(value: str) -> Purpose:
    try:
        return parse_purpose(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_purpose(parser: argparse.ArgumentParser) -> None:
    """``--purpose``: what an export is for; refused without a consent that covers it."""
    parser.add_argument(
        "--purpose",
        type=_purpose,
        default=DEFAULT_PURPOSE,
        metavar="PURPOSE",
        help=f"what the export is for: {PURPOSES} (default: {DEFAULT_PURPOSE.value}, the care "
        "record); refused unless the client's consent covers it",
    )


def add_consent_commands(
    sub: Any,
    command: Command,
    c: list[argparse.ArgumentParser],
    parser_class: type,
    date: Typed,
    ident: Callable[[str], Typed],
) -> None:
    consent = command(sub, "consent", "record, withdraw or list a client's consents", c)
    consent_sub: Any = consent.add_subparsers(
        dest="consent_command",
        metavar="add|withdraw|list|form",
        required=True,
        parser_class=parser_class,
        help="what to do",
    )
    add = command(consent_sub, "add", "record what a client agreed to", c)
    add.add_argument("purpose", type=_purpose, metavar="PURPOSE", help=f"one of {PURPOSES}")
    add.add_argument("--client", metavar="NAME", help=_CLIENT_HELP)
    add.add_argument(
        "--de-identified",
        action="store_true",
        help="only uses that do not name the client (default: identifiable uses too)",
    )
    add.add_argument(
        "--photos",
        nargs="+",
        type=ident("a photo id"),
        metavar="PHOTO_ID",
        help="only these photos (default: all the client's photos, now and later)",
    )
    add.add_argument(
        "--date", type=date, metavar="YYYY-MM-DD", help="the day it was given (default: today)"
    )
    add.add_argument(
        "--expires", type=date, metavar="YYYY-MM-DD", help="the last day it holds (default: none)"
    )
    add.add_argument(
        "--by", metavar="NAME", help="who recorded it (default: the computer's user name)"
    )
    add.add_argument("--form", type=Path, metavar="FILE", help=_FORM_HELP)
    withdraw = command(consent_sub, "withdraw", "withdraw a consent: exports stop at once", c)
    withdraw.add_argument(
        "consent", type=ident("a consent id"), metavar="CONSENT_ID", help="'tracker consent list'"
    )
    withdraw.add_argument(
        "--date", type=date, metavar="YYYY-MM-DD", help="the day it was withdrawn (default: today)"
    )
    withdraw.add_argument(
        "--by", metavar="NAME", help="who recorded it (default: the computer's user name)"
    )
    listing = command(consent_sub, "list", "the consents recorded, and whether each holds", c)
    listing.add_argument("--client", metavar="NAME", help="only this client's")
    form = command(consent_sub, "form", "write a consent's signed form out, or attach it", c)
    form.add_argument(
        "consent", type=ident("a consent id"), metavar="CONSENT_ID", help="'tracker consent list'"
    )
    which = form.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="write the form, byte for byte as it was attached, to FILE (a new file: an "
        "existing one is never replaced)",
    )
    which.add_argument(
        "--attach",
        type=Path,
        metavar="FILE",
        help="keep FILE as the consent's signed form (one per consent; the same form may be "
        "put back when its file was lost)",
    )

    trail = command(sub, "audit", "the audit trail: who did what when, its chain checked", c)
    trail.add_argument("--client", metavar="NAME", help="only the entries about this client")
