"""A library folder moved into an empty clinic library (``tracker clinic migrate-from FOLDER``,
issue 21), in one transaction of the server's: all of it, or nothing.

1. The folder is read without writing a byte there: its database through SQLite's
   ``immutable`` mode (no lock, no recovery, no snapshot, not even a shared-memory file), so
   only while no program has it open (no lock held, no write-ahead log), and its file must
   hash the same after the move as before it, or nothing is kept. It must be at this
   version's schema (an older one is opened once with this version first, which migrates it
   with its own copy kept); one with an encryption cut short is refused (opening it would
   finish or undo that, writing the folder). An encrypted folder is read with its keys
   (``keys``, unlocked by the caller: ``store.encrypted.unlock`` notes that attempt beside
   its database, for the folder's own audit trail, as every unlock of a folder does): its
   SQLCipher database read as it is, each original decrypted here, on the workstation. Its
   photos then go where the clinic library keeps photos: sealed with the clinic's keys when
   it is encrypted, else in plain, which is refused unless the caller says so
   (``allow_plain``: a patient's photos kept encrypted must not end up readable on a server
   by a mistake of one command).
2. On the server, as the clinic library's owner or the server's superuser (the audit trail's
   entries keep the logins that wrote them, and the trail's row-level policy accepts another
   login's name from them only), with the client and audit tables locked against other
   writers: a library that holds any record already is refused, naming what it holds.
3. Every row of every table is copied with its id (``table_copy``), and each id sequence is
   set past the ids copied. Every original and every signed form the rows name is read from the
   folder without following a link (decrypted, when the folder is encrypted), its size and
   SHA-256 checked against what the folder's database recorded, and put into the blob store
   (which refuses bytes that do not hash to their name, and encrypts them when the clinic
   library is encrypted); then each is read back from the server, whole, and hashed again.
   Thumbnails and previews are not copied: each is made again from its original the first
   time it is shown (``Library.derived``), sealed to it.
4. The copied audit trail is checked entry by entry against the folder's (each hash worked
   out again on what the server holds), and the move itself is one more entry (a ``restored``
   entry: the schema's list of actions has no word of its own for it) chained to the last.

Any missing, changed or unreadable file, or anything the server refuses, rolls it all back
with a sentence naming the photo (or consent) and the file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tracker.core.care import table_copy
from tracker.core.care.backups import CHANGED, Damage
from tracker.core.care.check import Refusal, open_stored
from tracker.core.crypto.layout import is_encrypted
from tracker.core.db import engine as db
from tracker.core.db.engine import DB_NAME
from tracker.core.db.models import Audit, Blob, Client, Consent, Photo
from tracker.core.domain.consent import Action
from tracker.core.errors import (
    EncryptedFileRefused,
    LibraryError,
    NotFoundError,
    OriginalsDamaged,
    StorageError,
    UsageError,
)
from tracker.core.files import sha256_of
from tracker.core.services import audit
from tracker.core.services.consent_forms import form_relpath, stored_ext
from tracker.core.store.blobs import BlobDamaged
from tracker.core.store.encrypting import STAGING
from tracker.core.store.library import Library, damaged
from tracker.core.store.lock import in_use
from tracker.core.store.photos import PhotoStore
from tracker.core.store.server_library import ServerLibrary

if TYPE_CHECKING:
    from tracker.core.crypto.keys import Keys

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class _File:
    """An original or a signed form the folder's database names, with what it recorded."""

    relpath: str
    sha256: str
    ext: str
    size: int
    photo_id: int = 0
    consent_id: int | None = None

    def damage(self, why: str) -> Damage:
        return Damage(self.photo_id, self.relpath, why, self.consent_id)


