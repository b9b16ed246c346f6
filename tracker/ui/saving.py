"""Save dialogs that remember where each kind of file went, and propose a name for it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget

from tracker.core.files import dated_name
from tracker.ui.settings import Preferences


def ask_save_file(
    parent: QWidget | None,
    prefs: Preferences | None,
    kind: str,
    title: str,
    words: Sequence[str],
    filters: Sequence[str],
) -> tuple[Path, str] | None:
    """Where to save a file of ``kind`` (None: cancelled), and the filter chosen. The dialog
    opens in the folder last used for that kind (a report beside the reports, a backup beside
    the backups), else the home folder, offering a name of ``words`` (what, whose, which
    area) and today's date that names no file there; the folder chosen is remembered."""
    start = (prefs.last_folder(kind) if prefs is not None else None) or Path.home()
    suffix = filters[0].rsplit("*", 1)[-1].rstrip(")")  # "PDF (*.pdf)" → ".pdf"
    name, chosen = QFileDialog.getSaveFileName(
        parent, title, str(dated_name(start, words, suffix, dt.date.today())), ";;".join(filters)
    )
    if not name:
        return None
    path = Path(name)
    if prefs is not None:
        prefs.set_last_folder(kind, path.parent)
    return path, chosen
