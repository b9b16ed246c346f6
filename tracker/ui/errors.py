"""Errors at the GUI's edge: core errors as dialogs with their sentence, the unexpected logged.

An excepthook catches what escapes a slot: it is written with its traceback to a rotating log
file in the user's log folder and shown as a dialog, instead of Qt aborting or the error vanishing.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QMessageBox, QWidget

from tracker import APP_NAME
from tracker.core.errors import TrackerError

log = logging.getLogger(__name__)


def setup_logging(folder: Path) -> Path | None:
    """Log to ``folder``/tracker.log, rotating at 1 MB. Returns the file, or None if not writable."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "tracker.log"
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return path


def show_error(parent: QWidget | None, message: str, title: str = APP_NAME) -> None:
    QMessageBox.warning(parent, title, message)


def install_excepthook(
    parent: Callable[[], QWidget | None],
    log_file: Path | None,
    show: Callable[[QWidget | None, str], None] = show_error,
) -> None:
    """Route uncaught exceptions to the log and a dialog. ``parent`` gives the window to use."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        if isinstance(exc, TrackerError):
            show(parent(), str(exc))
            return
        log.error("Unexpected error:\n%s", "".join(traceback.format_exception(kind, exc, tb)))
        where = f" The details are in {log_file}." if log_file else ""
        show(
            parent(),
            f"Something unexpected went wrong ({kind.__name__}: {exc}). What was saved before it is kept.{where}",
        )

    sys.excepthook = hook
