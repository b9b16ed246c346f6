"""A consent's signed form (issue 20): one scanned PDF, JPEG, PNG or HEIC per consent, kept
as an original is.

The form is checked by its content (``domain.consent.check_form``: its kind, at most
``MAX_FORM_BYTES``) and stored by the photo store under ``originals/ab/<sha256>.form.<kind>``:
encrypted with the library's keys in an encrypted library (bound to that name, so neither a
photo's file nor another form can be put in its place), never in the clear there, written once
and read only to be shown or exported. The ``form.`` in its name keeps it apart from a photo
imported from the same bytes, so erasing one never takes the other's file.

Attaching follows an import's steps: the file is staged (``tmp/…staged``, fsynced), the
consent's row names it and the audit entry is written in one unit of work, then the staged file
is renamed into place; a crash between is rolled forward when the library next opens (the
library counts a consent's form as one of its files). A consent holds one form, written once:
attaching another is refused, but the same form may be put back when its file was lost.
Exporting writes the form's bytes as they were attached, to a new file only, and is audited.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db.models import Consent
from tracker.core.domain.consent import (
    FORM_LABELS,
    MAX_FORM_BYTES,
    Action,
    FormKind,
    check_form,
)
from tracker.core.errors import NotFoundError, StorageError, UsageError, ValidationError
from tracker.core.files import refuse_inside
from tracker.core.queries.browse import get
from tracker.core.services import audit
from tracker.core.store.library import Library
from tracker.core.store.photos import PhotoStore, fsync_dir
from tracker.core.text import display_path

FORM_PREFIX = "form."
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def stored_ext(kind: str) -> str:
    """The extension a form of ``kind`` is stored under ("form.pdf")."""
    return FORM_PREFIX + FormKind(kind).value


def form_relpath(sha256: str, kind: str) -> str:
    """Where a form is kept, relative to the library: ``originals/ab/<sha256>.form.<kind>``."""
    return PhotoStore.original_relpath(sha256, stored_ext(kind))


@dataclass(frozen=True)
class StoredForm:
    """A consent's form as the database names it."""

    consent_id: int
    client_id: int
    sha256: str
    kind: FormKind
    size: int

    @property
    def relpath(self) -> str:
        return form_relpath(self.sha256, self.kind)

    @property
    def ext(self) -> str:
        return stored_ext(self.kind)


def stored_forms(s: Session, client_id: int | None = None) -> list[StoredForm]:
    """Every consent's form (a client's), by consent id."""
    query = select(
        Consent.id, Consent.client_id, Consent.form_sha256, Consent.form_kind, Consent.form_size
    ).where(Consent.form_sha256.is_not(None))
    if client_id is not None:
        query = query.where(Consent.client_id == client_id)
    return [
        StoredForm(cid, client, str(sha), FormKind(str(kind)), int(size or 0))
        for cid, client, sha, kind, size in s.execute(query.order_by(Consent.id))
    ]


def forms_now(lib: Library) -> list[StoredForm]:
    """Every consent's form as the database is now (a fresh read)."""
    with lib.session() as s:
        return stored_forms(s)


def read_form_file(path: Path) -> tuple[bytes, FormKind]:
    """A form's bytes read from ``path`` (off the GUI thread: it waits on the disk) and its
    kind, at most ``MAX_FORM_BYTES`` read; ValidationError with a sentence when it is not one."""
    name = display_path(str(path))
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_FORM_BYTES + 1)
    except IsADirectoryError as exc:
        raise ValidationError(f"{name} is a folder, not a signed form.") from exc
    except FileNotFoundError as exc:
        raise ValidationError(f"There is no file {name}.") from exc
    except OSError as exc:
        raise ValidationError(f"{name} cannot be read ({exc.strerror or exc}).") from exc
    return data, check(data, name)


@dataclass(frozen=True)
class Staged:
    """A form checked and written to ``tmp/`` (complete, encrypted where the library is),
    waiting for the consent's row to name it."""

    sha256: str
    kind: FormKind
    size: int
    name: str
    path: Path

    @property
    def ext(self) -> str:
        return stored_ext(self.kind)

    def record_in(self, s: Session, row: Consent) -> None:
        """Name the form in ``row`` and write the audit entry, in the caller's unit of work."""
        put_back = row.form_sha256 is not None
        row.form_sha256, row.form_kind, row.form_size = self.sha256, self.kind.value, self.size
        audit.record_in(
            s,
            Action.CONSENT,
            client_id=row.client_id,
            subject=audit.subject_of(consent=row.id),
            detail=f"{'form put back' if put_back else 'form attached'}: "
            f"{FORM_LABELS[self.kind]}, {self.name}",
        )


def check(data: bytes, name: str) -> FormKind:
    """``check_form`` as the core's error: ValidationError with its sentence."""
    try:
        return check_form(data, name)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


@contextlib.contextmanager
def staged(lib: Library, data: bytes, name: str) -> Iterator[Staged]:
    """Check and stage ``data``; the block records it (``Staged.record_in``) and commits.
    Then the file is moved into place; if the block raises, the staged file goes."""
    kind = check(data, name)
    sha = hashlib.sha256(data).hexdigest()
    path = lib.store.stage_original(data, sha, stored_ext(kind))
    form = Staged(sha, kind, len(data), name, path)
    try:
        yield form
    except BaseException:
        lib.store.discard_staged(path)
        raise
    # Committed: a failure or crash from here on is rolled forward when the library opens.
    try:
        if lib.store.has_original(sha, form.ext):
            lib.store.discard_staged(path)  # the same form, kept already for another consent
        else:
            lib.store.commit_staged(path)
    except OSError as exc:
        raise StorageError(
            f"The signed form {name} was recorded but its file could not be moved into the "
            f"library ({exc.strerror}); it is finished when the library is next opened."
        ) from exc


