"""``tracker repair`` of a library in a PostgreSQL database (clinic mode, issue 21).

The repairs ``care.repair`` makes of a folder, made of the database's blob store
(``blobs_db``) instead, each blob in a short transaction of its own so that no other
workstation waits for minutes behind a repair; none leaves anything half-done, and what a
login's role may not do is refused by the server (``server_errors``' sentence) before anything
is changed; ``rebuild_cache`` and ``relink`` say how far they are and stop between two
photos or files when cancelled, what was done staying done:

- ``rebuild_cache``: every photo's thumbnail and preview made again from its original
  (encrypted as the store encrypts, and this workstation's kept copy dropped). A photo whose
  original cannot be read is named in the result and keeps what it had. The stored files are
  replaced, which an assistant may not do (they are only added): the server refuses it.
- ``relink``: a missing original or signed form (or, asked for, one that is damaged: a check
  found its bytes are not the photo any more) put back from a file of a folder whose SHA-256
  is its name, read back from the server and checked before it is committed; the folder is
  only read. A damaged blob is replaced in the same transaction as its good copy is stored:
  its bytes are not the photo (they do not hash, or decrypt, to it), and the server's own
  backups hold the database as it was.
- ``quarantine_orphans``: a thumbnail or preview of a photo the library no longer holds (left
  when another workstation made it while the photo was being erased) is removed, as the
  erasure meant; a stray original is left where it is and named: the server has no folder to
  move it to, and it may be a photo whose record was removed outside the app.

A clinic library has no snapshots: ``SNAPSHOT_REFUSAL`` says what puts a server back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.core.care import repair as folder_repair
from tracker.core.care.backups import Progress
from tracker.core.crypto.layout import CHUNK
from tracker.core.db.models import Consent, Photo
from tracker.core.errors import ImageRejected, NotFoundError, StorageError, UsageError
from tracker.core.files import expand_paths
from tracker.core.imaging import decode as imaging
from tracker.core.store.blobs import DERIVED, BlobDamaged, BlobRefused
from tracker.core.store.server_library import ServerLibrary, ServerPhotoStore

# How often a photo's new thumbnail is tried when another workstation stores one at the same
# moment (its is made from the same original: the second try replaces it).
_TRIES = 2
Cancel = Callable[[], bool]


def snapshot_refusal(shown: str) -> str:
    """Why ``repair restore-snapshot`` does nothing on the clinic library ``shown``."""
    return (
        f"{shown} is a clinic library: it has no database snapshots in backups/ (that is a "
        "library folder's); the server is put back with its own tools (point-in-time recovery, "
        "or a pg_dump of the database), or a 'tracker backup' archive is restored into an "
        "empty clinic library ('tracker restore ARCHIVE.zip ADDRESS'); nothing was changed."
    )


# -- rebuild-cache -------------------------------------------------------------------------------


def rebuild_cache(
    lib: ServerLibrary, *, progress: Progress | None = None, cancel: Cancel | None = None
) -> dict[str, Any]:
    """Make every photo's thumbnail and preview again from its original, a photo per
    transaction (see the module); ``failed_photos`` names those whose original is missing,
    damaged or no picture. ``progress(done, total, what)`` is called after each photo;
    ``cancel()`` stops between two photos (``cancelled``: those done stay done, the others
    keep what they had)."""
    lib.require_writable()
    with lib.session() as s:
        photos = s.execute(select(Photo.id, Photo.sha256).order_by(Photo.id)).all()
    rebuilt, failed, cancelled = 0, [], False
    for n, (photo_id, sha) in enumerate(photos, start=1):
        if cancel is not None and cancel():
            cancelled = True
            break
        made = _remade(lib, sha)
        if made is None:
            if _photo_there(lib, sha):  # one erased meanwhile is no failure
                failed.append(photo_id)
        elif _store_derived(lib, sha, made):
            rebuilt += 1
        if progress is not None:
            progress(n, len(photos), "")
    return {
        "rebuilt": rebuilt,
        "failed": len(failed),
        "failed_photos": failed,
        "cancelled": cancelled,
    }


def _remade(lib: ServerLibrary, sha: str) -> tuple[bytes, bytes] | None:
    """The photo's new thumbnail and preview, or None when its original cannot be read. The
    original is read in a transaction of its own and decoded outside any."""
    try:
        with lib.session() as s:
            data = lib.blobs.read(s, "original", sha)
        decoded = imaging.decode(data, preview=True, stored=True)
    except (NotFoundError, BlobDamaged, ImageRejected):
        return None
    assert decoded.preview is not None  # asked for
    return decoded.thumbnail, decoded.preview


def _store_derived(lib: ServerLibrary, sha: str, made: tuple[bytes, bytes]) -> bool:
    """Replace the photo's stored thumbnail and preview with ``made``, in one transaction that
    holds the photo's row (an erasure waits, then takes them with it); False when the photo
    was erased meanwhile. The delete comes first, so a role that may not replace stored files
    is refused before anything is written."""
    for attempt in range(_TRIES):
        try:
            with lib.session() as s:
                if not _hold_named(s, sha):
                    return False
                for kind in DERIVED:
                    lib.blobs.delete(s, kind, sha)
                lib.blobs.put(s, "thumbs", sha, made[0])
                lib.blobs.put(s, "previews", sha, made[1])
        except IntegrityError:
            if attempt == _TRIES - 1:
                raise
            continue  # another workstation stored one at that moment: replace it
        break
    store = lib.store
    if isinstance(store, ServerPhotoStore) and store.local is not None:
        store.local.drop(sha)  # this workstation's kept copy: fetched again when shown
    return True


def _photo_there(lib: ServerLibrary, sha: str) -> bool:
    with lib.session() as s:
        return s.scalar(select(Photo.id).where(Photo.sha256 == sha)) is not None


def _hold_named(s: Session, sha: str) -> bool:
    """Whether a photo or a consent's signed form names ``sha``, its row held (FOR SHARE)
    until ``s`` ends, so an erasure cannot take it away between the look and the write."""
    photo = s.scalar(select(Photo.id).where(Photo.sha256 == sha).with_for_update(read=True))
    if photo is not None:
        return True
    consent = s.scalar(
        select(Consent.id).where(Consent.form_sha256 == sha).limit(1).with_for_update(read=True)
    )
    return consent is not None


# -- relink ----------------------------------------------------------------------------------------


def relink(
    lib: ServerLibrary,
    folder: Path,
    changed_originals: Iterable[str] = (),
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> dict[str, Any]:
    """Put back from ``folder`` (searched through, only read) every missing original and
    signed form, and those of ``changed_originals`` (SHA-256s a check found damaged), each
    found by its contents, stored, read back and checked in one transaction per file.

    The damaged ones go first: replacing a stored file is what an assistant may not do, and
    the server's refusal then comes before anything was changed. ``progress(done, total,
    what)`` is called after each file of the folder looked at, then after each file put
    back; ``cancel()`` stops between two (``cancelled``: those put back stay put back, and
    the rest are counted still missing or still changed)."""
    lib.require_writable()
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder.")
    sizes = _named_sizes(lib)
    with lib.session() as s:
        stored = {sha for kind, sha in lib.blobs.stored(s) if kind == "original"}
    lost = {sha for sha in sizes if sha not in stored}
    damaged = {sha for sha in changed_originals if sha in sizes and sha not in lost}
    found, cancelled = _find(folder, {sha: sizes[sha] for sha in lost | damaged}, progress, cancel)
    replaced: list[str] = []
    relinked: list[str] = []
    order = sorted(found, key=lambda sha: sha not in damaged)
    for n, sha in enumerate([] if cancelled else order, start=1):
        if cancel is not None and cancel():
            cancelled = True
            break
        try:
            data = found[sha].read_bytes()
        except OSError:
            data = None  # gone or unreadable since it was hashed
        if data is not None and _put_back(lib, sha, data, replace=sha in damaged):
            (replaced if sha in damaged else relinked).append(sha)
        if progress is not None:
            progress(n, len(order), sha[:12])
    return {
        "relinked": len(relinked),
        "still_missing": len(lost) - len(relinked),
        "replaced": len(replaced),
        "still_changed": len(damaged) - len(replaced),
        "quarantine": "",  # a damaged blob is not the photo: it is replaced, not kept
        "cancelled": cancelled,
    }


def _named_sizes(lib: ServerLibrary) -> dict[str, int]:
    """sha256 → size of every photo's original and every consent's signed form."""
    with lib.session() as s:
        sizes = {
            str(sha): int(size) for sha, size in s.execute(select(Photo.sha256, Photo.file_size))
        }
        forms = s.execute(
            select(Consent.form_sha256, Consent.form_size).where(Consent.form_sha256.is_not(None))
        )
        for sha, size in forms:
            if size is not None:
                sizes.setdefault(str(sha), int(size))
    return sizes


def _find(
    folder: Path, wanted: dict[str, int], progress: Progress | None, cancel: Cancel | None
) -> tuple[dict[str, Path], bool]:
    """A file of ``folder`` for each of ``wanted`` (sha256 → size) its contents hash to; only
    the files of a wanted size are read, a chunk at a time. And whether ``cancel()`` stopped
    the search between two files."""
    found: dict[str, Path] = {}
    if not wanted:
        return found, False
    sizes = set(wanted.values())
    paths = expand_paths([folder])
    for n, path in enumerate(paths, start=1):
        if cancel is not None and cancel():
            return found, True
        sha = _hashed(path, sizes)
        if sha is not None and sha in wanted and sha not in found:
            found[sha] = path
        if progress is not None:
            progress(n, len(paths), path.name)
    return found, False


def _hashed(path: Path, sizes: set[int]) -> str | None:
    """The SHA-256 of the file ``path`` when it is of one of ``sizes``; else (or when it
    cannot be read) None."""
    try:
        if not path.is_file() or path.stat().st_size not in sizes:
            return None
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            while piece := fh.read(CHUNK):
                digest.update(piece)
    except OSError:
        return None
    return digest.hexdigest()


def _put_back(lib: ServerLibrary, sha: str, data: bytes, *, replace: bool) -> bool:
    """Store ``data`` as the original ``sha`` (``replace``: in place of the damaged one),
    read it back and check it, all in one transaction; False when there is nothing to do any
    more (no row names it, or the stored one is whole again) or the file changed since it was
    hashed. A copy that does not read back whole is refused and nothing is kept."""
    with lib.session() as s:
        if not _hold_named(s, sha):
            return False
        if replace:
            if lib.blobs.verify(s, "original", sha) is None:
                return False  # put back meanwhile, by another workstation
            lib.blobs.delete(s, "original", sha)
        elif lib.blobs.has(s, "original", sha):
            return False
        try:
            lib.blobs.put(s, "original", sha, data)
        except BlobRefused:
            return False  # the file changed since it was hashed
        wrong = lib.blobs.verify(s, "original", sha)
        if wrong is not None:
            raise StorageError(
                f"The original {sha[:12]} did not read back from the server as it was sent "
                f"({wrong}); it was not put back."
            )
    return True


# -- quarantine ------------------------------------------------------------------------------------


def quarantine_orphans(lib: ServerLibrary) -> dict[str, Any]:
    """Remove the thumbnails and previews that no photo names, and name the stray originals,
    which stay (see the module): ``removed``, ``left`` and ``left_originals`` (their SHA-256s);
    ``moved`` and ``folder`` as a folder's, nothing moved."""
    lib.require_writable()
    with lib.session() as s:
        # The first statement: the photos and the stored files are read at one moment, so a
        # photo imported meanwhile is in neither list (its thumbnail is never taken for stray).
        s.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        named = set(s.scalars(select(Photo.sha256)))
        named |= {
            str(sha)
            for sha in s.scalars(
                select(Consent.form_sha256).where(Consent.form_sha256.is_not(None))
            )
        }
        strays = [(kind, sha) for kind, sha in lib.blobs.stored(s) if sha not in named]
        derived = [(kind, sha) for kind, sha in strays if kind != "original"]
        for kind, sha in derived:
            lib.blobs.delete(s, kind, sha)
    store = lib.store
    if isinstance(store, ServerPhotoStore) and store.local is not None:
        for _kind, sha in derived:
            store.local.drop(sha)
    originals = [sha for kind, sha in strays if kind == "original"]
    return {
        "moved": 0,
        "folder": "",
        "removed": len(derived),
        "left": len(originals),
        "left_originals": originals,
    }