def migrate_from(
    folder: Path,
    lib: ServerLibrary,
    progress: Progress | None = None,
    *,
    keys: Keys | None = None,
    allow_plain: bool = False,
    detail: str = "",
) -> dict[str, int]:
    """Move the library folder ``folder`` into the empty clinic library ``lib`` (see the
    module); ``keys``: an encrypted folder's, unlocked; ``allow_plain``: an encrypted folder
    may go into a clinic library that is not encrypted; ``detail``: the audit entry's,
    when it is not the folder's name. What was moved: {"clients", "visits", "photos",
    "bytes", "verified"}."""
    lib.require_writable()
    refuse_plain(folder, lib, allow_plain)
    source = open_folder(folder, keys)
    state = _database_state(source.root)
    try:
        with source.session() as src, lib.session() as dst:
            _refuse_unless_owner(dst, lib)
            _refuse_unless_empty(dst, lib)
            expected = table_copy.counts(src)
            table_copy.copy_rows(src, dst)
            table_copy.move_sequences_on(dst)
            files = named_files(src)
            moved = 0
            for n, file in enumerate(files, start=1):
                moved += _put(source, lib, dst, file)
                if progress:
                    progress(n, 2 * len(files), file.relpath)
            for n, file in enumerate(files, start=len(files) + 1):
                _read_back(lib, dst, file)
                if progress:
                    progress(n, 2 * len(files), file.relpath)
            found = table_copy.counts(dst)
            if found != expected:
                wrong = sorted(name for name in expected if found[name] != expected[name])
                raise StorageError(
                    f"The clinic library {lib.server} does not hold what was copied into it "
                    f"(the {', '.join(wrong)} rows differ in number); nothing was moved in."
                )
            _same_trail(src, dst, lib)
            try:
                _refuse_if_open(source.root)
                changed = _database_state(source.root) != state
            except (UsageError, OSError):
                changed = True
            if changed:
                raise UsageError(
                    f"The library at {source.root} was changed while it was being moved in; "
                    "nothing was moved in: close the app and try again."
                )
            audit.record_in(
                dst,
                Action.RESTORED,
                detail=detail
                or f"moved in from the {'encrypted ' if keys is not None else ''}library folder "
                f"{source.root.name}",
            )
    finally:
        source.close()
    return {
        "clients": expected["client"],
        "visits": expected["visit"],
        "photos": expected["photo"],
        "bytes": moved,
        "verified": len(files),
    }


def movable(folder: Path) -> bool:
    """What can be told of ``folder`` before its keys are asked for: a UsageError unless it
    is a closed library folder whose encryption was not cut short; whether it is encrypted."""
    folder = folder.expanduser()
    if not (folder / DB_NAME).is_file():
        raise UsageError(f"There is no library at {folder} (it holds no {DB_NAME}).")
    if (folder / STAGING).exists():
        raise UsageError(
            f"The library at {folder} was being encrypted when that was cut short; open it "
            "once with this version first (it finishes or undoes that), then move it in."
        )
    _refuse_if_open(folder)
    return is_encrypted(folder)


def refuse_plain(folder: Path, lib: ServerLibrary, allow_plain: bool) -> None:
    """A UsageError when ``folder`` is encrypted and ``lib`` is not, unless ``allow_plain``:
    its photos would be kept on the server in plain (asked before any passphrase is)."""
    if allow_plain or lib.keys is not None or not is_encrypted(folder.expanduser()):
        return
    raise UsageError(
        f"The library at {folder} is encrypted and the clinic library {lib.server} is not: "
        "its photos would be kept on the server in plain, so it is not moved in; move it into "
        "an encrypted clinic library ('tracker clinic create URL --encrypt'), or give "
        "--allow-unencrypted to keep them there in plain (nothing was written)."
    )


