"""A new library folder made ready: the folder (refusing one that holds other things) and its
empty database file, readable by its owner only."""

from __future__ import annotations

import os
from pathlib import Path

from tracker.core.crypto.layout import KEY_FILE
from tracker.core.db.engine import DB_NAME
from tracker.core.errors import FolderReadOnly, LibraryError
from tracker.core.store.lock import LOCK_NAME
from tracker.core.store.photos import DIR_MODE
from tracker.core.store.unlock_log import FILES as UNLOCK_FILES

# What a library folder may hold: anything else in a folder chosen for a new one is another's.
LIBRARY_ENTRIES = {DB_NAME, f"{DB_NAME}-wal", f"{DB_NAME}-shm", LOCK_NAME, KEY_FILE, *UNLOCK_FILES}
LIBRARY_ENTRIES |= {"originals", "cache", "backups", "tmp", "quarantine"}


def create_private_file(path: Path) -> None:
    """Create the empty database file readable by its owner only; SQLite gives its journal
    files the same permissions."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except PermissionError as exc:
        raise FolderReadOnly(
            f"The library database {path} cannot be created ({exc.strerror})."
        ) from exc
    except OSError as exc:
        raise LibraryError(
            f"The library database {path} cannot be created ({exc.strerror})."
        ) from exc


def prepare_new_folder(root: Path) -> None:
    """Create the folder for a new library, refusing a folder that already holds other things."""
    if root.exists():
        if not root.is_dir():
            raise LibraryError(f"{root} is a file, not a folder; choose a folder for the library.")
        strangers = [p.name for p in root.iterdir() if p.name not in LIBRARY_ENTRIES]
        if strangers:
            raise LibraryError(
                f"{root} already holds other files (such as {strangers[0]}) and no library; "
                "choose an empty or new folder."
            )
    try:
        root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(root, DIR_MODE)
    except PermissionError as exc:
        raise FolderReadOnly(
            f"The library folder {root} cannot be created ({exc.strerror})."
        ) from exc
    except OSError as exc:
        raise LibraryError(
            f"The library folder {root} cannot be created ({exc.strerror})."
        ) from exc