def relink_summary(result: dict[str, Any], changed: bool) -> str:
    """``relink``'s result said as a sentence, the command line's and the window's."""
    text = folder_repair.relink_summary(result, changed)
    if result["replaced"]:
        text += (
            " The damaged stored copies were replaced (their bytes were not the photos'; the "
            "server's own backups hold the database as it was)."
        )
    if result.get("cancelled"):
        text += (
            " The relink was stopped before the end, as asked: what was put back stays; "
            "relink from the folder again for the rest."
        )
    return text


def rebuild_summary(result: dict[str, Any], how_to_check: str, how_to_rebuild: str) -> str:
    """``rebuild_cache``'s result said as a sentence; ``how_to_check`` and ``how_to_rebuild``
    name the check that says how to put a missing original back and the rebuild ("'tracker
    check'", a menu's item)."""
    text = f"Rebuilt thumbnails and previews of {result['rebuilt']} photo(s)."
    if result.get("cancelled"):
        text += (
            " The rebuild was stopped before the end, as asked: the other photos keep the "
            f"thumbnails and previews they had ({how_to_rebuild} again to make them all)."
        )
    if result["failed"]:
        ids = ", ".join(map(str, result["failed_photos"]))
        text += (
            f" Not photo(s) {ids}: the original is missing or damaged ({how_to_check} says how "
            "to put it back)."
        )
    return text


def quarantine_summary(result: dict[str, Any]) -> str:
    """``quarantine_orphans``' result said as a sentence, the command line's and the
    window's."""
    text = (
        f"Removed {result['removed']} stored thumbnail(s) or preview(s) of photos no longer in "
        "the library."
    )
    if result["left"]:
        shas = ", ".join(sha[:12] for sha in result["left_originals"])
        text += (
            f" {result['left']} stored original(s) belong to no photo or consent ({shas}) and "
            "were left where they are: a clinic library has no folder to move them to, and one "
            "may be a photo whose record was removed outside the app. Importing the same photo "
            "again makes it the library's again; the server's administrator can compare the "
            "rest with the server's backups."
        )
    return text