def open_folder(folder: Path, keys: Keys | None = None) -> Library:
    """The library folder ``folder`` opened for reading only and without writing a byte there
    (SQLite's ``immutable``: not even its shared-memory file), once it is known to be one that
    can be moved in as it is (see the module); else a UsageError saying why. An encrypted
    one needs its ``keys``."""
    folder = folder.expanduser()
    db_path = folder / DB_NAME
    encrypted = movable(folder)
    if encrypted and keys is None:
        raise UsageError(
            f"The library at {folder} is encrypted: it is moved in with its passphrase (or "
            "its recovery key); nothing was written."
        )
    if not encrypted and keys is not None:
        raise UsageError(f"The library at {folder} is not encrypted; move it in without a key.")
    if keys is not None:
        # start-up time: cryptography is loaded for an encrypted folder only
        from tracker.core.crypto.keys import read

        if str(read(folder)["library_id"]) != keys.library_id:
            raise UsageError(f"The key given is another library's, not that of {folder}.")
    key = None if keys is None else keys.database_key()
    revision = db.read_revision(db_path, key)
    if revision != db.head_revision():
        # start-up time: Alembic is loaded only for a folder at another schema than this one's
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(db.alembic_config())
        if revision not in {rev.revision for rev in script.walk_revisions()}:
            raise UsageError(
                f"The library at {folder} was written by a newer version of the app (schema "
                f"{revision}); update the app to move it in (nothing was written)."
            )
        raise UsageError(
            f"The library at {folder} is at schema {revision}, not this version's "
            f"{db.head_revision()}: open it once with this version first ('tracker --library "
            f"{folder} check' upgrades it, keeping a copy of its database), then move it in."
        )
    engine = db.open_read_only(db_path, "immutable", key)
    problem = db.quick_check(engine)
    if problem is not None:
        engine.dispose()
        raise damaged(folder, problem)
    return Library(folder, engine, read_only="It is being moved into a clinic library.", keys=keys)


def _refuse_if_open(folder: Path) -> None:
    """A UsageError while a program has the library open (its lock is held, or SQLite's
    write-ahead log is there: it goes when the last connection closes cleanly), since an
    ``immutable`` read would not see what it writes."""
    if in_use(folder) or (folder / f"{DB_NAME}-wal").exists():
        raise UsageError(
            f"The library at {folder} is open in the app (or was not closed properly); close "
            "it, or open and close it once, then move it in (nothing was written)."
        )


def _database_state(folder: Path) -> str:
    """The database file's SHA-256: it is the same after the move as before it, or something
    wrote to the library meanwhile."""
    with (folder / DB_NAME).open("rb") as fh:
        return sha256_of(fh)


def named_files(s: Session) -> list[_File]:
    """Every original and signed form ``s``'s rows name, each file once, photos first."""
    out = [
        _File(PhotoStore.original_relpath(sha, ext), sha, ext, int(size), photo_id=int(ident))
        for ident, sha, ext, size in s.execute(
            select(Photo.id, Photo.sha256, Photo.ext, Photo.file_size).order_by(Photo.id)
        )
    ]
    seen: set[str] = set()
    forms = s.execute(
        select(Consent.id, Consent.form_sha256, Consent.form_kind, Consent.form_size)
        .where(Consent.form_sha256.is_not(None))
        .order_by(Consent.id)
    )
    for ident, sha, kind, size in forms:
        relpath = form_relpath(str(sha), str(kind))
        if relpath not in seen:
            seen.add(relpath)
            out.append(
                _File(
                    relpath, str(sha), stored_ext(str(kind)), int(size or 0), consent_id=int(ident)
                )
            )
    return out


def _refused(lib: ServerLibrary, damage: Damage) -> OriginalsDamaged:
    return OriginalsDamaged(
        f"Nothing was moved into {lib.server}: {damage.sentence()}; repair the library folder "
        "first ('tracker --library FOLDER check' says how).",
        (damage,),
    )


def _put(source: Library, lib: ServerLibrary, s: Session, file: _File) -> int:
    """Read ``file`` from the folder (decrypted, when it is encrypted), check it against what
    was recorded, and store it; its size."""
    opened = open_stored(source.root, file.relpath)
    if isinstance(opened, Refusal):
        raise _refused(lib, file.damage(opened.value))
    try:
        with opened as fh:
            plain = source.store.plain_reader(fh, file.sha256, file.ext, file.relpath)
            with plain:
                data = _read_up_to(plain, file.size + 1)  # a byte more than recorded tells
    except EncryptedFileRefused:  # damaged, cut short, or another file put in its place
        raise _refused(lib, file.damage(CHANGED)) from None
    if len(data) != file.size or hashlib.sha256(data).hexdigest() != file.sha256:
        raise _refused(lib, file.damage(CHANGED))
    lib.blobs.put(s, "original", file.sha256, data)
    return len(data)


