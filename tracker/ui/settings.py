"""Preferences kept between runs (QSettings): window layout, mode, the user's name as a rater,
last library and folder, whether imports align their photos; and keeping a window on screen."""

from __future__ import annotations

import enum
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, QSize
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QComboBox,
    QSpinBox,
    QTabWidget,
    QWidget,
)

# Room for a window manager's frame and title bar, before the window is shown with them.
FRAME_ROOM = QSize(16, 40)
DEFAULT_LOCK_MINUTES = 5
MAX_LOCK_MINUTES = 60


def fit_on_screen(window: QWidget) -> None:
    """Keep ``window`` inside the available area of its screen, frame included: a geometry
    saved on a larger screen, or a size made for one, would put the status bar (where results
    are said) below the bottom of a 1024×700 one."""
    if window.isMaximized() or window.isFullScreen():
        return
    area = window.screen().availableGeometry()
    frame, inner = window.frameGeometry(), window.geometry()
    room_w = frame.width() - inner.width() or FRAME_ROOM.width()
    room_h = frame.height() - inner.height() or FRAME_ROOM.height()
    width = max(1, min(inner.width(), area.width() - room_w))
    height = max(1, min(inner.height(), area.height() - room_h))
    left = max(area.left(), min(frame.left(), area.left() + area.width() - width - room_w))
    top = max(area.top(), min(frame.top(), area.top() + area.height() - height - room_h))
    window.resize(width, height)
    window.move(left, top)


class Mode(enum.StrEnum):
    PATIENT = "patient"  # one person, no client list
    PRACTITIONER = "practitioner"  # many clients, with search


class Preferences:
    """Typed access to QSettings; pass a QSettings for tests (e.g. an INI file in a tmp dir)."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._s = settings or QSettings()

    def _path(self, key: str) -> Path | None:
        value = self._s.value(key, "")
        return Path(str(value)) if value else None

    @property
    def mode(self) -> Mode:
        value = str(self._s.value("mode", Mode.PATIENT.value))
        return Mode(value) if value in Mode._value2member_map_ else Mode.PATIENT

    @mode.setter
    def mode(self, mode: Mode) -> None:
        self._s.setValue("mode", mode.value)

    @property
    def rater_name(self) -> str:
        """The user's name, recorded with the ratings they make in practitioner mode (in
        patient mode the user is the client, whose name stands for the patient)."""
        return str(self._s.value("rater_name", "")).strip()

    @rater_name.setter
    def rater_name(self, name: str) -> None:
        self._s.setValue("rater_name", name.strip())

    @property
    def last_library(self) -> Path | None:
        return self._path("last_library")

    @last_library.setter
    def last_library(self, path: Path) -> None:
        self._s.setValue("last_library", str(path))

    @property
    def last_clinic(self) -> str:
        """The clinic library's address last connected to, without a password."""
        return str(self._s.value("last_clinic", "") or "")

    @last_clinic.setter
    def last_clinic(self, address: str) -> None:
        self._s.setValue("last_clinic", address)

    @property
    def last_import_folder(self) -> Path | None:
        return self._path("last_import_folder")

    @last_import_folder.setter
    def last_import_folder(self, path: Path) -> None:
        self._s.setValue("last_import_folder", str(path))

    def last_folder(self, kind: str) -> Path | None:
        """The folder a file of ``kind`` ("report", "csv", "compare", "backup", "restore") was
        last saved to or chosen in, if it is still there."""
        folder = self._path(f"folders/{kind}")
        return folder if folder is not None and folder.is_dir() else None

    def set_last_folder(self, kind: str, folder: Path) -> None:
        self._s.setValue(f"folders/{kind}", str(folder))

    @property
    def align_after_import(self) -> bool:
        """Whether an import aligns its new photos automatically (on until the person says no)."""
        value = self._s.value("import/align", True)
        return value if isinstance(value, bool) else str(value).lower() not in ("false", "0")

    @align_after_import.setter
    def align_after_import(self, on: bool) -> None:
        self._s.setValue("import/align", on)

    @property
    def lock_minutes(self) -> int:
        """Minutes without input after which the window locks (1–60; 0: never; default 5)."""
        value = str(self._s.value("lock/minutes", DEFAULT_LOCK_MINUTES))
        return min(int(value), MAX_LOCK_MINUTES) if value.isdigit() else DEFAULT_LOCK_MINUTES

    @lock_minutes.setter
    def lock_minutes(self, minutes: int) -> None:
        self._s.setValue("lock/minutes", max(0, min(minutes, MAX_LOCK_MINUTES)))

    @property
    def lock_plain(self) -> bool:
        """Whether a plain (not encrypted) library locks when idle too (off by default: for
        one, locking only covers the screen)."""
        value = self._s.value("lock/plain", False)
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1")

    @lock_plain.setter
    def lock_plain(self, on: bool) -> None:
        self._s.setValue("lock/plain", on)

    @property
    def lock_interval_ms(self) -> int:
        """An idle time in milliseconds that overrides the minutes (for tests); 0: none."""
        value = str(self._s.value("lock/interval_ms", 0))
        return int(value) if value.isdigit() else 0

    def geometry(self, key: str) -> QByteArray | None:
        value = self._s.value(f"layout/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, key: str, value: QByteArray) -> None:
        self._s.setValue(f"layout/{key}", value)

    def choice(self, key: str) -> str | None:
        """A view choice kept under ``key`` ("progress/axis"), as text; None if never made."""
        value = self._s.value(f"view/{key}")
        return None if value is None else str(value)

    def set_choice(self, key: str, value: object) -> None:
        self._s.setValue(f"view/{key}", str(value))

    def remember(self, key: str, widget: QWidget) -> None:
        """Show in ``widget`` the choice last made in it (kept under ``key``), and keep each
        new one: a check box's tick, a list's entry (by its data, or its text), a tab, a
        slider's or a number box's value. A kept choice the widget no longer offers is left."""
        kept = self.choice(key)
        if isinstance(widget, QAbstractButton) and widget.isCheckable():
            if kept is not None:
                widget.setChecked(kept == "True")
            widget.toggled.connect(lambda on: self.set_choice(key, on))
        elif isinstance(widget, QComboBox):
            names = [_item_key(widget, i) for i in range(widget.count())]
            if kept in names:
                widget.setCurrentIndex(names.index(kept))
            widget.currentIndexChanged.connect(
                lambda i: self.set_choice(key, _item_key(widget, i)) if i >= 0 else None
            )
        elif isinstance(widget, QTabWidget):
            if kept is not None and kept.isdigit() and int(kept) < widget.count():
                widget.setCurrentIndex(int(kept))
            widget.currentChanged.connect(lambda i: self.set_choice(key, i))
        elif isinstance(widget, QAbstractSlider | QSpinBox):
            if kept is not None and kept.lstrip("-").isdigit():
                widget.setValue(int(kept))
            widget.valueChanged.connect(lambda v: self.set_choice(key, v))
        else:
            raise TypeError(f"no way to remember a choice made in a {type(widget).__name__}")

    def sync(self) -> None:
        self._s.sync()


def _item_key(combo: QComboBox, index: int) -> str:
    data = combo.itemData(index)
    return str(data) if data is not None else combo.itemText(index)