def attach(lib: Library, consent_id: int, data: bytes, *, name: str = "the form") -> StoredForm:
    """Keep ``data`` as the signed form of consent ``consent_id`` (``name``, its file's name,
    for the sentences and the audit entry); what is now stored."""
    lib.require_writable()
    kind = check(data, name)
    sha = hashlib.sha256(data).hexdigest()
    with lib.session() as s:
        row = get(s, Consent, consent_id, "consent")
        if row.form_sha256 is not None:
            if row.form_sha256 != sha or row.form_kind != kind.value:
                raise UsageError(
                    f"Consent {consent_id} already holds its signed form, which is kept as it "
                    "was attached; record a new consent for a new form."
                )
            if lib.store.has_original(sha, stored_ext(kind)):
                raise UsageError(f"Consent {consent_id} already holds this signed form.")
    with staged(lib, data, name) as form, lib.session() as s:
        row = get(s, Consent, consent_id, "consent")
        form.record_in(s, row)
        client_id = row.client_id
    audit.anchor(lib)
    return StoredForm(consent_id, client_id, sha, kind, len(data))


def form_of(lib: Library, consent_id: int) -> StoredForm:
    """The form consent ``consent_id`` holds; NotFoundError when it holds none."""
    with lib.session() as s:
        row = get(s, Consent, consent_id, "consent")
        if row.form_sha256 is None or row.form_kind is None or row.form_size is None:
            raise NotFoundError(f"Consent {consent_id} holds no signed form.")
        return StoredForm(
            consent_id, row.client_id, row.form_sha256, FormKind(row.form_kind), row.form_size
        )


def read(lib: Library, consent_id: int) -> tuple[bytes, StoredForm]:
    """The form's bytes (decrypted in memory in an encrypted library, never written), checked
    against what was attached; NotFoundError when its file is missing, EncryptedFileRefused
    or StorageError when it is damaged."""
    form = form_of(lib, consent_id)
    if not lib.store.has_original(form.sha256, form.ext):
        raise NotFoundError(
            f"The signed form of consent {consent_id} ({form.relpath}) is missing; restore it "
            "from a backup, or attach the same form again."
        )
    data = lib.store.read_original(form.sha256, form.ext)
    if hashlib.sha256(data).hexdigest() != form.sha256:
        raise StorageError(
            f"The signed form of consent {consent_id} ({form.relpath}) has changed since it was "
            "attached; restore it from a backup."
        )
    return data, form


def export(lib: Library, consent_id: int, out: Path) -> StoredForm:
    """Write consent ``consent_id``'s form to ``out``, a new file (never one that exists),
    byte for byte as it was attached, and record the export in the audit trail."""
    refuse_inside(None if lib.server else lib.root, out)
    audit.may_record(lib, Action.EXPORTED)  # refused before the form is read or written
    data, form = read(lib, consent_id)
    write_new(out, data)
    audit.record(
        lib,
        Action.EXPORTED,
        client_id=form.client_id,
        subject=audit.subject_of(consent=consent_id, client=form.client_id),
        detail=f"signed form: {out.name}",
    )
    return form


def note_opened(lib: Library, form: StoredForm) -> None:
    """The audit entry for a form shown in the window (read into memory, not written)."""
    audit.record(
        lib,
        Action.VIEWED,
        client_id=form.client_id,
        subject=audit.subject_of(consent=form.consent_id, client=form.client_id),
        detail="signed form",
    )


def write_new(out: Path, data: bytes) -> None:
    """Write ``data`` to ``out``, which must not exist (an existing file is never replaced),
    whole or not at all: a hidden temporary file beside it, fsynced, then hard-linked to its
    name (which fails when the name is taken) and removed."""
    name = display_path(str(out))
    if not out.parent.is_dir():
        raise UsageError(f"The folder {display_path(str(out.parent))} does not exist.")
    if os.path.lexists(out):
        raise UsageError(f"{name} already exists; choose a new file for the form.")
    part = out.with_name(f".{out.name}.{secrets.token_hex(4)}.part")
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(part, out)
        except FileExistsError as exc:
            raise UsageError(f"{name} already exists; choose a new file for the form.") from exc
        except OSError:  # a file system without hard links: renamed, the name checked first
            if os.path.lexists(out):
                raise UsageError(
                    f"{name} already exists; choose a new file for the form."
                ) from None
            os.replace(part, out)
        fsync_dir(out.parent)
    except OSError as exc:
        raise StorageError(
            f"The form could not be written to {name} ({exc.strerror or exc})."
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            part.unlink()


def going_with(s: Session, client_id: int) -> list[StoredForm]:
    """The forms that go when client ``client_id`` is erased: theirs, but a file another
    client's consent names too (the same blank form scanned twice) stays for that one."""
    theirs = stored_forms(s, client_id)
    others = {f.relpath for f in stored_forms(s) if f.client_id != client_id}
    seen: set[str] = set()
    out = []
    for form in theirs:
        if form.relpath not in others and form.relpath not in seen:
            seen.add(form.relpath)
            out.append(form)
    return out
