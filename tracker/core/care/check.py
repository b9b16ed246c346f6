"""Verifying a whole library: database integrity, every original and every consent's signed
form re-hashed, strays found.

It reports and never repairs: damage is shown to the person, who decides what to do. It may
run while another program (or this one's import) changes the library, so what is in flight
is told apart from damage: a file that looks missing or stray is looked at again against the
database as it is at the end, and temporary files are reported only while nobody holds the
library for changes. Links are never followed: a link in ``originals/`` is reported as one.
"""

from __future__ import annotations

import enum
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from tracker.core.care.check_report import CheckReport, Problem
from tracker.core.db import schema, snapshots
from tracker.core.db.models import Photo
from tracker.core.errors import EncryptedFileRefused
from tracker.core.files import sha256_of
from tracker.core.services import audit
from tracker.core.services.consent_forms import StoredForm, forms_now, stored_forms
from tracker.core.store.library import Library
from tracker.core.store.lock import in_use
from tracker.core.store.photos import UNDONE

ORIGINALS = "originals"


# -- reading the library's files without following links ----------------------------------------


class Refusal(enum.Enum):
    """Why a file the library names cannot be read as one of its own."""

    MISSING = "missing"
    LINK = "link"  # it, or a folder on its way, is a link: it may point anywhere
    NOT_A_FILE = "not a file"  # a folder, a pipe, a device


def open_stored(root: Path, relpath: str) -> BinaryIO | Refusal:
    """Open ``root/relpath`` for reading only if it is a regular file reached through real
    folders: a link planted in the library (to ``/etc/shadow``) is never followed."""
    path = root
    for part in relpath.split("/")[:-1]:
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return Refusal.MISSING
        if stat.S_ISLNK(mode):
            return Refusal.LINK
        if not stat.S_ISDIR(mode):
            return Refusal.MISSING
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        mode = os.lstat(root / relpath).st_mode
        if stat.S_ISLNK(mode):
            return Refusal.LINK
        if not stat.S_ISREG(mode):  # a pipe would block the open itself
            return Refusal.NOT_A_FILE
        fd = os.open(root / relpath, flags)
    except FileNotFoundError:
        return Refusal.MISSING
    except OSError:  # swapped for a link since the look (ELOOP), or unreadable
        return Refusal.LINK if os.path.islink(root / relpath) else Refusal.NOT_A_FILE
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return Refusal.NOT_A_FILE
    return os.fdopen(fd, "rb")


def in_flight(root: Path, sha256: str, ext: str) -> Path | None:
    """Where an original that is not in ``originals/`` is while work on it is under way: an
    import staged it and has committed its row but not moved it yet, or an undo or erase has
    moved it aside and not yet removed its rows. Either holds exactly its bytes."""
    for path in (
        root / "tmp" / f"{sha256}.{ext}.staged",
        root / "tmp" / UNDONE / f"{sha256}.{ext}",
    ):
        if path.is_file() and not path.is_symlink():
            return path
    return None


def scan_originals(root: Path) -> Iterator[tuple[str, Refusal | None]]:
    """Every entry under ``originals/`` as (relative path, None for a regular file, else why
    it is not one), links reported and never followed."""
    top = root / ORIGINALS
    if top.is_symlink():
        yield ORIGINALS, Refusal.LINK
        return
    if not top.is_dir():
        return
    for sub in sorted(os.scandir(top), key=lambda e: e.name):
        rel = f"{ORIGINALS}/{sub.name}"
        if sub.is_symlink():
            yield rel, Refusal.LINK
        elif sub.is_dir(follow_symlinks=False):
            for entry in sorted(os.scandir(sub.path), key=lambda e: e.name):
                yield f"{rel}/{entry.name}", _what(entry)
        else:
            yield rel, _what(sub)


def _what(entry: os.DirEntry[str]) -> Refusal | None:
    if entry.is_symlink():
        return Refusal.LINK
    return None if entry.is_file(follow_symlinks=False) else Refusal.NOT_A_FILE


# -- the check ------------------------------------------------------------------------------------


