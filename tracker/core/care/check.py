"""Verifying a whole library: database integrity, every original re-hashed, strays found.

It reports and never repairs: damage is shown to the person, who decides what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from tracker.core.db.models import Photo
from tracker.core.store.library import Library


@dataclass
class Problem:
    kind: str
    detail: str
    sha256: str = ""  # the photo's, for a missing or changed original


@dataclass
class CheckReport:
    problems: list[Problem] = field(default_factory=list)
    photos_checked: int = 0
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "photos_checked": self.photos_checked,
            "problems": [vars(p) for p in self.problems],
        }


def check_library(
    lib: Library,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    *,
    rehash: bool = True,
) -> CheckReport:
    """``progress(done, total, what)`` is called after each photo; ``cancel()`` stops early
    (the report then covers the photos checked so far). ``rehash=False`` skips reading the
    originals, for a caller that has just verified every byte itself (a restore)."""
    report = CheckReport()
    with lib.engine.connect() as conn:
        for (line,) in conn.exec_driver_sql("PRAGMA integrity_check").fetchall():
            if line != "ok":
                report.problems.append(Problem("database", f"The database is damaged: {line}."))
        for table, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall():
            report.problems.append(
                Problem("orphan_row", f"Row {rowid} of table {table} refers to a missing {parent}.")
            )
    with lib.session() as s:
        photos = s.execute(select(Photo.id, Photo.sha256, Photo.ext)).all()
    expected: set[str] = {lib.store.original_relpath(sha, ext) for _, sha, ext in photos}
    for n, (photo_id, sha256, ext) in enumerate(photos, start=1):
        if cancel and cancel():
            report.cancelled = True
            break
        if progress:
            progress(n, len(photos), "")
        relpath = lib.store.original_relpath(sha256, ext)
        report.photos_checked += 1
        if not lib.store.has_original(sha256, ext):
            report.problems.append(
                Problem(
                    "missing_original",
                    f"Photo {photo_id}: its original {relpath} is missing. "
                    "Restore it from a backup or relink it from a folder that holds the file.",
                    sha256,
                )
            )
            continue
        if not rehash:
            continue
        if not lib.store.original_intact(sha256, ext):
            report.problems.append(
                Problem(
                    "changed_original",
                    f"Photo {photo_id}: its original {relpath} has changed since it was imported "
                    "(its contents no longer match). Restore it from a backup, or relink it from "
                    "a folder that holds the file as it was imported.",
                    sha256,
                )
            )
    for _, _, relpath in lib.store.iter_originals():
        if relpath not in expected:
            report.problems.append(
                Problem(
                    "orphan_file",
                    f"{relpath} is in the originals folder but belongs to no photo in the database. "
                    "It was left untouched; move it elsewhere if you do not need it.",
                )
            )
    for relpath in lib.store.temp_files():
        report.problems.append(
            Problem(
                "temp_file",
                f"{relpath} is an unfinished temporary file; it is removed the next time the library "
                "is opened while no import is running.",
            )
        )
    return report
