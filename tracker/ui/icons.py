"""Icons from the top-level ``resources/icons`` folder (SVG, loaded by path)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

ICONS = Path(__file__).resolve().parent.parent.parent / "resources" / "icons"


@cache
def icon(name: str) -> QIcon:
    """The named icon, or an empty icon when the file is missing (the button keeps its text)."""
    path = ICONS / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
