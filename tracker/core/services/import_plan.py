"""Where files would land if imported now, without importing anything: the window's preview.

It reads the files' headers (format and EXIF), and reads whole only the files whose size
matches a photo in the library or another file given, to find duplicates; damage deeper in a
file is found by the import itself.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
import logging
import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from tracker.core.db.models import DateSource, Photo, Visit, VisitKind
from tracker.core.domain import rules
from tracker.core.errors import ImageRejected, ValidationError
from tracker.core.files import expand_paths, sha256_of
from tracker.core.imaging.decode import decode
from tracker.core.imaging.exif import capture_time_from_mtime, header_capture_time
from tracker.core.imaging.facts import CaptureTime
from tracker.core.imaging.formats import sniff
from tracker.core.queries.browse import has_baseline
from tracker.core.services.import_reading import open_photo_file, read_failure, read_photo_file
from tracker.core.services.import_report import CancelCheck
from tracker.core.store.library import Library

log = logging.getLogger(__name__)


class DuplicateKind(enum.Enum):
    NO = "no"
    STORED = "already in the library"
    GIVEN_TWICE = "the same photo as another file given"
    BROUGHT_BACK = "removed earlier; importing it brings it back"


@dataclass(frozen=True)
class PlannedFile:
    """Where one file would land if imported now (or why it would not)."""

    file: str
    day: dt.date | None
    date_source: DateSource | None
    # The visit it goes to: None when the file is refused or not added again.
    visit_date: dt.date | None
    # The kind of the visit the import would create for it; None for an existing visit.
    new_kind: VisitKind | None = None
    problem: str = ""  # why the file will be refused (the reason alone), else ""
    duplicate: DuplicateKind = DuplicateKind.NO
    duplicate_of: str = ""  # for GIVEN_TWICE: the name of the file it is a copy of
    # With ``check``: a small JPEG of the photo, for the preview to show (None when refused).
    thumbnail: bytes | None = None

    @property
    def lands(self) -> bool:
        """Whether importing adds this file as a new photo."""
        return not self.problem and self.duplicate is DuplicateKind.NO


def plan_import(
    lib: Library,
    files: Sequence[Path],
    *,
    client_id: int | None = None,
    date: dt.date | None = None,
    kind: VisitKind | None = None,
    check: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: CancelCheck | None = None,
) -> list[PlannedFile]:
    """Which visit each file would go to, from its capture date (or ``date``), and the kind of
    each visit the import would make (``kind``, else ``rules.new_visit_kind``). ``client_id``
    None stands for a client the import would create.

    With ``check`` every file is read and decoded as the import will (on all cores), so that
    damaged and truncated files are found here, not only by the import, and each comes with
    a thumbnail; ``progress(done, total, file)`` follows it. Without, only headers are read.
    """
    existing: set[dt.date] = set()
    baseline = False
    if client_id is not None:
        with lib.session() as s:
            existing = set(s.scalars(select(Visit.date).where(Visit.client_id == client_id)))
            baseline = has_baseline(s, client_id)
    paths = expand_paths(files)
    thumbs: dict[int, bytes] = {}
    dated: list[tuple[str, dt.date | None, DateSource | None, str]] = []
    if check:
        for index, (file, capture, found, problem, thumb) in enumerate(
            _check_all(paths, progress, cancel)
        ):
            if problem or capture is None:
                dated.append((file, None, None, problem))
                continue
            thumbs[index] = thumb
            landing = date if date is not None else capture.local.date()
            dated.append((file, landing, DateSource.GIVEN if date is not None else found, ""))
    for path in paths if not check else ():
        if cancel and cancel():
            break
        try:
            capture, found = _header_date(path)  # also refuses what is not a photo
            if date is not None:
                dated.append((str(path), date, DateSource.GIVEN, ""))
            else:
                dated.append((str(path), capture.local.date(), found, ""))
        except ImageRejected as exc:
            dated.append((str(path), None, None, str(exc)))
    for i, (file, day, _source, problem) in enumerate(dated):
        if not problem and day is not None and day not in existing:
            try:  # the import would refuse a visit on this day: the preview says so first
                rules.check_visit_date(day)
            except ValidationError as exc:
                dated[i] = (file, None, None, f"its date {exc}")
    readable = [i for i, (_f, _d, _src, problem) in enumerate(dated) if not problem]
    notes = _duplicates(lib, [dated[i][0] for i in readable], cancel)
    duplicates = dict(zip(readable, notes, strict=True))
    new_days = sorted(
        {
            d
            for i, (_f, d, _s, p) in enumerate(dated)
            if d is not None and not p and duplicates[i][0] is DuplicateKind.NO
        }
        - existing
    )
    # The first new day is the baseline when the client has none: as the import decides it.
    kinds = {}
    for n, new_day in enumerate(new_days):
        kinds[new_day] = rules.new_visit_kind(kind, has_baseline=baseline or n > 0)
    plan = []
    for i, (file, day, source, problem) in enumerate(dated):
        dup, of = duplicates.get(i, (DuplicateKind.NO, ""))
        if problem or day is None or dup is not DuplicateKind.NO:
            plan.append(PlannedFile(file, day, source, None, None, problem, dup, of))
            continue
        plan.append(PlannedFile(file, day, source, day, kinds.get(day), thumbnail=thumbs.get(i)))
    return plan


Checked = tuple[str, CaptureTime | None, DateSource | None, str, bytes]


def _check_all(
    paths: Sequence[Path],
    progress: Callable[[int, int, str], None] | None,
    cancel: CancelCheck | None,
) -> list[Checked]:
    """Read and decode every file as the import will, in parallel; in the order given."""
    out: list[Checked] = []
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="plan") as pool:
        futures = [pool.submit(_check_one, path, cancel) for path in paths]
        for n, (path, future) in enumerate(zip(paths, futures, strict=True), start=1):
            out.append(future.result())
            if progress:
                progress(n, len(paths), str(path))
    return out


def _check_one(path: Path, cancel: CancelCheck | None) -> Checked:
    if cancel and cancel():
        return (str(path), None, None, "the check was stopped before this file", b"")
    try:
        data, mtime = read_photo_file(path)
        decoded = decode(data)
    except ImageRejected as exc:
        return (str(path), None, None, str(exc), b"")
    except Exception as exc:  # as the import would: this file's problem, said, and logged
        log.error("Checking one file failed unexpectedly", exc_info=exc)
        return (
            str(path),
            None,
            None,
            f"something unexpected went wrong with it ({type(exc).__name__}); "
            "the details are in the log file",
            b"",
        )
    if decoded.capture_time is not None:
        return (str(path), decoded.capture_time, DateSource.EXIF, "", decoded.thumbnail)
    return (str(path), capture_time_from_mtime(mtime), DateSource.FILE, "", decoded.thumbnail)


def _duplicates(
    lib: Library, files: Sequence[str], cancel: CancelCheck | None = None
) -> list[tuple[DuplicateKind, str]]:
    """For each of ``files`` (in order, a path given twice counted twice): whether it is
    already stored, a copy of an earlier file given (and which), or a removed photo that
    importing brings back. Only files whose size matches a stored photo or another file given
    are read and hashed, so new photos cost a stat each."""
    sizes: dict[str, int] = {}
    for file in files:
        with contextlib.suppress(OSError):
            sizes[file] = os.stat(file).st_size
    with lib.session() as s:
        stored_sizes = set(s.scalars(select(Photo.file_size).distinct()))
    same_size = Counter(sizes[f] for f in files if f in sizes)
    hashes: dict[str, str] = {}
    for file, size in sizes.items():
        if cancel and cancel():
            break
        if size not in stored_sizes and same_size[size] < 2:
            continue
        try:
            with open(file, "rb") as fh:
                hashes[file] = sha256_of(fh)
        except OSError:
            continue  # the import says why it cannot read it
    with lib.session() as s:
        known = dict(
            s.execute(
                select(Photo.sha256, Photo.deleted_at).where(Photo.sha256.in_(set(hashes.values())))
            ).all()
        )
    notes: list[tuple[DuplicateKind, str]] = []
    first: dict[str, str] = {}
    for file in files:
        sha = hashes.get(file)
        if sha is None:
            notes.append((DuplicateKind.NO, ""))
        elif sha in known and known[sha] is None:
            notes.append((DuplicateKind.STORED, ""))
        elif sha in first:
            notes.append((DuplicateKind.GIVEN_TWICE, Path(first[sha]).name))
        else:
            first[sha] = file
            notes.append(
                (DuplicateKind.BROUGHT_BACK, "") if sha in known else (DuplicateKind.NO, "")
            )
    return notes


def _header_date(path: Path) -> tuple[CaptureTime, DateSource]:
    try:
        with open_photo_file(path) as (fh, info):
            sniff(fh.read(64))
            fh.seek(0)
            capture = header_capture_time(fh)
            mtime = info.st_mtime
    except OSError as exc:
        raise read_failure(exc) from exc
    if capture is not None:
        return capture, DateSource.EXIF
    return capture_time_from_mtime(mtime), DateSource.FILE
