"""The command line: every core operation without a screen, for scripting, batch work and
tests (its contract is ``docs/CLI.md``).

Exit status: 0 success; 1 the command ran but found problems (a file rejected, damage found);
2 bad usage or bad input, with a one-line reason on standard error.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from tracker.cli import care, commands
from tracker.cli.parser import EXIT_PROBLEMS, EXIT_USAGE, parse
from tracker.core.errors import TrackerError
from tracker.core.paths import default_library

log = logging.getLogger(__name__)

COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "init": commands.cmd_init,
    "demo": commands.cmd_demo,
    "import": commands.cmd_import,
    "list": commands.cmd_list,
    "visit": commands.cmd_visit,
    "rate": commands.cmd_rate,
    "check": care.cmd_check,
    "export": care.cmd_export,
    "backup": care.cmd_backup,
    "restore": care.cmd_restore,
    "repair": care.cmd_repair,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.command is None:
        # Loaded only for the window: the commands start without Qt.
        from tracker.app import run_gui

        return run_gui(args.library)
    root = args.library if args.library is not None else default_library()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.captureWarnings(True)
    warnings.filterwarnings("ignore", module="PIL")
    try:
        return COMMANDS[args.command](args, root)
    except TrackerError as exc:
        print(f"tracker: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tracker: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        log.debug("Unexpected error", exc_info=True)
        print(
            f"tracker: an unexpected error stopped the command ({type(exc).__name__}: {exc}). "
            "Please report it; the library was left consistent.",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
