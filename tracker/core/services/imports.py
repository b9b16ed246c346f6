"""Importing photo files into the library, and taking an import back (the window's undo).

Each file is read once; the bytes are hashed, checked and shrunk to a thumbnail and a preview
on a pool of threads (hashing and Pillow's decoders release the GIL, so every core works),
and staged durably in ``tmp/``. The calling thread then records each photo in its own
transaction and moves its original into place, in the order the files were given; see
``tracker.core.store.photos`` for why a photo is either fully imported or absent after a crash.

The photos go to one area, given by id or as a ``NewArea`` made with the first photo recorded
(so a batch of refused files leaves no empty area behind). Visits are found or made by
capture date; the kind of a new visit is ``rules.new_visit_kind``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from tracker.core.db.models import Area, Client, DateSource, Photo, Visit, VisitKind
from tracker.core.domain import rules
from tracker.core.errors import ImageRejected, LibraryError, StorageError, UsageError
from tracker.core.files import expand_paths
from tracker.core.imaging import decode as imaging
from tracker.core.imaging.exif import CaptureTime, capture_time_from_mtime
from tracker.core.imaging.formats import sniff
from tracker.core.queries.browse import get, has_baseline
from tracker.core.services.clients import create_area, create_client
from tracker.core.services.visits import create_visit
from tracker.core.store.library import Library
from tracker.core.text import check_name, display_path

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, str], None]
CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class NewArea:
    """An area to create with the first photo imported into it. ``client`` is an existing
    client's id, or the name of a client to create with it."""

    name: str
    client: int | str


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
    # The file of this import it is a copy of; empty when the library held the photo already.
    copy_of: str = ""


@dataclass
class Rejected:
    file: str
    error: str  # a whole sentence naming the file ("X was not imported: it is a GIF image…")
    reason: str = ""  # the same reason on its own, for a table that names the file already


@dataclass
class ImportReport:
    imported: list[Imported] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    cancelled: bool = False
    # What the import made besides photos, so that an undo can take it all back.
    client_id: int | None = None
    area_id: int | None = None
    created_client: bool = False
    created_area: bool = False
    created_visits: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``tracker import --json`` object (docs/CLI.md)."""
        return {
            "imported": [vars(i) for i in self.imported],
            "duplicates": [
                {"file": d.file, "photo_id": d.photo_id, "restored": d.restored}
                for d in self.duplicates
            ],
            "rejected": [{"file": r.file, "error": r.error} for r in self.rejected],
        }

    @property
    def brought_back(self) -> list[int]:
        return [d.photo_id for d in self.duplicates if d.restored]


@dataclass
class _Prepared:
    """What a worker hands back for one file: a staged original ready to be recorded."""

    file: str
    sha256: str
    decoded: imaging.DecodedPhoto
    staged: Path
    file_time: CaptureTime | None


@dataclass
class _SameAsOther:
    """The file's bytes equal another file's in this batch (or one already stored)."""

    file: str
    sha256: str


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


def read_failure(exc: OSError) -> ImageRejected:
    """Why a file offered for import could not be read, by the kind of OS error."""
    if isinstance(exc, IsADirectoryError):
        return ImageRejected("it is a folder, not a file")
    if isinstance(exc, FileNotFoundError):
        return ImageRejected("the file does not exist")
    if isinstance(exc, PermissionError):
        return ImageRejected("the file cannot be read (permission denied)")
    return ImageRejected(f"the file cannot be read ({exc.strerror or 'input/output error'})")


def _prepare(lib: Library, path: Path, index: int, claims: _Claims) -> _Prepared | _SameAsOther:
    name = str(path)
    try:
        with path.open("rb") as fh:
            data = fh.read()
            mtime = os.fstat(fh.fileno()).st_mtime
    except OSError as exc:
        raise read_failure(exc) from exc
    sniff(data[:64])  # refuse non-photos before spending a hash on them
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
    return _Prepared(name, sha256, decoded, staged, capture_time_from_mtime(mtime))


class _Batch:
    """Records prepared photos one transaction each, grouping them into visits."""

    def __init__(
        self,
        lib: Library,
        area: int | NewArea,
        view: str,
        date: dt.date | None,
        kind: VisitKind | None,
        report: ImportReport,
    ) -> None:
        self.lib = lib
        self.area = area
        self.view = view
        self.date = date
        self.kind = kind
        self.report = report
        self.by_sha: dict[str, int] = {}
        self.file_by_sha: dict[str, str] = {}
        # The baseline this batch made, so that it can move to an earlier date in the batch.
        self.auto_baseline: int | None = None

    def record(self, prep: _Prepared) -> Imported:
        decoded = prep.decoded
        if self.date is not None:
            capture = CaptureTime(dt.datetime.combine(self.date, dt.time()), None)
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
        self.file_by_sha[prep.sha256] = prep.file
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

    def _destination(self, s: Session) -> tuple[Client, Area]:
        """The client and area, made in this transaction if they do not exist yet."""
        if isinstance(self.area, int):
            area = get(s, Area, self.area, "area")
            return area.client, area
        target = self.area
        created_client = False
        if isinstance(target.client, int):
            client = get(s, Client, target.client, "client")
        else:
            found = s.scalar(select(Client).where(Client.name == target.client))
            client = found if found is not None else create_client(s, target.client)
            created_client = found is None
        found_area = s.scalar(
            select(Area).where(Area.client_id == client.id, Area.name == target.name)
        )
        created_area = found_area is None
        area = found_area if found_area is not None else create_area(s, client, target.name)
        # Once committed, later photos of the batch go to it by id.
        self.area = area.id
        self.report.created_client |= created_client
        self.report.created_area |= created_area
        return client, area

    def _insert(self, prep: _Prepared, capture: CaptureTime, source: DateSource) -> tuple[int, int]:
        """One transaction: client, area and visit as needed, and the photo's row."""
        decoded = prep.decoded
        with self.lib.session() as s:
            client, area = self._destination(s)
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
            self.report.client_id, self.report.area_id = client.id, area.id
            return photo.id, visit.id

    def _visit_for(self, s: Session, client: Client, day: dt.date) -> Visit:
        visit = s.scalar(select(Visit).where(Visit.client_id == client.id, Visit.date == day))
        if visit is not None:
            return visit
        if self.kind is None and self.auto_baseline is not None:
            baseline = s.get(Visit, self.auto_baseline)
            if baseline is not None and day < baseline.date:
                # This batch made the baseline from a later photo: the earliest is the baseline,
                # and the one it replaces becomes what any later visit would be.
                baseline.kind = rules.new_visit_kind(None, has_baseline=True)
                s.flush()
        made_baseline = self.kind is None and not has_baseline(s, client.id)
        visit = create_visit(s, client, day, self.kind)
        if made_baseline:
            self.auto_baseline = visit.id
        self.report.created_visits.append(visit.id)
        return visit


