"""Making, unlocking and re-locking an encrypted library (its keys are ``core.crypto.keys``).

A library is encrypted when its folder holds a key file: then ``Library.open`` needs the keys
``unlock`` gives, its database is SQLCipher and every file of its store is AES-GCM
(``core.crypto.cipher``). The key file is written before the database, so a creation cut
short leaves a folder that ``create`` takes again (an empty database, no photos).
"""

from __future__ import annotations

from pathlib import Path

from tracker.core.crypto import keys as crypto_keys
from tracker.core.crypto import layout
from tracker.core.crypto.keys import DEFAULT_KDF, KdfParams, Keys
from tracker.core.db.engine import DB_NAME
from tracker.core.errors import LibraryError, UsageError, WrongPassphrase
from tracker.core.store import unlock_log
from tracker.core.store.library import Library, _library_signs
from tracker.core.store.new_folder import prepare_new_folder


def create(root: Path, passphrase: str, kdf: KdfParams = DEFAULT_KDF) -> tuple[Library, str]:
    """A new encrypted library at ``root``, open, and its recovery key (to show once)."""
    root = Path(root).expanduser()
    db_path = root / DB_NAME
    if db_path.exists() and db_path.stat().st_size > 0:
        raise UsageError(
            f"There is a library at {root} already; an existing library is not encrypted by "
            "'init', choose a new folder."
        )
    held = _library_signs(root) if root.is_dir() else None
    if held is not None:
        raise LibraryError(f"{root} holds {held} of a library; choose a new folder.")
    crypto_keys.check_passphrase(passphrase)
    prepare_new_folder(root)
    created = crypto_keys.create(root, passphrase, kdf)
    return Library.open(root, create=True, keys=created.keys), created.recovery_key


def is_encrypted(root: Path) -> bool:
    return layout.is_encrypted(Path(root).expanduser())


def unlock(root: Path, *, passphrase: str | None = None, recovery_key: str | None = None) -> Keys:
    """The keys of the encrypted library at ``root``, from its passphrase or its recovery
    key; WrongPassphrase (one sentence) when it is not the right one. Either outcome is
    noted in the folder (``unlock_log``) for the library's audit trail."""
    root = Path(root).expanduser()
    if recovery_key is None and passphrase is None:
        raise UsageError("Give the library's passphrase or its recovery key.")
    try:
        if recovery_key is not None:
            keys = crypto_keys.unlock_with_recovery(root, recovery_key)
        else:
            assert passphrase is not None
            keys = crypto_keys.unlock(root, passphrase)
    except WrongPassphrase:
        unlock_log.note(root, unlock_log.FAILED)
        raise
    unlock_log.note(root, unlock_log.UNLOCKED)
    return keys


def change_passphrase(lib: Library, new: str, kdf: KdfParams = DEFAULT_KDF) -> None:
    """Lock the open library with a new passphrase: the master key is wrapped again, and
    nothing else changes (its recovery key, its files and its database stay as they are)."""
    if lib.keys is None:
        raise UsageError(f"The library in {lib.root} is not encrypted; it has no passphrase.")
    lib.require_writable()
    crypto_keys.change_passphrase(lib.root, lib.keys, new, kdf)
