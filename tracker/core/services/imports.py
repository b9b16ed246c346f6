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
import logging
import os
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from tracker.core.db.models import Area, Client, DateSource, Photo, Visit, VisitKind
from tracker.core.domain import rules
from tracker.core.errors import ImageRejected, LibraryError, StorageError, UsageError
from tracker.core.files import expand_paths
from tracker.core.imaging.facts import CaptureTime
from tracker.core.queries.browse import get, has_baseline
from tracker.core.services.clients import create_area, create_client
from tracker.core.services.import_reading import (
    Claims,
    Prepared,
    SameAsOther,
    discard,
    judge_capture,
    prepare,
)
from tracker.core.services.import_report import (
    CancelCheck,
    Duplicate,
    Imported,
    ImportItem,
    ImportReport,
    NewArea,
    ProgressCallback,
    Rejected,
)
from tracker.core.services.visits import create_visit
from tracker.core.store.library import Library
from tracker.core.text import check_name, display_path, is_readable, name_bytes, readable

log = logging.getLogger(__name__)


class _Batch:
    """Records prepared photos one transaction each, grouping them into visits."""

    def __init__(
        self,
        lib: Library,
        kind: VisitKind | None,
        kinds: Mapping[dt.date, VisitKind],
        report: ImportReport,
    ) -> None:
        self.lib = lib
        self.kind = kind
        self.kinds = dict(kinds)
        self.report = report
        self.by_sha: dict[str, int] = {}
        self.file_by_sha: dict[str, str] = {}
        # Areas this batch made, by what was asked, so later files go to them by id.
        self.made_areas: dict[NewArea, int] = {}
        # Per client, the baseline this batch made, so that it can move to an earlier date.
        self.auto_baseline: dict[int, int] = {}

    def record(self, prep: Prepared, item: ImportItem) -> Imported:
        decoded = prep.decoded
        if item.day is not None and item.visit_id is None:
            capture = CaptureTime(dt.datetime.combine(item.day, dt.time()), None)
            source = DateSource.GIVEN
        elif decoded.capture_time is not None:
            capture, source = decoded.capture_time, DateSource.EXIF
        else:
            assert prep.file_time is not None
            capture, source = prep.file_time, DateSource.FILE
        try:
            photo_id, visit_id, quality, px_per_mm = self._insert(prep, item, capture, source)
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
        return Imported(
            file=prep.file,
            photo_id=photo_id,
            visit_id=visit_id,
            sha256=prep.sha256,
            taken_at=capture.isoformat(),
            date_source=source.value,
            width=decoded.width,
            height=decoded.height,
            notes=list(decoded.notes),
            quality=quality,
            px_per_mm=px_per_mm,
        )

    def _destination(self, s: Session, item: ImportItem, made: _Made) -> tuple[Client, Area]:
        """The client and area, made in this transaction if they do not exist yet."""
        target = item.area
        if isinstance(target, NewArea) and target in self.made_areas:
            target = self.made_areas[target]
        if isinstance(target, int):
            area = get(s, Area, target, "area")
            return area.client, area
        if isinstance(target.client, int):
            client = get(s, Client, target.client, "client")
        else:
            found = s.scalar(select(Client).where(Client.name == target.client))
            client = found if found is not None else create_client(s, target.client)
            made.client = found is None
        found_area = s.scalar(
            select(Area).where(Area.client_id == client.id, Area.name == target.name)
        )
        made.area = found_area is None
        area = found_area if found_area is not None else create_area(s, client, target.name)
        made.new_area = target
        return client, area

    def _insert(
        self, prep: Prepared, item: ImportItem, capture: CaptureTime, source: DateSource
    ) -> tuple[int, int, dict[str, Any] | None, float | None]:
        """One transaction: client, area and visit as needed, and the photo's row with its
        capture checks. What the batch remembers of it (the area, the visits it made) is kept
        only once it committed, so a photo refused by the database leaves the batch as it was.
        Returns the ids of the photo and its visit, its checks and its scale."""
        decoded = prep.decoded
        made = _Made()
        with self.lib.session() as s:
            client, area = self._destination(s, item, made)
            if item.visit_id is not None:
                visit = get(s, Visit, item.visit_id, "visit")
                if visit.client_id != client.id:
                    raise UsageError(
                        f"The visit on {visit.date.isoformat()} is not one of {client.name}'s."
                    )
            else:
                visit = self._visit_for(s, client, capture.local.date(), made)
            photo = Photo(
                visit_id=visit.id,
                area_id=area.id,
                view=item.view,
                taken_at=capture.local,
                utc_offset_min=capture.utc_offset_min,
                date_source=source,
                width=decoded.width,
                height=decoded.height,
                sha256=prep.sha256,
                ext=decoded.ext,
                format=decoded.format,
                file_size=self.lib.store.original_size(prep.staged),
                original_name=readable(Path(prep.file).name),
                original_name_bytes=(
                    None if is_readable(Path(prep.file).name) else name_bytes(Path(prep.file).name)
                ),
            )
            if prep.measures is not None:
                judge_capture(s, photo, prep.measures)
            s.add(photo)
            s.flush()
            ids = (photo.id, visit.id, client.id, area.id)
            checks = (photo.quality, photo.px_per_mm)
        photo_id, visit_id, client_id, area_id = ids
        # Committed: later photos asking for the same new area go to it by id.
        if made.new_area is not None:
            self.made_areas[made.new_area] = area_id
        self.report.client_id, self.report.area_id = client_id, area_id
        self.report.created_client |= made.client
        self.report.created_area |= made.area
        if made.visit is not None:
            self.report.created_visits.append(made.visit)
            if made.baseline:
                self.auto_baseline[client_id] = made.visit
        return photo_id, visit_id, *checks

    def _visit_for(self, s: Session, client: Client, day: dt.date, made: _Made) -> Visit:
        visit = s.scalar(select(Visit).where(Visit.client_id == client.id, Visit.date == day))
        if visit is not None:
            return visit
        chosen = self.kinds.get(day, self.kind)
        auto = self.auto_baseline.get(client.id)
        if chosen is None and auto is not None:
            baseline = s.get(Visit, auto)
            if baseline is not None and day < baseline.date:
                # This batch made the baseline from a later photo: the earliest is the baseline,
                # and the one it replaces becomes what any later visit would be.
                baseline.kind = rules.new_visit_kind(None, has_baseline=True)
                s.flush()
        made.baseline = chosen is None and not has_baseline(s, client.id)
        visit = create_visit(s, client, day, chosen)
        made.visit = visit.id
        return visit


