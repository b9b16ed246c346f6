"""Importing photo files into the library.

Each file is read once; the bytes are hashed, checked and shrunk to a thumbnail and a preview
on a pool of threads (hashing and Pillow's decoders release the GIL, so every core works),
and staged durably in ``tmp/``. The calling thread then records each photo in its own
transaction and moves its original into place, in the order the files were given; see
``tracker.core.store.photos`` for why a photo is either fully imported or absent after a crash.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from tracker.core.db.models import Client, DateSource, Photo, Visit, VisitKind
from tracker.core.errors import ImageRejected, LibraryError, UsageError
from tracker.core.files import sha256_of
from tracker.core.imaging import decode as imaging
from tracker.core.text import check_name, display_path

if TYPE_CHECKING:
    from tracker.core.store.library import Library

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]


@dataclass
class Imported:
    file: str
    photo_id: int
    visit_id: int
    sha256: str
    taken_at: str
    date_source: str
    width: int
    height: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class Duplicate:
    file: str
    photo_id: int
    # True when the stored photo had been removed and this import brought it back.
    restored: bool = False


@dataclass
class Rejected:
    file: str
    error: str


@dataclass
class ImportReport:
    imported: list[Imported] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    cancelled: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "imported": [vars(i) for i in self.imported],
            "duplicates": [vars(d) for d in self.duplicates],
            "rejected": [vars(r) for r in self.rejected],
        }


@dataclass
class _Prepared:
    """What a worker hands back for one file: a staged original ready to be recorded."""

    file: str
    sha256: str
    decoded: imaging.DecodedPhoto
    staged: Path
    file_time: imaging.CaptureTime | None


@dataclass
class _SameAsOther:
    """The file's bytes equal another file's in this batch (or one already stored)."""

    file: str
    sha256: str


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files to import: folders are walked (sorted, hidden entries skipped), files kept as given."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                out.extend(Path(dirpath) / f for f in sorted(filenames) if not f.startswith("."))
        else:
            out.append(path)
    return out


class _Claims:
    """Which content hashes are taken, shared by the worker threads of one batch.

    When two files in a batch have the same bytes, the one given first is imported and the
    other reported as its duplicate, whichever thread happens to hash first.
    """

    def __init__(self, stored: set[str]) -> None:
        self._stored = stored
        self._first: dict[str, int] = {}
        self._lock = threading.Lock()

    def claim(self, sha256: str, index: int) -> bool:
        with self._lock:
            if sha256 in self._stored or self._first.get(sha256, index) < index:
                return False
            self._first[sha256] = index
            return True


def _prepare(lib: Library, path: Path, index: int, claims: _Claims) -> _Prepared | _SameAsOther:
    name = str(path)
    try:
        with path.open("rb") as fh:
            data = fh.read()
            mtime = os.fstat(fh.fileno()).st_mtime
    except IsADirectoryError as exc:
        raise ImageRejected("it is a folder, not a file") from exc
    except FileNotFoundError as exc:
        raise ImageRejected("the file does not exist") from exc
    except PermissionError as exc:
        raise ImageRejected("the file cannot be read (permission denied)") from exc
    except OSError as exc:
        raise ImageRejected(
            f"the file cannot be read ({exc.strerror or 'input/output error'})"
        ) from exc
    imaging.sniff(data[:64])  # refuse non-photos before spending a hash on them
    sha256 = hashlib.sha256(data).hexdigest()
    if not claims.claim(sha256, index):
        return _SameAsOther(name, sha256)
    decoded = imaging.decode(data)
    staged = lib.store.stage_original(data, sha256, decoded.ext)
    # The cache is written here, on the worker threads, in parallel. Should the photo then not
    # be recorded, its cache files are harmless: the cache holds nothing that is not rebuilt.
    try:
        lib.store.write_cache("thumbs", sha256, decoded.thumbnail)
        if decoded.preview is not None:
            lib.store.write_cache("previews", sha256, decoded.preview)
    except LibraryError:
        log.warning("Could not write the cache for a photo; it will be rebuilt when needed")
    return _Prepared(name, sha256, decoded, staged, imaging.capture_time_from_mtime(mtime))


class _Batch:
    """Records prepared photos one transaction each, grouping them into visits."""

    def __init__(
        self, lib: Library, client: str | None, area: str, view: str, date: dt.date | None
    ) -> None:
        self.lib = lib
        self.client_name = client
        self.area_name = area
        self.view = view
        self.date = date
        self.by_sha: dict[str, int] = {}
        # Visits this batch created, so a baseline it set can move to an earlier date.
        self.auto_baseline: int | None = None

    def record(self, prep: _Prepared) -> Imported:
        decoded = prep.decoded
        if self.date is not None:
            capture = imaging.CaptureTime(dt.datetime.combine(self.date, dt.time()), None)
            source = DateSource.GIVEN
        elif decoded.capture_time is not None:
            capture, source = decoded.capture_time, DateSource.EXIF
        else:
            assert prep.file_time is not None
            capture, source = prep.file_time, DateSource.FILE
        try:
            photo_id, visit_id = self._insert(prep, capture, source)
        except BaseException:
            # Nothing was committed: the staged original must not outlive the failed record.
            self.lib.store.discard_staged(prep.staged)
            raise
        # Committed: from here on, a crash or failure is rolled forward by PhotoStore.recover().
        try:
            self.lib.store.commit_staged(prep.staged)
        except OSError as exc:
            raise LibraryError(
                f"{display_path(prep.file)} was recorded but its file could not be moved into the "
                f"library ({exc.strerror}); it will be finished the next time the library is opened."
            ) from exc
        self.by_sha[prep.sha256] = photo_id
        warnings = [f"{display_path(prep.file)}: {w}." for w in decoded.warnings]
        return Imported(
            file=prep.file,
            photo_id=photo_id,
            visit_id=visit_id,
            sha256=prep.sha256,
            taken_at=capture.isoformat(),
            date_source=source.value,
            width=decoded.width,
            height=decoded.height,
            warnings=warnings,
        )

    def _insert(
        self, prep: _Prepared, capture: imaging.CaptureTime, source: DateSource
    ) -> tuple[int, int]:
        """One transaction: client, area and visit as needed, and the photo's row."""
        decoded = prep.decoded
        with self.lib.session() as s:
            client = self.lib.resolve_client(s, self.client_name, create=True)
            area = self.lib.resolve_area(s, client, self.area_name, create=True)
            visit = self._visit_for(s, client, capture.local.date())
            photo = Photo(
                visit_id=visit.id,
                area_id=area.id,
                view=self.view,
                taken_at=capture.local,
                utc_offset_min=capture.utc_offset_min,
                date_source=source,
                width=decoded.width,
                height=decoded.height,
                sha256=prep.sha256,
                ext=decoded.ext,
                format=decoded.format,
                file_size=prep.staged.stat().st_size,
                original_name=Path(prep.file).name,
            )
            s.add(photo)
            s.flush()
            return photo.id, visit.id

    def _visit_for(self, s: Any, client: Client, day: dt.date) -> Visit:
        visit = s.scalar(select(Visit).where(Visit.client_id == client.id, Visit.date == day))
        if visit is not None:
            return visit
        baseline = s.scalar(
            select(Visit).where(Visit.client_id == client.id, Visit.kind == VisitKind.BASELINE)
        )
        kind = VisitKind.BASELINE if baseline is None else VisitKind.CHECK_IN
        if baseline is not None and baseline.id == self.auto_baseline and day < baseline.date:
            # This batch made that baseline from a later photo: the earliest is the baseline.
            baseline.kind = VisitKind.CHECK_IN
            s.flush()
            kind = VisitKind.BASELINE
        visit = Visit(client_id=client.id, date=day, kind=kind)
        s.add(visit)
        s.flush()
        if kind == VisitKind.BASELINE:
            self.auto_baseline = visit.id
        return visit


