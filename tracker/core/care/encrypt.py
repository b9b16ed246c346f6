"""Converting a plain library into an encrypted one, in place (``tracker encrypt``).

Crash safe, killed at any moment: the library opens afterwards either plain with all its
data or encrypted with all its data, never half. The encrypted library is built beside the
plain one, in ``tmp/encrypting/`` (``store.encrypting``): a new key file; the database
exported into SQLCipher (``sqlcipher_export``); every original, thumbnail and preview
encrypted with a key of its own (``crypto.cipher``); every database snapshot in
``backups/`` exported as the database is. All of it is fsynced and the staged database
checked, then the staged key file is renamed to ``library.key``: the commit. The staged
folders and files are then moved in place by renames and the plain ones deleted; a crash
before the commit leaves the plain library and a staging folder the next open discards, a
crash after it a library the next open finishes (``Library.open`` calls
``store.encrypting.finish_encrypting`` first).

The writer lock is held throughout (the library is first opened, which finishes any work a
crash interrupted and writes the database's log into it, then closed and its lock taken
again at once). Deleted plain files may stay readable on the disk until overwritten (a
flash disk's cells cannot be erased by a program): encrypt a library before its photos
come in when that matters.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tracker.core.crypto import keys as crypto_keys
from tracker.core.crypto.cipher import FileCipher
from tracker.core.crypto.keys import DEFAULT_KDF, KdfParams
from tracker.core.crypto.layout import KEY_FILE, is_encrypted
from tracker.core.db import keyed
from tracker.core.db.engine import DB_NAME
from tracker.core.errors import DiskFull, LibraryError, StorageError, UsageError
from tracker.core.services import audit
from tracker.core.store.encrypting import discard, roll_forward, staging
from tracker.core.store.library import Library
from tracker.core.store.lock import WriterLock
from tracker.core.store.photos import DIR_MODE, fsync_dir

Progress = Callable[[int, int], None]
_MARGIN = 32 * 1024 * 1024  # free space kept beyond what the copy needs


@dataclass(frozen=True)
class _File:
    source: Path
    rel: str  # its place under the staging folder (and, after, in the library)
    identity: str | None  # a photo store file's identity; None for a database


def encrypt_library(
    root: Path,
    passphrase: str,
    progress: Progress | None = None,
    kdf: KdfParams = DEFAULT_KDF,
) -> str:
    """Encrypt the plain library at ``root`` in place with ``passphrase``; returns its
    recovery key (to show once). ``progress(done, total)`` is called after each file.
    Refused with one sentence, the library left as it was: already encrypted, read-only,
    open elsewhere, its quarantine not empty, or too little free space."""
    root = Path(root).expanduser()
    if is_encrypted(root):
        raise UsageError(f"The library in {root} is encrypted already; nothing was changed.")
    crypto_keys.check_passphrase(passphrase)
    with Library.open(root) as lib:  # LibraryLocked, FolderReadOnly, NoLibrary, damaged
        lib.require_writable()
    lock = WriterLock(root)
    lock.acquire()
    try:
        files = _plan(root)
        _check_space(root, files)
        created = _convert(root, passphrase, files, progress, kdf)
    finally:
        lock.release()
    # The audit trail's anchor was written unsealed by the plain library: seal it under the
    # new master key now, or the first check would report it as not this library's.
    with Library.open(root, keys=created.keys) as lib:
        audit.anchor(lib)
    return created.recovery_key


def _plan(root: Path) -> list[_File]:
    quarantined = [p for p in (root / "quarantine").rglob("*") if not p.is_dir()]
    if quarantined:
        raise UsageError(
            f"The library's quarantine/ holds {len(quarantined)} file(s) kept aside by repairs, "
            "which would stay unencrypted; look at them, move them out of the library, and "
            "encrypt it then. Nothing was changed."
        )
    files = [_File(root / DB_NAME, DB_NAME, None)]
    for path in sorted((root / "originals").rglob("*")):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise UsageError(
                f"{path} is not a regular file; run 'tracker check' and mend the library "
                "before encrypting it. Nothing was changed."
            )
        if path.is_file():
            rel = path.relative_to(root).as_posix()
            files.append(_File(path, rel, f"original:{path.name}"))
    for kind in ("thumbs", "previews"):
        for path in sorted((root / "cache" / kind).glob("*/*.jpg")):
            if path.is_file() and not path.is_symlink():  # anything else is made again
                rel = path.relative_to(root).as_posix()
                files.append(_File(path, rel, f"{kind}:{path.stem}"))
    for path in sorted((root / "backups").glob("*.sqlite3")):
        if path.is_file() and not path.is_symlink():
            files.append(_File(path, f"backups/{path.name}", None))
    return files


def _check_space(root: Path, files: list[_File]) -> None:
    need = sum(f.source.stat().st_size for f in files) + _MARGIN
    free = shutil.disk_usage(root).free
    if need > free:
        raise DiskFull(
            f"There is not enough free space to encrypt the library in {root}: it needs about "
            f"{need // 2**20 + 1} MB and {free // 2**20} MB are free; nothing was changed."
        )


def _convert(
    root: Path, passphrase: str, files: list[_File], progress: Progress | None, kdf: KdfParams
) -> crypto_keys.Created:
    stage = staging(root)
    discard(root)  # one left by an earlier attempt (the open above discarded it already)
    try:
        stage.mkdir(mode=DIR_MODE, parents=True)
        created = crypto_keys.create(stage, passphrase, kdf)
        cipher = FileCipher(created.keys)
        key = created.keys.database_key()
        for done, item in enumerate(files, 1):
            dest = stage / item.rel
            dest.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
            if item.identity is None:
                _export(item.source, dest, key)
            else:
                _encrypt_file(cipher, item, dest)
            if progress is not None:
                progress(done, len(files))
        for dirpath, _dirs, _names in os.walk(stage):
            os.chmod(dirpath, DIR_MODE)  # mkdir's parents=True made some with the umask's
            fsync_dir(Path(dirpath))
        _verify(stage / DB_NAME, key)
    except BaseException as exc:
        discard(root)
        if isinstance(exc, OSError):
            raise _write_error(root, exc) from exc
        raise
    # The commit: from this rename on the library is encrypted.
    os.replace(stage / KEY_FILE, root / KEY_FILE)
    fsync_dir(root)
    try:
        roll_forward(root)
    except OSError as exc:
        raise StorageError(
            f"The library in {root} is encrypted, but moving its files in place failed "
            f"({exc.strerror}); opening it again finishes that."
        ) from exc
    return created


def _encrypt_file(cipher: FileCipher, item: _File, dest: Path) -> None:
    data = item.source.read_bytes()
    fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        for piece in cipher.encrypt(data, item.identity or ""):
            os.write(fd, piece)
        os.fsync(fd)
    finally:
        os.close(fd)


def _export(source: Path, dest: Path, key: bytes) -> None:
    """Copy the plain database ``source`` into a new SQLCipher database ``dest``."""
    os.close(os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    conn = keyed.connect(dest.resolve().as_uri(), key, uri=True)
    try:
        # A new file, discarded whole if the copy is cut short, and fsynced once at the end:
        # no journal, and no sync after each of the export's statements.
        conn.execute("PRAGMA main.journal_mode = OFF")
        conn.execute("PRAGMA main.synchronous = OFF")
        conn.execute("ATTACH DATABASE ? AS plain KEY ''", (source.resolve().as_uri() + "?mode=ro",))
        conn.execute("SELECT sqlcipher_export('main', 'plain')")
        version = int(conn.execute("PRAGMA plain.user_version").fetchone()[0])
        conn.execute(f"PRAGMA main.user_version = {version}")
        conn.commit()
        conn.execute("DETACH DATABASE plain")
    except keyed.dbapi.Error as exc:
        raise LibraryError(
            f"The database {source.name} could not be read to encrypt it ({exc}); run "
            "'tracker check' first. Nothing was changed."
        ) from exc
    finally:
        conn.close()
    with dest.open("rb") as fh:
        os.fsync(fh.fileno())


def _verify(db_path: Path, key: bytes) -> None:
    conn = keyed.connect(str(db_path), key)
    try:
        ok = conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    if not ok:
        raise LibraryError(
            "The encrypted copy of the database failed its check; nothing was changed."
        )


def _write_error(root: Path, exc: OSError) -> LibraryError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(
            f"The disk holding the library in {root} is full; it was not encrypted and is as it was."
        )
    return StorageError(
        f"The library in {root} could not be encrypted ({exc.strerror}); it is as it was."
    )
