"""Backups: whole-library archives (database snapshots in ``backups/`` are ``db.snapshots``).

An archive (``tracker backup OUT.zip``) holds the database, exactly the originals and the
consents' signed forms it names, and ``manifest.json`` with the size and sha256 of each file
and the audit trail's anchor (``care.archived``); ``care.restore`` makes a library
of one again. It must restore whatever ran beside it, so it is one consistent moment:

1. The database is copied whole, in memory, with SQLite's backup API: the library as of one
   commit, even while the window or an import writes to it.
2. Exactly the originals that copy names are archived, each hashed as it is copied. Originals
   are named by their contents and never change, so a photo imported after the copy is simply
   not named; one whose row was committed but whose file is still staged, or that an undo or
   an erase has moved aside, is read from where it is.
3. A named original that cannot be read as it was imported is looked at again against the
   database as it is now. If its photo has gone meanwhile (erased during the backup), the
   backup starts again from a new copy, and after a few tries says the library kept changing;
   if it is still named, the library is damaged: the backup is refused, naming the damage,
   unless ``force`` is given, which archives the rest and lists what it left out.

An encrypted library's archive holds its files as they are stored, encrypted with the
library's own keys: the database image (SQLCipher), each original as written (AES-GCM), and
the key file, so that it restores with the same passphrase or recovery key. Each original is
decrypted as it is copied, to check it against its name; nothing decrypted is written. Its
manifest says ``"encrypted": true`` and gives the sha256 of each file as stored.

Links are never followed: an original that is a link (or lies in a folder that is one) is
damage, not a file to copy. The archive is written as a temporary file beside ``out`` held
with an OS lock (``store.lock.claim``) and renamed into place only when complete; one that a
killed backup left is removed by the next backup to the same name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from tracker import __version__
from tracker.core.care import archived
from tracker.core.care.check import Refusal, in_flight, named_now, open_stored
from tracker.core.crypto.layout import KEY_FILE
from tracker.core.db.engine import DB_NAME
from tracker.core.db.snapshots import database_image, record_archive
from tracker.core.errors import (
    EncryptedFileRefused,
    LibraryChanged,
    LibraryError,
    OriginalsDamaged,
    TrackerError,
    UsageError,
)
from tracker.core.files import refuse_inside, sha256_of
from tracker.core.services.consent_forms import forms_now
from tracker.core.store.library import Library
from tracker.core.store.lock import abandoned, claim
from tracker.core.store.photos import PhotoStore, fsync_dir

MANIFEST = "manifest.json"
FORMAT = 1
CHUNK = 1 << 20
# The most photos one archive holds: what restore reads (``care.unpack`` bounds a manifest and
# a zip directory by it), so that every archive this app makes can be restored.
MAX_FILES = 200_000
# A photo's original, or a consent's signed form (``services.consent_forms``).
ORIGINAL_NAME = re.compile(
    r"^originals/[0-9a-f]{2}/[0-9a-f]{64}\.(jpg|png|heic|webp|tif|form\.(pdf|jpg|png|heic))$"
)
ATTEMPTS = 4  # fresh copies of the database taken before saying the library kept changing
SHOWN = 3  # damaged originals named in the refusal; the rest are counted
Progress = Callable[[int, int, str], None]
CHANGED = "changed"


@dataclass(frozen=True)
class Damage:
    """An original the database names that cannot be archived as it was imported (a
    consent's signed form when ``consent_id`` is given; ``photo_id`` is then 0)."""

    photo_id: int
    path: str  # relative to the library: originals/ab/<sha256>.<ext>
    why: str  # "missing", "changed", "link", "not a file", "misnamed"
    consent_id: int | None = None

    def sentence(self) -> str:
        what = {
            "missing": "is missing",
            CHANGED: "has changed since it was imported",
            "link": "is reached through a link out of the library (not followed)",
            "not a file": "is not a file",
            "misnamed": "has a name this app never gives",
        }[self.why]
        if self.consent_id is not None:
            return f"consent {self.consent_id}'s signed form {self.path} {what}"
        return f"photo {self.photo_id}'s original {self.path} {what}"

    def to_json(self) -> dict[str, Any]:
        if self.consent_id is not None:
            return {"consent_id": self.consent_id, "path": self.path, "why": self.why}
        return {"photo_id": self.photo_id, "path": self.path, "why": self.why}


@dataclass
class _Pass:
    """One attempt: the archive written beside ``out`` and what could not go into it."""

    part: Path
    fh: BinaryIO  # open, holding the claim, until the archive is in place or thrown away
    files: list[dict[str, Any]] = field(default_factory=list)
    damage: list[Damage] = field(default_factory=list)

    def discard(self) -> None:
        """Close the temporary archive, releasing its claim, and remove it if it is still
        there (renamed into place, it is not)."""
        self.fh.close()
        self.part.unlink(missing_ok=True)


def backup(
    lib: Library,
    out: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    cancel: Callable[[], bool] | None = None,
) -> dict[str, Any]:
    """Write the whole library to ``out`` (a .zip), complete or not at all.

    Raises ``OriginalsDamaged`` (naming the damage) when an original is missing, changed or a
    link, unless ``force``: then the rest is archived and ``left_out`` lists what was not.
    ``LibraryChanged`` when photos kept being erased under it.
    """
    _check_destination(lib, out)
    remove_abandoned(out)
    skip: dict[str, Damage] = {}  # changed originals found by an earlier pass (force only)
    for _attempt in range(ATTEMPTS):
        key = lib.database_key  # an encrypted library's image is encrypted with it
        anchor = archived.read_anchor(lib.root)  # before the copy: never ahead of its trail
        image = (
            database_image(lib.root / DB_NAME, key) if key else database_image(lib.root / DB_NAME)
        )
        attempt = _write(lib, out, image, anchor, skip, force, progress, cancel)
        try:
            real = _still_damaged(lib, attempt.damage)
            if len(real) < len(attempt.damage):
                # A photo went (or came back) while it was copied: a fresh copy, skipping
                # only what is still damaged.
                skip = {path: d for path, d in skip.items() if d in real}
                continue
            if real and not force:
                raise OriginalsDamaged(refusal(real), tuple(real))
            fresh = {d.path: d for d in real if d.why == CHANGED and d.path not in skip}
            if fresh:
                skip.update(fresh)  # already in this archive: written again without them
                continue
            _finish(attempt.part, out)
        finally:
            attempt.discard()
        record_archive(lib.root / "backups", out)
        return {
            "file": str(out),
            "files": len(attempt.files),
            "bytes": out.stat().st_size,
            "left_out": [d.to_json() for d in real],
        }
    raise LibraryChanged(
        "The library changed during the backup (photos were erased while it was copied); try again."
    )


def left_out_summary(left_out: list[dict[str, Any]]) -> str:
    """What a forced backup left out, as a sentence ("" when nothing was)."""
    if not left_out:
        return ""
    paths = ", ".join(str(d["path"]) for d in left_out[:SHOWN])
    more = f" and {len(left_out) - SHOWN} more" if len(left_out) > SHOWN else ""
    return (
        f"Left out {len(left_out)} damaged original(s) ({paths}{more}); their photos are in the "
        "archive's database without their files."
    )


def refusal(
    damage: Sequence[object],
    remedy: str = "repair it first (a check of the library says how), or back up what is "
    "there and leave those out",
) -> str:
    """The sentence refusing to back up a damaged library, naming the damage (the first
    few, the rest counted), then ``remedy``."""
    found = [d for d in damage if isinstance(d, Damage)]
    shown = "; ".join(d.sentence() for d in found[:SHOWN])
    more = f"; and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    return f"The library is damaged ({shown}{more}), so no backup was made: {remedy}."


def _check_destination(lib: Library, out: Path) -> None:
    if out.suffix.lower() != ".zip":
        raise UsageError(f"{out.name}: a backup is a .zip archive; choose a name ending in .zip.")
    if not out.parent.is_dir():
        raise UsageError(f"The folder {out.parent} does not exist.")
    refuse_inside(lib.root, out)


# -- writing one archive ---------------------------------------------------------------------------


def _write(
    lib: Library,
    out: Path,
    image: bytes,
    anchor: dict[str, Any] | None,
    skip: dict[str, Damage],
    force: bool,
    progress: Progress | None,
    cancel: Callable[[], bool] | None,
) -> _Pass:
    """Write an archive of ``image`` and the originals it names beside ``out``. Without
    ``force``, once damage is found the rest is only read (to name all of it): the archive
    will not be kept."""
    root = lib.root
    photos = archived.named(image, lib.database_key)
    if len(photos) > MAX_FILES:
        raise UsageError(
            f"The library holds {len(photos):,} photos and forms, more than one archive holds "
            f"({MAX_FILES:,}); back up a copy of the library folder instead."
        )
    total = len(photos) + 1
    part = out.with_name(f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
    try:
        fd = os.open(part, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except OSError as exc:
        raise _write_error(out, exc) from exc
    attempt = _Pass(part, os.fdopen(fd, "w+b"))
    fh = attempt.fh
    try:
        claim(fd)
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            info = zipfile.ZipInfo(DB_NAME, time.localtime()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, image)
            attempt.files.append(
                {
                    "path": DB_NAME,
                    "sha256": hashlib.sha256(image).hexdigest(),
                    "size": len(image),
                }
            )
            if lib.keys is not None:
                _add_key_file(root, zf, attempt)
            if progress:
                progress(1, total, DB_NAME)
            for n, file in enumerate(photos, start=2):
                if cancel and cancel():
                    raise UsageError("The backup was cancelled; nothing was written.")
                if file.relpath in skip:
                    attempt.damage.append(skip[file.relpath])
                else:
                    writing = force or not attempt.damage
                    _add_original(lib, zf if writing else None, file, attempt)
                if progress:
                    progress(n, total, file.relpath)
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "app": f"stria-tracker {__version__}",
                "created": dt.datetime.now().isoformat(timespec="seconds"),
                "files": attempt.files,
            }
            if lib.keys is not None:
                manifest["encrypted"] = True
            if anchor is not None:
                manifest[archived.ANCHOR_KEY] = anchor
            if attempt.damage:
                manifest["left_out"] = [d.to_json() for d in attempt.damage]
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
        fh.flush()
        os.fsync(fh.fileno())
    except OSError as exc:
        attempt.discard()
        raise _write_error(out, exc) from exc
    except BaseException:
        attempt.discard()
        raise
    return attempt


def _add_key_file(root: Path, zf: zipfile.ZipFile, attempt: _Pass) -> None:
    """Archive an encrypted library's key file (its master key, wrapped): the archive then
    opens with the library's passphrase or recovery key, and with nothing else."""
    opened = open_stored(root, KEY_FILE)
    if isinstance(opened, Refusal):
        raise LibraryError(
            f"The library's key file {KEY_FILE} is {opened.value}, so no backup was made."
        )
    with opened as fh:
        data = fh.read()
    zf.writestr(KEY_FILE, data)
    attempt.files.append(
        {"path": KEY_FILE, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    )


class _Tee:
    """Reads an encrypted original as stored, hashing each byte and copying it on (into the
    archive), while its plaintext is checked by the store's decrypting reader above it."""

    def __init__(self, src: BinaryIO, dst: IO[bytes] | None) -> None:
        self.src, self.dst = src, dst
        self.digest, self.size = hashlib.sha256(), 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.src.read(n)
        self.digest.update(chunk)
        self.size += len(chunk)
        if self.dst is not None:
            self.dst.write(chunk)
        return chunk

    def close(self) -> None:
        self.src.close()


def _add_encrypted(
    store: PhotoStore, src: BinaryIO, dst: IO[bytes] | None, sha: str, relpath: str
) -> tuple[str, int] | None:
    """Copy an encrypted original as stored, checking its plaintext against its name on the
    way; (the stored bytes' sha256, their size), or None when it is not what was imported."""
    tee = _Tee(src, dst)
    ext = Path(relpath).name.partition(".")[2]
    try:
        plain = store.plain_reader(tee, sha, ext, relpath)  # type: ignore[arg-type]
        intact = sha256_of(plain) == sha
        while tee.read(CHUNK):  # anything after the last chunk: copied, and caught by restore
            pass
    except EncryptedFileRefused:
        return None
    return (tee.digest.hexdigest(), tee.size) if intact else None


def _add_original(
    lib: Library, zf: zipfile.ZipFile | None, file: archived.Named, attempt: _Pass
) -> None:
    """Copy one named original into the archive, hashing it on the way (read once), or only
    hash it when ``zf`` is None; what cannot be archived as imported is noted as damage."""
    relpath = file.relpath

    def damage(why: str) -> Damage:
        return Damage(file.photo_id or 0, relpath, why, file.consent_id)

    if not ORIGINAL_NAME.match(relpath):
        attempt.damage.append(damage("misnamed"))
        return
    sha = Path(relpath).name.partition(".")[0]
    opened = _open_named(lib.root, relpath)
    if isinstance(opened, Refusal):
        attempt.damage.append(damage(opened.value))
        return
    if lib.keys is not None:
        with opened as src:
            st = os.fstat(src.fileno())
            info = zipfile.ZipInfo(relpath, time.localtime(st.st_mtime)[:6])
            info.file_size = st.st_size
            with contextlib.ExitStack() as stack:
                dst = None if zf is None else stack.enter_context(zf.open(info, "w"))
                stored = _add_encrypted(lib.store, src, dst, sha, relpath)
        if stored is None:
            attempt.damage.append(damage(CHANGED))
            return
        attempt.files.append({"path": relpath, "sha256": stored[0], "size": stored[1]})
        return
    with opened as src:
        st = os.fstat(src.fileno())
        digest, size = hashlib.sha256(), 0
        if zf is None:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        else:
            info = zipfile.ZipInfo(relpath, time.localtime(st.st_mtime)[:6])
            info.file_size = st.st_size  # known ahead: zip64 when it is needed
            with zf.open(info, "w") as dst:
                while chunk := src.read(CHUNK):
                    digest.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
    if digest.hexdigest() != sha:
        attempt.damage.append(damage(CHANGED))
        return
    attempt.files.append({"path": relpath, "sha256": sha, "size": size})


def _open_named(root: Path, relpath: str) -> BinaryIO | Refusal:
    """The named original where it is: in ``originals/``, or, while work on it is under way,
    staged by an import or moved aside by an undo or an erase (looked for in ``originals/``
    again after: a rename between two looks is caught by the second)."""
    opened = open_stored(root, relpath)
    if opened is not Refusal.MISSING:
        return opened
    sha, _, ext = Path(relpath).name.partition(".")
    aside = in_flight(root, sha, ext)
    if aside is not None:
        found = open_stored(root, str(aside.relative_to(root)))
        if not isinstance(found, Refusal):
            return found
    return open_stored(root, relpath)


def _still_damaged(lib: Library, damage: list[Damage]) -> list[Damage]:
    """The damage that is still there against the database as it is now: an original whose
    photo has gone since the copy (erased), or that reads as imported now, is not damage."""
    if not damage:
        return []
    try:
        live = named_now(lib)
        forms = {f.relpath for f in forms_now(lib)}
    except TrackerError:
        return list(damage)
    out = []
    for d in {d.path: d for d in damage}.values():
        sha, _, ext = Path(d.path).name.partition(".")
        if (d.path not in forms) if d.consent_id is not None else (sha not in live):
            continue
        if d.why in ("missing", CHANGED):
            opened = _open_named(lib.root, d.path)
            if not isinstance(opened, Refusal):
                with (
                    contextlib.suppress(EncryptedFileRefused),
                    lib.store.plain_reader(opened, sha, ext, d.path) as fh,
                ):
                    if sha256_of(fh) == sha:
                        continue
        out.append(d)
    return sorted(out, key=lambda d: d.photo_id)


def _finish(part: Path, out: Path) -> None:
    try:
        os.replace(part, out)
        fsync_dir(out.parent)
    except OSError as exc:
        raise _write_error(out, exc) from exc


def _write_error(out: Path, exc: OSError) -> LibraryError:
    return LibraryError(f"The backup could not be written to {out} ({exc.strerror or exc}).")


def remove_abandoned(out: Path) -> list[Path]:
    """Remove the temporary archives (and database copies, from before they were kept in
    memory) that killed backups to ``out`` left beside it: ``.OUT.zip.<pid>-<hex>.part``
    whose writer is gone. Returns what was removed."""
    prefix = f".{out.name}."
    removed = []
    try:
        entries = list(out.parent.iterdir())
    except OSError:
        return []
    for path in entries:
        name = path.name
        if not name.startswith(prefix):
            continue
        middle = name[len(prefix) :]
        for suffix in (".part", ".part.sqlite3", ".part.sqlite3-journal"):
            if middle.endswith(suffix):
                middle = middle.removesuffix(suffix)
                break
        else:
            continue
        pid_text, _, token = middle.partition("-")
        pid = int(pid_text) if pid_text.isdigit() and token else None
        if abandoned(path, pid):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed
