"""Icons and other files from the top-level ``resources/`` folder.

A checkout reads the folder itself; an install has it as the ``tracker.resources`` package
(see pyproject.toml), and an editable install maps that package onto the folder.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon


@cache
def resources() -> Path:
    """The resources folder: the installed package's, else the checkout's."""
    try:
        spec = importlib.util.find_spec("tracker.resources")
    except ModuleNotFoundError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / "icons").is_dir():
                return Path(location)
    return Path(__file__).resolve().parent.parent.parent / "resources"


@cache
def icon(name: str) -> QIcon:
    """The named icon, or an empty icon when the file is missing (the button keeps its text)."""
    path = resources() / "icons" / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