def import_files(
    lib: Library,
    files: Sequence[Path],
    area: int | NewArea,
    *,
    view: str | None = None,
    date: dt.date | None = None,
    kind: VisitKind | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    workers: int | None = None,
) -> ImportReport:
    """Import ``files`` (folders are walked) into ``area``.

    Bad files never stop the batch: each is reported with the reason. ``date`` puts every
    photo in the visit of that day; ``kind`` is the kind of every visit the import creates
    (without it, ``rules.new_visit_kind``). ``progress(done, total, file)`` is called on the
    calling thread after each file; ``cancel()`` returning True stops the batch after the
    photos already recorded, leaving nothing half-done.
    """
    lib.require_writable()
    view = check_name(view, "view name") if view is not None else "front"
    if isinstance(area, NewArea):
        area = NewArea(
            check_name(area.name, "area name"),
            area.client if isinstance(area.client, int) else check_name(area.client, "client name"),
        )
    with lib.session() as s:
        if isinstance(area, int):
            get(s, Area, area, "area")
        elif isinstance(area.client, int):
            get(s, Client, area.client, "client")
        stored = set(s.scalars(select(Photo.sha256)))
    paths = expand_paths(files)
    report = ImportReport()
    batch = _Batch(lib, area, view, date, kind, report)
    claims = _Claims(stored)
    same_as_other: list[_SameAsOther] = []
    workers = workers or os.cpu_count() or 1
    total = len(paths)
    done = 0

    def reject(path: Path, reason: str) -> None:
        report.rejected.append(Rejected(str(path), _sentence(path, reason), _capital(reason)))

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
                    report.duplicates.append(
                        Duplicate(
                            outcome.file,
                            batch.by_sha[outcome.sha256],
                            copy_of=batch.file_by_sha[outcome.sha256],
                        )
                    )
                else:
                    report.imported.append(batch.record(outcome))
            except ImageRejected as exc:
                reject(path, str(exc))
            except IntegrityError:
                reject(path, "another program changed the library at the same time; try again")
            except LibraryError as exc:
                _discard(lib, *(f for _, f in pending))
                n = len(report.imported)
                # The same error, of the same type, saying what was kept.
                exc.args = (
                    f"{exc} The import stopped at {display_path(path.name)}: "
                    f"{n} photo{'s' if n != 1 else ''} before it {'were' if n != 1 else 'was'} imported, "
                    "nothing else was changed.",
                )
                raise
            except OperationalError as exc:
                _discard(lib, *(f for _, f in pending))
                raise StorageError(
                    f"The library database could not be written ({exc.orig}); "
                    "the photos recorded before this one are kept, nothing else was changed."
                ) from exc
            except BaseException:
                _discard(lib, *(f for _, f in pending))
                raise
            done += 1
            if progress:
                progress(done, total, str(path))
            refill()

    with lib.session() as s:
        known = dict(
            s.execute(
                select(Photo.sha256, Photo.id).where(
                    Photo.sha256.in_({d.sha256 for d in same_as_other})
                )
            ).all()
        )
    for dup in same_as_other:
        photo_id = batch.by_sha.get(dup.sha256) or known.get(dup.sha256)
        if photo_id is not None:
            copy_of = batch.file_by_sha.get(dup.sha256, "")
            report.duplicates.append(Duplicate(dup.file, photo_id, copy_of=copy_of))
        else:
            reject(
                Path(dup.file),
                "it has the same contents as another file that could not be imported",
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


def _capital(reason: str) -> str:
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")


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