@dataclass
class _Made:
    """What one photo's transaction made besides the photo, applied to the batch on commit."""

    client: bool = False
    area: bool = False
    visit: int | None = None
    baseline: bool = False
    new_area: NewArea | None = None


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
    report: ImportReport | None = None,
) -> ImportReport:
    """Import ``files`` (folders are walked) into ``area``: ``tracker import``.

    ``date`` puts every photo in the visit of that day, dated as given; ``kind`` is the kind
    of every visit the import creates (without it, ``rules.new_visit_kind``). See
    ``import_items`` for the rest.
    """
    view = check_name(view, "view name") if view is not None else "front"
    items = [ImportItem(path, area, date, None, view) for path in expand_paths(files)]
    return import_items(
        lib,
        items,
        kind=kind,
        progress=progress,
        cancel=cancel,
        workers=workers,
        report=report,
    )


def _checked_area(area: int | NewArea) -> int | NewArea:
    if isinstance(area, int):
        return area
    client = area.client if isinstance(area.client, int) else check_name(area.client, "client name")
    return NewArea(check_name(area.name, "area name"), client)


def import_items(
    lib: Library,
    items: Sequence[ImportItem],
    *,
    kind: VisitKind | None = None,
    kinds: Mapping[dt.date, VisitKind] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelCheck | None = None,
    workers: int | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Import each file of ``items`` where it says (the window's import preview decides per
    file). A visit the import makes gets the kind ``kinds`` gives for its day, else ``kind``,
    else ``rules.new_visit_kind``.

    Bad files never stop the batch: each is reported with the reason. ``progress(done, total,
    file)`` is called on the calling thread after each file; ``cancel()`` returning True stops
    the batch after the photos already recorded, leaving nothing half-done. A library-wide
    failure (a full disk) raises its error; a caller that passes its own ``report`` still
    has in it what was recorded before the failure.
    """
    lib.require_writable()
    items = [
        ImportItem(
            i.path, _checked_area(i.area), i.day, i.visit_id, check_name(i.view, "view name")
        )
        for i in items
    ]
    with lib.session() as s:
        for item in items:
            if isinstance(item.area, int):
                get(s, Area, item.area, "area")
            elif isinstance(item.area.client, int):
                get(s, Client, item.area.client, "client")
            if item.visit_id is not None:
                get(s, Visit, item.visit_id, "visit")
        stored = set(s.scalars(select(Photo.sha256)))
    paths = [i.path for i in items]
    report = report if report is not None else ImportReport()
    batch = _Batch(lib, kind, kinds or {}, report)
    claims = Claims(stored)
    same_as_other: list[SameAsOther] = []
    workers = workers or os.cpu_count() or 1
    total = len(paths)
    done = 0

    def reject(path: Path, reason: str) -> None:
        report.rejected.append(Rejected(str(path), _sentence(path, reason), _capital(reason)))

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="import") as pool:
        pending: deque[tuple[ImportItem, Future[Prepared | SameAsOther]]] = deque()
        queue = iter(enumerate(items))

        def refill() -> None:
            # A bounded window keeps memory flat: each in-flight file holds its bytes.
            while len(pending) < workers * 2 and not (cancel and cancel()):
                index, item = next(queue, (-1, None))
                if item is None:
                    return
                pending.append((item, pool.submit(prepare, lib, item.path, index, claims)))

        refill()
        while pending:
            item, future = pending.popleft()
            path = item.path
            if cancel and cancel():
                report.cancelled = True
                discard(lib, future, *(f for _, f in pending))
                break
            try:
                outcome = future.result()
                if isinstance(outcome, SameAsOther):
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
                    report.imported.append(batch.record(outcome, item))
            except ImageRejected as exc:
                reject(path, str(exc))
            except IntegrityError:
                reject(path, "another program changed the library at the same time; try again")
            except UsageError as exc:  # where this file was to go does not hold (its visit)
                reject(path, str(exc)[:1].lower() + str(exc)[1:].rstrip("."))
            except LibraryError as exc:
                discard(lib, *(f for _, f in pending))
                n = len(report.imported)
                # The same error, of the same type, saying what was kept.
                exc.args = (
                    f"{exc} The import stopped at {display_path(path.name)}: "
                    f"{n} photo{'s' if n != 1 else ''} before it {'were' if n != 1 else 'was'} imported, "
                    "nothing else was changed.",
                )
                raise
            except OperationalError as exc:
                discard(lib, *(f for _, f in pending))
                raise StorageError(
                    f"The library database could not be written ({exc.orig}); "
                    "the photos recorded before this one are kept, nothing else was changed."
                ) from exc
            except Exception as exc:
                # Anything else is this file's problem, not the batch's: it is refused with a
                # sentence, the details go to the log, and the import carries on.
                log.error("Importing one file failed unexpectedly", exc_info=exc)
                reject(
                    path,
                    f"something unexpected went wrong with it ({type(exc).__name__}); "
                    "the details are in the log file",
                )
            except BaseException:
                discard(lib, *(f for _, f in pending))
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


def _capital(reason: str) -> str:
    return reason[:1].upper() + reason[1:] + ("" if reason.endswith(".") else ".")


def _sentence(path: Path, reason: str) -> str:
    return f"{display_path(str(path))} was not imported: {reason}."