def _read_up_to(fh: BinaryIO, most: int) -> bytes:
    """Up to ``most`` bytes of ``fh`` (a decrypting reader returns a chunk at a time)."""
    parts: list[bytes] = []
    left = most
    while left > 0 and (piece := fh.read(left)):
        parts.append(piece)
        left -= len(piece)
    return b"".join(parts)


def _read_back(lib: ServerLibrary, s: Session, file: _File) -> None:
    """Read ``file``'s blob back from the server, whole, and hash it again."""
    what = (
        f"consent {file.consent_id}'s signed form"
        if file.consent_id is not None
        else f"photo {file.photo_id}'s original"
    )
    try:
        # Chunk by chunk, each checked as it comes, and the whole against its size and name.
        data = lib.blobs.read(s, "original", file.sha256)
        wrong = None if hashlib.sha256(data).hexdigest() == file.sha256 else "its bytes differ"
    except (BlobDamaged, NotFoundError) as exc:
        wrong = str(exc).rstrip(".")
    if wrong is not None:
        raise StorageError(
            f"Nothing was moved into {lib.server}: {what} {file.relpath} did not read back "
            f"from the server as it was written ({wrong})."
        )


def refuse_unless_movable_into(lib: ServerLibrary) -> None:
    """What ``migrate_from`` refuses of the clinic library itself (a login not its owner, a
    library not empty), asked before a folder is made to move in (a restore, a demo)."""
    lib.require_writable()
    with lib.session() as s:
        _refuse_unless_owner(s, lib)
        _refuse_unless_empty(s, lib)
        s.rollback()  # the tables' lock, let go


def _refuse_unless_owner(s: Session, lib: ServerLibrary) -> None:
    """A LibraryError unless this login may write audit entries in other logins' names."""
    if s.scalar(text("SELECT row_security_active('audit')")):
        who = s.scalar(text("SELECT session_user"))
        raise LibraryError(
            f"{who} may not move a library into {lib.server}: the audit trail's entries keep "
            "the names of who wrote them, which the server accepts only from the clinic "
            "library's owner (the login that ran 'tracker clinic create') or its superuser."
        )


def _refuse_unless_empty(s: Session, lib: ServerLibrary) -> None:
    """A UsageError naming what the clinic library holds, unless it holds nothing; other
    writers wait (client and audit are locked) until this transaction ends."""
    s.execute(text("LOCK TABLE client, audit IN EXCLUSIVE MODE"))
    clients = int(s.scalar(select(func.count()).select_from(Client)) or 0)
    if clients:
        raise UsageError(
            f"The clinic library {lib.server} already holds {clients} client"
            f"{'s' if clients != 1 else ''}: a library folder is moved only into an empty one "
            "(made by 'tracker clinic create'); nothing was written."
        )
    held = {name: n for name, n in table_copy.counts(s).items() if n}
    blobs = int(s.scalar(select(func.count()).select_from(Blob)) or 0)
    if blobs:
        held["blob"] = blobs
    if held:
        what = ", ".join(f"{n} {name} row{'s' if n != 1 else ''}" for name, n in held.items())
        raise UsageError(
            f"The clinic library {lib.server} is not empty ({what}): a library folder is "
            "moved only into an empty one (made by 'tracker clinic create'); nothing was "
            "written."
        )


def _same_trail(src: Session, dst: Session, lib: ServerLibrary) -> None:
    """Each copied audit entry's hash, worked out again on what the server holds, is the
    one worked out on the folder's entry (so the chain holds there exactly as it did)."""
    theirs = {row.id: audit.row_hash(row) for row in src.scalars(select(Audit))}
    for row in dst.scalars(select(Audit).order_by(Audit.id)):
        if theirs.get(row.id) != audit.row_hash(row):
            raise StorageError(
                f"Audit entry {row.id} is not the same in {lib.server} as in the library "
                "folder once copied (the server changed a value of it); nothing was moved in."
            )
