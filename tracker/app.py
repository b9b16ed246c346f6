"""Assembling the GUI: the one place that opens the library and builds the main window."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tracker import APP_NAME
from tracker.core.errors import TrackerError
from tracker.core.library import Library

if TYPE_CHECKING:
    from tracker.ui.main_window import LibrarySummary

log = logging.getLogger(__name__)

ICON = Path(__file__).resolve().parent.parent / "resources" / "icons" / "app.svg"


def summarise(lib: Library) -> LibrarySummary:
    from tracker.ui.main_window import LibrarySummary

    return LibrarySummary(root=lib.root, **lib.counts())


def run_gui(library: Path) -> int:
    """Open ``library`` (creating it if needed) in a window; returns the exit status."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication, QMessageBox

    from tracker.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("StriaTracker")
    if ICON.exists():
        app.setWindowIcon(QIcon(str(ICON)))
    try:
        with Library.open(library, create=True) as lib:
            summary = summarise(lib)
    except TrackerError as exc:
        QMessageBox.critical(None, APP_NAME, str(exc))
        return 2
    window = MainWindow(summary)
    window.show()
    return app.exec()
