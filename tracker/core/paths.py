"""Where the default library lives, and how the user overrides it."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_DIR_NAME = "StriaTracker"
ENV_LIBRARY = "TRACKER_LIBRARY"
# How a library given by its location (``--library``, ``TRACKER_LIBRARY``, the window's connect
# dialog) is told to be a clinic library's address rather than a folder: what it begins with.
SCHEMES = ("postgresql://", "postgresql+psycopg://")
# The sentence for an address whose port is not a number (SQLAlchemy's ``make_url`` raises a
# bare ValueError): the command line's and the connect dialog's.
NOT_A_PORT = (
    "The address's port is not a number; give it as postgresql://LOGIN@HOST:PORT/DATABASE, "
    "or leave the port out."
)


def default_library() -> Path:
    """``TRACKER_LIBRARY`` if set, else a "Library" folder in the per-user data folder."""
    env = os.environ.get(ENV_LIBRARY, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False)) / "Library"


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False))


def workstation_cache() -> Path:
    """This user's cache folder on this computer (an encrypted clinic library's thumbnails:
    ``store.local_thumbs``)."""
    return Path(platformdirs.user_cache_dir(APP_DIR_NAME, appauthor=False))
