"""The command line: every core operation without a screen, for scripting, batch work and
tests (its contract is ``docs/CLI.md``).

Exit status: 0 success; 1 the command ran but found problems (a file rejected, damage found),
or an unexpected error stopped it (its traceback is in the log file the message names);
2 bad usage or bad input, with a one-line reason on standard error. A reader that stops
early (``tracker list photos | head -1``) is no error: the rest of the output is dropped.

Only the module of the command that runs is loaded: the commands that read and change
records (``commands``) do not pay for those that look after the library (``care``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.engine import make_url

from tracker.cli import clinic_library
from tracker.cli.output import discard_stdout, say
from tracker.cli.parser import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, parse
from tracker.core.errors import TrackerError, UsageError
from tracker.core.files import private_umask
from tracker.core.paths import default_library, log_dir
from tracker.core.text import display_path

log = logging.getLogger(__name__)

LOG_FILE = "tracker.log"  # the window's (tracker.ui.errors.setup_logging): one log per user
_CARE = frozenset({"check", "export", "backup", "restore", "repair"})

Command = Callable[[argparse.Namespace, Path], int]


def _command(name: str) -> Command:
    """The function that runs the command ``name``, its module loaded now."""
    if name == "align":
        # start-up time: OpenCV and numpy are loaded for this command only
        from tracker.cli import align

        return align.cmd_align
    if name in ("measure", "region", "area"):
        # start-up time: loaded for the measuring commands only (OpenCV loads as they measure)
        from tracker.cli import measure

        return {"measure": measure.cmd_measure, "region": measure.cmd_region}.get(
            name, measure.cmd_area
        )
    if name in ("passphrase", "encrypt"):
        # start-up time: loaded for these commands only
        from tracker.cli import unlock

        return unlock.cmd_passphrase if name == "passphrase" else unlock.cmd_encrypt
    if name in ("consent", "audit"):
        # start-up time: loaded for consent and the audit trail only
        from tracker.cli import consent

        return consent.cmd_audit if name == "audit" else consent.cmd_consent
    if name == "clinic":
        # start-up time: loaded for the clinic commands only (SQLAlchemy loads psycopg then)
        from tracker.cli import clinic

        return clinic.cmd_clinic
    if name == "card":
        # start-up time: Qt is loaded for this command only
        from tracker.cli import card

        return card.cmd_card
    if name in _CARE:
        # start-up time: loaded only for its own commands (backups, checks, exports)
        from tracker.cli import care

        found: dict[str, Command] = {
            "check": care.cmd_check,
            "export": care.cmd_export,
            "backup": care.cmd_backup,
            "restore": care.cmd_restore,
            "repair": care.cmd_repair,
        }
    else:
        # start-up time: loaded only for its own commands, not for those of care
        from tracker.cli import commands

        found = {
            "init": commands.cmd_init,
            "demo": commands.cmd_demo,
            "import": commands.cmd_import,
            "list": commands.cmd_list,
            "visit": commands.cmd_visit,
            "rate": commands.cmd_rate,
            "move": commands.cmd_move,
            "erase": commands.cmd_erase,
        }
    return found[name]


def _log_unexpected(command: str, exc: BaseException) -> Path | None:
    """Write ``exc`` with its traceback to the log file the window uses (rotating at 1 MB,
    three kept); the file, or None when the log folder cannot be written. Only the command's
    name and the traceback are written: never its arguments (names of people, photos)."""
    # start-up time: logging.handlers is needed only when something unexpected happened
    import logging.handlers

    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / LOG_FILE
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    try:
        # Straight to the file: the traceback does not belong on standard error.
        handler.handle(
            log.makeRecord(
                log.name,
                logging.ERROR,
                __file__,
                0,
                "Unexpected error in 'tracker %s'",
                (command,),
                (type(exc), exc, exc.__traceback__),
            )
        )
    finally:
        handler.close()
    return path if path.exists() else None


def _location(args: argparse.Namespace) -> Path:
    """The library folder; for a library in a database (``clinic_library``), its address is
    put in ``args.server_url`` and the path returned only names it."""
    url = clinic_library.address(args.library)
    if url is None:
        return Path(args.library).expanduser() if args.library is not None else default_library()
    clinic_library.refuse_unless_served(args.command, url)
    args.server_url = url
    return Path(clinic_library.shown(url))


def _window(given: str | None) -> int:
    """No command: the window, on the library folder or the clinic library's address that
    ``--library`` or ``TRACKER_LIBRARY`` names. An address that is not one is said, and
    exits 2, before any window shows; its password (or ``TRACKER_CLINIC_PASSWORD``) goes to
    the window's Connect dialog, which connects with it at once."""
    # start-up time: Qt is loaded for the window only: the commands start without it
    from tracker.app import run_gui

    # start-up time: as above (the Connect dialog's own check of an address)
    from tracker.ui.main import connect

    try:
        url = clinic_library.address(given)
        if url is not None:
            connect.parse(url, "")  # a database named, as the dialog asks
    except UsageError as exc:
        say(f"tracker: {exc}")
        return EXIT_USAGE
    if url is None:
        return run_gui(None if given is None else Path(given))
    password = make_url(clinic_library.with_password(url)).password
    return run_gui(url, None if password is None else str(password))


def main(argv: Sequence[str] | None = None) -> int:
    private_umask()
    args = parse(argv)
    if args.command is None:
        return _window(args.library)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.captureWarnings(True)
    warnings.filterwarnings("ignore", module="PIL")
    try:
        root = _location(args)
        return _command(args.command)(args, root)
    except TrackerError as exc:
        say(f"tracker: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tracker: interrupted.", file=sys.stderr)
        return 130
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            # Standard output closed by its reader (``| head``): ``output.emit`` handles that
            # where the commands print; this is for anything else that wrote to it.
            discard_stdout()
            return EXIT_OK
        # The system refused a path or a file the person gave (too long a name, a loop of
        # links, a folder where a file should be): a sentence and exit 2, as for bad input.
        path = f"{display_path(str(exc.filename))}: " if exc.filename else ""
        say(f"tracker: {path}{exc.strerror or type(exc).__name__}.")
        return EXIT_USAGE
    except Exception as exc:
        where = _log_unexpected(args.command, exc)
        details = f"; the details are in {where}" if where is not None else ""
        say(
            f"tracker: an unexpected error stopped the command ({type(exc).__name__}: {exc}). "
            f"The library was left consistent. Please report it{details}."
        )
        return EXIT_PROBLEMS
