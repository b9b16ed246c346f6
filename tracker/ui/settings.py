"""Preferences kept between runs (QSettings): window layout, mode, the user's name as a rater,
last library and folder, whether imports align their photos."""

from __future__ import annotations

import enum
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings


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
    def last_import_folder(self) -> Path | None:
        return self._path("last_import_folder")

    @last_import_folder.setter
    def last_import_folder(self, path: Path) -> None:
        self._s.setValue("last_import_folder", str(path))

    @property
    def align_after_import(self) -> bool:
        """Whether an import aligns its new photos automatically (on until the person says no)."""
        value = self._s.value("import/align", True)
        return value if isinstance(value, bool) else str(value).lower() not in ("false", "0")

    @align_after_import.setter
    def align_after_import(self, on: bool) -> None:
        self._s.setValue("import/align", on)

    def geometry(self, key: str) -> QByteArray | None:
        value = self._s.value(f"layout/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def set_geometry(self, key: str, value: QByteArray) -> None:
        self._s.setValue(f"layout/{key}", value)

    def sync(self) -> None:
        self._s.sync()