def import_files(
    lib: Library,
    files: Sequence[Path],
    *,
    area: str,
    client: str | None = None,
    view: str | None = None,
    date: dt.date | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import ``files`` (folders are walked) into ``area`` of ``client``.

    Bad files never stop the batch: each is reported with the reason. ``progress(done, total,
    file)`` is called on the calling thread after each file; ``cancel()`` returning True stops
    the batch after the photos already recorded, leaving nothing half-done.
    """
    area = check_name(area, "area name")
    view = check_name(view, "view name") if view is not None else "front"
    if client is not None:
        client = check_name(client, "client name")
    with lib.session() as s:
        lib.resolve_client(s, client, create=True, dry_run=True)
        stored = set(s.scalars(select(Photo.sha256)))
    paths = expand_paths(files)
    report = ImportReport()
    batch = _Batch(lib, client, area, view, date)
    claims = _Claims(stored)
    same_as_other: list[_SameAsOther] = []
    workers = workers or os.cpu_count() or 1
    total = len(paths)
    done = 0

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import") as pool:
        pending: deque[tuple[Path, Future[_Prepared | _SameAsOther]]] = deque()
        queue = iter(enumerate(paths))

        def refill() -> None:
            # A bounded window keeps memory flat: each in-flight file holds its bytes.
            while len(pending) < workers * 2 and not (cancel and cancel()):
                index, path = next(queue, (-1, None))
                if path is None:
                    return
                pending.append((path, pool.submit(_prepare, lib, path, index, claims)))

        refill()
        while pending:
            path, future = pending.popleft()
            if cancel and cancel():
                report.cancelled = True
                _discard(lib, future, *(f for _, f in pending))
                break
            try:
                outcome = future.result()
                if isinstance(outcome, _SameAsOther):
                    same_as_other.append(outcome)
                elif outcome.sha256 in batch.by_sha:
                    # A later file with the same bytes, hashed before the earlier one claimed them.
                    lib.store.discard_staged(outcome.staged)
                    report.duplicates.append(Duplicate(outcome.file, batch.by_sha[outcome.sha256]))
                else:
                    report.imported.append(batch.record(outcome))
            except ImageRejected as exc:
                report.rejected.append(Rejected(str(path), _sentence(path, str(exc))))
            except IntegrityError:
                report.rejected.append(
                    Rejected(
                        str(path),
                        _sentence(
                            path, "another program changed the library at the same time; try again"
                        ),
                    )
                )
            except OperationalError as exc:
                _discard(lib, *(f for _, f in pending))
                raise LibraryError(
                    f"The library database could not be written ({exc.orig}); "
                    "the photos recorded before this one are kept, nothing else was changed."
                ) from exc
            except LibraryError as exc:
                _discard(lib, *(f for _, f in pending))
                n = len(report.imported)
                raise LibraryError(
                    f"{exc} The import stopped at {display_path(path.name)}: "
                    f"{n} photo{'s' if n != 1 else ''} before it {'were' if n != 1 else 'was'} imported, "
                    "nothing else was changed."
                ) from exc
            except BaseException:
                _discard(lib, *(f for _, f in pending))
                raise
            done += 1
            if progress:
                progress(done, total, str(path))
            refill()

    for dup in same_as_other:
        photo_id = batch.by_sha.get(dup.sha256) or lib.photo_id_for_sha(dup.sha256)
        if photo_id is not None:
            report.duplicates.append(Duplicate(dup.file, photo_id))
        else:
            report.rejected.append(
                Rejected(
                    dup.file,
                    _sentence(
                        Path(dup.file),
                        "it has the same contents as another file that could not be imported",
                    ),
                )
            )
    _bring_back_removed(lib, report)
    return report


def _bring_back_removed(lib: Library, report: ImportReport) -> None:
    """Importing a removed photo again restores it: the user wants it back, not a duplicate."""
    ids = {d.photo_id for d in report.duplicates}
    if not ids:
        return
    with lib.session() as s:
        removed = set(
            s.scalars(select(Photo.id).where(Photo.id.in_(ids), Photo.deleted_at.is_not(None)))
        )
        if removed:
            s.execute(update(Photo).where(Photo.id.in_(removed)).values(deleted_at=None))
    for dup in report.duplicates:
        dup.restored = dup.photo_id in removed


@dataclass(frozen=True)
class PlannedFile:
    """Where one file would land if imported now (or why it would not)."""

    file: str
    day: dt.date | None
    date_source: DateSource | None
    visit_date: dt.date | None
    # "existing", "new baseline" or "new check-in"; empty when the file will be refused.
    visit: str
    problem: str = ""
    # Why the photo will not be added again ("already in the library", "the same photo as
    # IMG_1.jpg"); "brought back" for one removed earlier, which importing restores.
    duplicate: str = ""


def plan_import(
    lib: Library,
    files: Sequence[Path],
    *,
    client: str | None = None,
    date: dt.date | None = None,
    cancel: CancelCheck | None = None,
) -> list[PlannedFile]:
    """Which visit each file would go to, from its capture date, without importing anything.

    Reads the files' headers (format and EXIF), and reads whole only the files whose size
    matches a photo in the library or another file given, to find duplicates; damage deeper in
    a file is found by the import itself.
    """
    with lib.session() as s:
        c = lib.resolve_client(s, client, create=True, dry_run=True)
        existing = (
            {v.date for v in s.scalars(select(Visit).where(Visit.client_id == c.id))}
            if c.id is not None
            else set()
        )
        has_baseline = c.id is not None and bool(
            s.scalar(
                select(func.count(Visit.id)).where(
                    Visit.client_id == c.id, Visit.kind == VisitKind.BASELINE
                )
            )
        )
    dated: list[tuple[str, dt.date | None, DateSource | None, str]] = []
    for path in expand_paths(files):
        if cancel and cancel():
            break
        try:
            capture, found = _header_date(path)  # also refuses what is not a photo
            if date is not None:
                dated.append((str(path), date, DateSource.GIVEN, ""))
            else:
                dated.append((str(path), capture.local.date(), found, ""))
        except ImageRejected as exc:
            dated.append((str(path), None, None, _sentence(path, str(exc))))
    readable = [i for i, (_f, _d, _src, problem) in enumerate(dated) if not problem]
    notes = _duplicates(lib, [dated[i][0] for i in readable], cancel)
    duplicates = {i: note for i, note in zip(readable, notes, strict=True) if note}
    # A duplicate lands nowhere new: it is skipped, or a removed photo returns to its visit.
    dated = [
        (f, None if i in duplicates else d, src, pr) for i, (f, d, src, pr) in enumerate(dated)
    ]
    new_days = sorted({d for _, d, _, p in dated if d is not None and not p} - existing)
    first_new = new_days[0] if new_days and not has_baseline else None
    plan = []
    for i, (file, day, source, problem) in enumerate(dated):
        if problem or day is None:
            plan.append(PlannedFile(file, None, None, None, "", problem, duplicates.get(i, "")))
            continue
        kind = (
            "existing"
            if day in existing
            else "new baseline"
            if day == first_new
            else "new check-in"
        )
        plan.append(PlannedFile(file, day, source, day, kind, "", duplicates.get(i, "")))
    return plan


def _duplicates(lib: Library, files: Sequence[str], cancel: CancelCheck | None = None) -> list[str]:
    """For each of ``files`` (in order, a path given twice counted twice): why it will not be
    added ("already in the library", "the same photo as X"), "brought back" for the first copy
    of a removed photo, or "". Only files whose size matches a stored photo or another file
    given are read and hashed, so new photos cost a stat each."""
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
    notes = []
    first: dict[str, str] = {}
    for file in files:
        sha = hashes.get(file)
        if sha is None:
            notes.append("")
        elif sha in known and known[sha] is None:
            notes.append("already in the library")
        elif sha in first:
            notes.append(f"the same photo as {Path(first[sha]).name}")
        else:
            first[sha] = file
            notes.append("brought back" if sha in known else "")
    return notes


def _header_date(path: Path) -> tuple[imaging.CaptureTime, DateSource]:
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
            mtime = os.fstat(fh.fileno()).st_mtime
            imaging.sniff(head)
            fh.seek(0)
            capture = imaging.header_capture_time(fh)
    except ImageRejected:
        raise
    except OSError as exc:
        raise ImageRejected(
            f"the file cannot be read ({exc.strerror or 'input/output error'})"
        ) from exc
    if capture is not None:
        return capture, DateSource.EXIF
    return imaging.capture_time_from_mtime(mtime), DateSource.FILE


def _discard(lib: Library, *futures: Future[_Prepared | _SameAsOther]) -> None:
    """Drop work that will not be recorded (cancel or failure), removing staged originals."""
    for future in futures:
        future.cancel()
    for future in futures:
        if future.cancelled():
            continue
        try:
            outcome = future.result()
        except Exception:
            continue
        if isinstance(outcome, _Prepared):
            lib.store.discard_staged(outcome.staged)


def _sentence(path: Path, reason: str) -> str:
    return f"{display_path(str(path))} was not imported: {reason}."


def check_date(value: str) -> dt.date:
    """A YYYY-MM-DD date from the user, or UsageError naming what is wrong."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"'{value}' is not a date; write it as YYYY-MM-DD, e.g. 2025-03-14."
        ) from None