def check_library(
    lib: Library,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    *,
    rehash: bool = True,
) -> CheckReport:
    """``progress(done, total, what)`` is called after each photo; ``cancel()`` stops early
    (the report then covers the photos checked so far). ``rehash=False`` skips reading the
    originals, for a caller that has just verified every byte itself (a restore).
    A library in a database gets the server's check (``server_check``) instead."""
    if lib.server is not None:
        # start-up time: the server's check is loaded for a server library only
        from tracker.core.care.server_check import check_server
        from tracker.core.store.server_library import ServerLibrary

        assert isinstance(lib, ServerLibrary)
        return check_server(lib, progress, cancel)
    report = CheckReport()
    _check_database(lib, report)
    report.problems.extend(Problem("audit", text) for text in audit.verify(lib))
    with lib.session() as s:
        photos = s.execute(select(Photo.id, Photo.sha256, Photo.ext)).all()
    entries = dict(scan_originals(lib.root))
    links = {rel for rel, why in entries.items() if why is Refusal.LINK}
    expected: dict[str, tuple[int, str, str]] = {}
    missing: list[tuple[int, str, str]] = []
    behind: dict[str, int] = {}  # folder links in originals/ → photos whose files they hide
    for n, (photo_id, sha256, ext) in enumerate(photos, start=1):
        if cancel and cancel():
            report.cancelled = True
            break
        if progress:
            progress(n, len(photos), "")
        relpath = lib.store.original_relpath(sha256, ext)
        expected[relpath] = (photo_id, sha256, ext)
        report.photos_checked += 1
        if relpath in links:
            report.problems.append(_linked(photo_id, relpath, sha256))
            continue
        folder = next((rel for rel in links if relpath.startswith(rel + "/")), None)
        if folder is not None:
            behind[folder] = behind.get(folder, 0) + 1
            continue
        if entries.get(relpath, Refusal.MISSING) is not None or (
            rehash and not _rehash(lib, photo_id, relpath, sha256, report)
        ):
            missing.append((photo_id, sha256, ext))
    forms = {} if report.cancelled else _check_forms(lib, entries, links, rehash, report)
    if not report.cancelled:
        report.problems.extend(_missing(lib, missing))
        strays = [
            rel
            for rel, why in entries.items()
            if why is None and rel not in expected and rel not in forms
        ]
        report.problems.extend(_orphans(lib, strays))
        for rel in sorted(links - set(expected) - set(forms)):
            report.problems.append(_stray_link(lib.root, rel, behind.get(rel, 0)))
        report.problems.extend(
            _stray_entry(rel) for rel, why in entries.items() if why is Refusal.NOT_A_FILE
        )
    if not in_use(lib.root):
        report.problems.extend(_leftovers(lib))
    return report


def named_now(lib: Library) -> dict[str, str]:
    """sha256 → extension of every photo in the database as it is now (a fresh read: what
    was committed while other work ran is in it)."""
    with lib.session() as s:
        return {sha: ext for sha, ext in s.execute(select(Photo.sha256, Photo.ext))}


def _check_forms(
    lib: Library,
    entries: dict[str, Refusal | None],
    links: set[str],
    rehash: bool,
    report: CheckReport,
) -> dict[str, StoredForm]:
    """Check every consent's signed form as the photos' originals are (``services.
    consent_forms``); the forms by relative path (those the consents name)."""
    with lib.session() as s:
        forms = {f.relpath: f for f in stored_forms(s)}
    missing = []
    for rel, form in forms.items():
        if rel in links or any(rel.startswith(link + "/") for link in links):
            report.problems.append(
                Problem(
                    "link",
                    f"Consent {form.consent_id}'s signed form {rel} is reached through a link, "
                    "not a file in the library; it was not followed. Move the link out with "
                    "'tracker repair quarantine', then attach the form again.",
                    form.sha256,
                )
            )
        elif entries.get(rel, Refusal.MISSING) is not None:
            missing.append(form)
        elif rehash:
            problem = _rehash_form(lib, form)
            if isinstance(problem, Problem):
                report.problems.append(problem)
            elif problem is Refusal.MISSING:
                missing.append(form)
    if missing:
        now = {f.relpath for f in forms_now(lib)}
        for form in missing:
            rel = form.relpath
            if rel not in now or in_flight(lib.root, form.sha256, form.ext) is not None:
                continue
            opened = open_stored(lib.root, rel)
            if not isinstance(opened, Refusal):
                opened.close()
                continue
            report.problems.append(
                Problem(
                    "missing_form",
                    f"Consent {form.consent_id}'s signed form {rel} is missing. Restore it "
                    "from a backup, or attach the same form again ('tracker consent form "
                    f"{form.consent_id} --attach FILE').",
                    form.sha256,
                )
            )
    return forms


def _rehash_form(lib: Library, form: StoredForm) -> Problem | Refusal | None:
    """Read a form whole (decrypted as it is read in an encrypted library): a problem when
    it is not what was attached, MISSING when it went since the folder was read."""
    rel = form.relpath
    opened = open_stored(lib.root, rel)
    if isinstance(opened, Refusal):
        return Refusal.MISSING
    remedy = "Restore it from a backup, or attach the same form again."
    try:
        with lib.store.plain_reader(opened, form.sha256, form.ext, f"its signed form {rel}") as fh:
            intact = sha256_of(fh) == form.sha256
    except EncryptedFileRefused as exc:
        return Problem("changed_form", f"Consent {form.consent_id}: {exc} {remedy}", form.sha256)
    if intact:
        return None
    return Problem(
        "changed_form",
        f"Consent {form.consent_id}'s signed form {rel} has changed since it was attached "
        f"(its contents no longer match). {remedy}",
        form.sha256,
    )


def _check_database(lib: Library, report: CheckReport) -> None:
    with lib.engine.connect() as conn:
        for (line,) in conn.exec_driver_sql("PRAGMA integrity_check").fetchall():
            if line != "ok":
                report.problems.append(Problem("database", f"The database is damaged: {line}."))
        for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall():
            report.problems.append(
                Problem("orphan_row", f"Row {rowid} of table {table} refers to a missing {parent}.")
            )
        # A trigger or a view planted in the file runs or answers in the app's place.
        for sentence in schema.unexpected_schema(conn):
            report.problems.append(
                Problem(
                    "database",
                    f"{sentence} It could change or hide records: restore the newest snapshot "
                    "('tracker repair restore-snapshot') or a backup archive.",
                )
            )


def _rehash(lib: Library, photo_id: int, relpath: str, sha256: str, report: CheckReport) -> bool:
    """Read the original whole and report it if it changed; False when it could not be read
    (gone since the folder was read: it is looked at again with the missing ones). In an
    encrypted library it is decrypted as it is read: one that is damaged, cut short or not
    this photo's (swapped in from another library, or another photo's) is reported so."""
    opened = open_stored(lib.root, relpath)
    if isinstance(opened, Refusal):
        return False
    ext = relpath.rpartition(".")[2]
    try:
        with lib.store.plain_reader(opened, sha256, ext, f"its original {relpath}") as fh:
            intact = sha256_of(fh) == sha256
    except EncryptedFileRefused as exc:
        report.problems.append(
            Problem(
                "changed_original",
                f"Photo {photo_id}: {exc} Restore it from a backup, or relink it from a folder "
                "that holds the file as it was imported.",
                sha256,
            )
        )
        return True
    if not intact:
        report.problems.append(
            Problem(
                "changed_original",
                f"Photo {photo_id}: its original {relpath} has changed since it was imported "
                "(its contents no longer match). Restore it from a backup, or relink it from "
                "a folder that holds the file as it was imported.",
                sha256,
            )
        )
    return True


def _missing(lib: Library, candidates: list[tuple[int, str, str]]) -> list[Problem]:
    """The candidates still missing now: a photo erased meanwhile is no longer named, and one
    whose file arrived (an import finishing) or is in flight is not missing."""
    if not candidates:
        return []
    live = named_now(lib)
    out = []
    for photo_id, sha256, ext in candidates:
        relpath = lib.store.original_relpath(sha256, ext)
        if sha256 not in live or in_flight(lib.root, sha256, ext) is not None:
            continue
        opened = open_stored(lib.root, relpath)
        if not isinstance(opened, Refusal):
            opened.close()
            continue
        out.append(
            Problem(
                "missing_original",
                f"Photo {photo_id}: its original {relpath} is missing. "
                "Restore it from a backup or relink it from a folder that holds the file.",
                sha256,
            )
        )
    return out


def _orphans(lib: Library, candidates: list[str]) -> list[Problem]:
    """Files that belong to no photo, looked at again against the database as it is now: an
    import commits a photo's row before it moves its file in, so a file that arrived while
    the check ran has its row by now."""
    if not candidates:
        return []
    named = {lib.store.original_relpath(sha, ext) for sha, ext in named_now(lib).items()}
    named |= {form.relpath for form in forms_now(lib)}
    return [
        Problem(
            "orphan_file",
            f"{rel} is in the originals folder but belongs to no photo in the database. "
            "It was left untouched; move it elsewhere if you do not need it "
            "('tracker repair quarantine' does).",
        )
        for rel in candidates
        if rel not in named and os.path.lexists(lib.root / rel)
    ]


def _linked(photo_id: int, relpath: str, sha256: str) -> Problem:
    return Problem(
        "link",
        f"Photo {photo_id}: its original {relpath} is a link to somewhere else, not a file in "
        "the library; it was not followed. Move the link out with 'tracker repair quarantine', "
        "then relink the original from a folder that holds it.",
        sha256,
    )


def _stray_link(root: Path, rel: str, photos: int) -> Problem:
    """A link in ``originals/`` that is no photo's file: a planted one, or a folder on the
    way to ``photos`` photos' originals, which were not read through it."""
    try:
        target = f" (to {os.readlink(root / rel)})"
    except OSError:
        target = ""
    if not photos:
        return Problem(
            "link",
            f"{rel} is a link{target}, not part of the library; it was not followed. "
            "Move it out with 'tracker repair quarantine'.",
        )
    return Problem(
        "link",
        f"{rel} is a link{target}, not a folder of the library, so the originals of {photos} "
        "photo(s) behind it were not read (links are never followed). Move it out with "
        "'tracker repair quarantine', then relink the originals from a folder that holds them.",
    )


def _stray_entry(rel: str) -> Problem:
    return Problem(
        "orphan_file",
        f"{rel} is in the originals folder but is not a photo's file (a folder, a device or a "
        "pipe). It was left untouched; move it elsewhere.",
    )


def _leftovers(lib: Library) -> list[Problem]:
    """What interrupted work left in the folder. Only reported while nobody holds the library
    for changes: a writer's temporary files are its work in flight, and the next program to
    open the library for changes removes them."""
    found = list(lib.store.temp_files())
    for folder in (lib.root, lib.root / "backups"):
        found += [str(p.relative_to(lib.root)) for p in snapshots.stale_copies(folder)]
    return [
        Problem(
            "temp_file",
            f"{relpath} is an unfinished temporary file; it is removed the next time the "
            "library is opened for changes.",
        )
        for relpath in found
    ]
