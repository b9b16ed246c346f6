"""A library folder opened for use: the database, the photo store, and the operations on them.

The command line and the GUI both go through this class, so a rule (an unknown area is
refused, a rating is validated against its scale) is decided here once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tracker.core.care import backups
from tracker.core.care.check import CheckReport, check_library
from tracker.core.db import engine as db
from tracker.core.db.models import (
    Area,
    Client,
    Photo,
    RaterRole,
    Rating,
    RatingItem,
    RatingMethod,
    TreatmentRecord,
    Visit,
    VisitKind,
)
from tracker.core.domain.scales import get_scale
from tracker.core.errors import (
    DatabaseDamaged,
    LibraryError,
    NotFoundError,
    TrackerError,
    UsageError,
    ValidationError,
)
from tracker.core.imaging import decode as imaging
from tracker.core.imaging.decode import CaptureTime
from tracker.core.services import imports as importer
from tracker.core.store.lock import LOCK_NAME, LibraryLocked, WriterLock
from tracker.core.store.photos import DIR_MODE, CacheKind, PhotoStore
from tracker.core.text import check_name

log = logging.getLogger(__name__)

DB_NAME = "library.sqlite3"
DEFAULT_CLIENT = "Me"
# Folders (and files) a library may hold; anything else means the folder is not ours.
LIBRARY_ENTRIES = {
    DB_NAME,
    f"{DB_NAME}-wal",
    f"{DB_NAME}-shm",
    "originals",
    "cache",
    "backups",
    "tmp",
    LOCK_NAME,
    "quarantine",
}


@dataclass
class TreatmentInput:
    """A treatment record as the user gave it; None means "not given"."""

    device: str | None = None
    needle_depth_mm: float | None = None
    passes: int | None = None
    topical: str | None = None
    anaesthetic: str | None = None
    reaction: str | None = None
    pain: int | None = None
    downtime_days: int | None = None
    practitioner: str | None = None

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}

    def validate(self) -> None:
        _in_range("needle depth", self.needle_depth_mm, 0.1, 3.5, "mm")
        _in_range("passes", self.passes, 1, 20)
        _in_range("pain", self.pain, 0, 10)
        _in_range("downtime", self.downtime_days, 0, 60, "days")
        for label, text in (
            ("device", self.device),
            ("topical agent", self.topical),
            ("anaesthetic", self.anaesthetic),
            ("practitioner", self.practitioner),
        ):
            if text is not None:
                check_name(text, label)


def _in_range(label: str, value: float | None, lo: float, hi: float, unit: str = "") -> None:
    if value is None:
        return
    if not lo <= value <= hi:
        suffix = f" {unit}" if unit else ""
        raise ValidationError(
            f"The {label} must be between {lo:g} and {hi:g}{suffix}; {value:g} is out of range."
        )


class Library:
    """An open library folder. Use ``Library.open`` and ``close`` (or ``with``)."""

    def __init__(
        self,
        root: Path,
        engine: Engine,
        *,
        lock: WriterLock | None = None,
        read_only: str | None = None,
    ) -> None:
        self.root = root
        self.engine = engine
        self.store = PhotoStore(root)
        self._sessions: sessionmaker[Session] = db.session_factory(engine)
        self._lock = lock
        # None when the library can be changed; otherwise the sentence saying why it cannot.
        self.read_only = read_only

    # -- opening -------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        root: Path,
        *,
        create: bool = False,
        read_only: bool = False,
        allow_read_only: bool = False,
    ) -> Library:
        """Open the library at ``root``; with ``create``, make it first if it is not there.

        Finishes or undoes imports a crash interrupted, so the library is consistent on return.
        Only one program writes to a library at a time: when another holds it, or the folder
        cannot be written, this raises a LibraryError saying so, unless ``allow_read_only``
        (then the library opens for reading, with ``read_only`` saying why). A damaged
        database raises DamagedLibrary, naming the newest snapshot it could be restored from.
        """
        root = Path(root).expanduser()
        db_path = root / DB_NAME
        # An empty database file is what a creation cut off at its first step leaves behind.
        new = not db_path.exists() or db_path.stat().st_size == 0
        if new:
            if not create:
                raise LibraryError(
                    f"There is no library at {root}; create one with 'tracker init'."
                )
            _prepare_new_folder(root)
            _create_private_file(db_path)
        reason = None
        if read_only:
            reason = "It was opened for reading only."
        elif not _writable(root, db_path):
            reason = f"The library folder {root} cannot be written to (no permission), so it is open for reading only."
        lock = None
        if reason is None:
            lock = WriterLock(root)
            try:
                lock.acquire()
            except LibraryLocked as exc:
                lock = None
                reason = str(exc)
        if reason is not None:
            if not (read_only or allow_read_only):
                raise LibraryError(reason.replace("; this copy can only read it.", "."))
            mode = "immutable" if not _writable(root, db_path) else "ro"
            try:
                engine = db.open_read_only(db_path, mode)
            except DatabaseDamaged as exc:
                raise DamagedLibrary(root, exc.problem) from exc
            problem = db.quick_check(engine)
            if problem is not None:
                engine.dispose()
                raise DamagedLibrary(root, problem)
            return cls(root, engine, read_only=reason)
        try:
            engine = db.open_database(db_path, root / "backups")
        except LibraryError as exc:
            assert lock is not None
            lock.release()
            if isinstance(exc, DatabaseDamaged):
                raise DamagedLibrary(root, exc.problem) from exc
            raise
        problem = db.quick_check(engine)
        if problem is not None:
            engine.dispose()
            assert lock is not None
            lock.release()
            raise DamagedLibrary(root, problem)
        lib = cls(root, engine, lock=lock)
        lib.store.ensure_folders()
        if new:
            with lib.session() as s:
                s.add(Client(name=DEFAULT_CLIENT))
        recovered = lib.store.recover(lib.has_photo_sha)
        if recovered.rolled_forward or recovered.removed:
            log.info(
                "Recovered an interrupted import: %d finished, %d files removed",
                recovered.rolled_forward,
                recovered.removed,
            )
        if not new:
            backups.rolling_snapshot(db_path, root / "backups")
        return lib

    def close(self) -> None:
        self.engine.dispose()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def require_writable(self) -> None:
        if self.read_only is not None:
            raise LibraryError(f"Nothing can be changed: {self.read_only}")

    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        try:
            with db.session_scope(self._sessions) as s:
                yield s
        except OperationalError as exc:
            text = str(exc.orig).lower()
            if self.read_only is not None and ("readonly" in text or "read-only" in text):
                raise LibraryError(f"Nothing can be changed: {self.read_only}") from exc
            if "database is locked" in text:
                raise LibraryError(
                    "The library is busy (another program is writing to it); try again in a moment."
                ) from exc
            if "disk" in text and "full" in text:
                raise LibraryError(
                    "The disk holding the library is full; the change was not saved."
                ) from exc
            raise

    # -- lookups -------------------------------------------------------------------------

    def resolve_client(
        self, s: Session, name: str | None, *, create: bool = False, dry_run: bool = False
    ) -> Client:
        """The named client, or the only one when no name is given.

        With ``create``, a client that does not exist yet is made (unless ``dry_run``, which
        only checks that the request could succeed).
        """
        if name is None:
            clients = list(s.scalars(select(Client).order_by(Client.name).limit(2)))
            if len(clients) == 1:
                return clients[0]
            if not clients:
                if create and not dry_run:
                    client = Client(name=DEFAULT_CLIENT)
                    s.add(client)
                    s.flush()
                    return client
                if create:
                    return Client(name=DEFAULT_CLIENT)
                raise NotFoundError("The library has no clients yet.")
            raise UsageError("The library has several clients; say which one with --client NAME.")
        name = check_name(name, "client name")
        found = s.scalar(select(Client).where(Client.name == name))
        if found is not None:
            return found
        if not create:
            raise NotFoundError(f"There is no client named '{name}'.")
        client = Client(name=name)
        if not dry_run:
            s.add(client)
            s.flush()
        return client

    def resolve_area(self, s: Session, client: Client, name: str, *, create: bool = False) -> Area:
        name = check_name(name, "area name")
        area = s.scalar(select(Area).where(Area.client_id == client.id, Area.name == name))
        if area is None:
            if not create:
                known = ", ".join(s.scalars(select(Area.name).where(Area.client_id == client.id)))
                hint = (
                    f" The areas of {client.name} are: {known}."
                    if known
                    else f" {client.name} has no areas yet."
                )
                raise NotFoundError(f"There is no area named '{name}' for {client.name}.{hint}")
            area = Area(client_id=client.id, name=name)
            s.add(area)
            s.flush()
        return area

    def resolve_visit(self, s: Session, client: Client, day: dt.date) -> Visit:
        visit = s.scalar(select(Visit).where(Visit.client_id == client.id, Visit.date == day))
        if visit is None:
            raise NotFoundError(
                f"{client.name} has no visit on {day.isoformat()}; add it with 'tracker visit add'."
            )
        return visit

    def has_photo_sha(self, sha256: str) -> bool:
        return self.photo_id_for_sha(sha256) is not None

    def photo_id_for_sha(self, sha256: str) -> int | None:
        with self.session() as s:
            return s.scalar(select(Photo.id).where(Photo.sha256 == sha256))

    # -- import and check ----------------------------------------------------------------

    def import_files(self, files: Sequence[Path], **options: Any) -> importer.ImportReport:
        self.require_writable()
        return importer.import_files(self, files, **options)

    def check(
        self, progress: Any = None, cancel: Any = None, *, rehash: bool = True
    ) -> CheckReport:
        """Verify the database and every original; see ``tracker.core.care.check``."""
        return check_library(self, progress, cancel, rehash=rehash)

    def derived(self, kind: CacheKind, sha256: str) -> bytes:
        """A photo's thumbnail or preview (JPEG bytes), made from its original when the cache
        does not hold it: a JPEG's preview is first made here, on first view (off the GUI
        thread), and anything the cache lost is rebuilt. Raises NotFoundError when the photo's
        original is missing too."""
        data = self.store.read_cache(kind, sha256)
        if data is not None:
            return data
        with self.session() as s:
            ext = s.scalar(select(Photo.ext).where(Photo.sha256 == sha256))
        if ext is None or not self.store.has_original(sha256, ext):
            raise NotFoundError("The photo's original file is missing; run a check of the library.")
        decoded = imaging.decode(self.store.read_original(sha256, ext), preview=kind == "previews")
        if self.read_only is None:
            try:
                self.store.write_cache("thumbs", sha256, decoded.thumbnail)
                if decoded.preview is not None:
                    self.store.write_cache("previews", sha256, decoded.preview)
            except LibraryError:  # a full disk costs the cache, not the picture asked for
                log.warning("Could not write the cache for a photo; it is made again when needed")
        if kind == "thumbs":
            return decoded.thumbnail
        assert decoded.preview is not None  # asked for
        return decoded.preview

    def make_previews(self, shas: Iterable[str], cancel: Callable[[], bool] | None = None) -> int:
        """Make the previews that are not made yet (a JPEG's is left out at import), ahead of
        their first view; for idle time after an import. Returns how many were made. A photo
        that cannot be read is skipped: its first view will say why."""
        if self.read_only is not None:
            return 0  # a reader could make them, but not keep them
        made = 0
        for sha256 in shas:
            if cancel and cancel():
                break
            if self.store.has_cache("previews", sha256):
                continue
            try:
                self.derived("previews", sha256)
            except TrackerError:
                continue
            made += 1
        return made

    def original_image(self, sha256: str, max_side: int | None = None) -> Image.Image:
        """A photo's original, decoded upright (for zooming past its preview)."""
        with self.session() as s:
            ext = s.scalar(select(Photo.ext).where(Photo.sha256 == sha256))
        if ext is None or not self.store.has_original(sha256, ext):
            raise NotFoundError("The photo's original file is missing; run a check of the library.")
        return imaging.load_upright(self.store.read_original(sha256, ext), max_side)

    # -- visits and treatment records -----------------------------------------------------

    def add_visit(
        self,
        *,
        client: str | None,
        day: dt.date,
        kind: VisitKind | None = None,
        notes: str | None = None,
        area: str | None = None,
        treatment: TreatmentInput | None = None,
    ) -> dict[str, Any]:
        """Add the visit on ``day`` (or update the one already there) and its treatment record."""
        treatment = treatment or TreatmentInput()
        fields = treatment.given()
        if fields and area is None:
            raise UsageError("Treatment details belong to an area; say which one with --area NAME.")
        treatment.validate()
        with self.session() as s:
            c = self.resolve_client(s, client)
            a = self.resolve_area(s, c, area) if area is not None else None
            visit = s.scalar(select(Visit).where(Visit.client_id == c.id, Visit.date == day))
            created = visit is None
            if visit is None:
                if kind is None:
                    has_baseline = s.scalar(
                        select(func.count()).where(
                            Visit.client_id == c.id, Visit.kind == VisitKind.BASELINE
                        )
                    )
                    kind = VisitKind.TREATMENT if has_baseline else VisitKind.BASELINE
                visit = Visit(client_id=c.id, date=day, kind=kind, notes=notes or "")
                s.add(visit)
            else:
                if kind is not None:
                    visit.kind = kind
                if notes is not None:
                    visit.notes = notes
            s.flush()
            record_id = None
            if a is not None and fields:
                record = s.scalar(
                    select(TreatmentRecord).where(
                        TreatmentRecord.visit_id == visit.id, TreatmentRecord.area_id == a.id
                    )
                )
                if record is None:
                    record = TreatmentRecord(visit_id=visit.id, area_id=a.id)
                    s.add(record)
                for key, value in fields.items():
                    setattr(record, key, value)
                s.flush()
                record_id = record.id
            return {
                "id": visit.id,
                "client": c.name,
                "date": visit.date.isoformat(),
                "kind": visit.kind.value,
                "created": created,
                "treatment_record_id": record_id,
            }

    # -- ratings -------------------------------------------------------------------------

    def rate(
        self,
        *,
        client: str | None,
        area: str,
        day: dt.date,
        role: RaterRole,
        values: Mapping[str, float],
        scale: str | None = None,
        rater_name: str = "",
        method: RatingMethod = RatingMethod.IN_PERSON,
    ) -> dict[str, Any]:
        """Record (or replace) one rater's rating of an area at the visit on ``day``.

        Every value is checked against the scale before anything is written.
        """
        rater_name = rater_name.strip()
        with self.session() as s:
            c = self.resolve_client(s, client)
            a = self.resolve_area(s, c, area)
            sc = get_scale(scale or a.default_scale)
            checked = sc.validate(role, values)
            visit = self.resolve_visit(s, c, day)
            rating = s.scalar(
                select(Rating).where(
                    Rating.visit_id == visit.id,
                    Rating.area_id == a.id,
                    Rating.rater_role == role,
                    Rating.rater_name == rater_name,
                    Rating.scale_key == sc.key,
                )
            )
            if rating is None:
                rating = Rating(
                    visit_id=visit.id,
                    area_id=a.id,
                    rater_role=role,
                    rater_name=rater_name,
                    scale_key=sc.key,
                )
                s.add(rating)
            rating.scale_version = sc.version
            rating.method = method
            existing = {item.item_key: item for item in rating.items}
            for key, value in checked.items():
                if key in existing:
                    existing[key].value = value
                else:
                    rating.items.append(RatingItem(item_key=key, value=value))
            s.flush()
            return {
                "id": rating.id,
                "client": c.name,
                "area": a.name,
                "visit_id": visit.id,
                "date": visit.date.isoformat(),
                "rater": role.value,
                "rater_name": rater_name,
                "scale": sc.key,
                "scale_version": sc.version,
                "method": method.value,
                "values": {i.item_key: i.value for i in rating.items},
            }

    # -- listings (the shapes of `tracker list --json`) -------------------------------------

    def counts(self) -> dict[str, int]:
        """How many clients, areas, visits and (not removed) photos the library holds."""
        with self.session() as s:
            return {
                "clients": s.scalar(select(func.count(Client.id))) or 0,
                "areas": s.scalar(select(func.count(Area.id))) or 0,
                "visits": s.scalar(select(func.count(Visit.id))) or 0,
                "photos": s.scalar(select(func.count(Photo.id)).where(Photo.deleted_at.is_(None)))
                or 0,
            }

    def list_clients(self) -> list[dict[str, Any]]:
        with self.session() as s:
            return [
                {
                    "id": c.id,
                    "name": c.name,
                    "date_of_birth": c.date_of_birth.isoformat() if c.date_of_birth else None,
                    "fitzpatrick": c.fitzpatrick,
                }
                for c in s.scalars(select(Client).order_by(Client.name))
            ]

    def list_areas(self, client: str | None = None) -> list[dict[str, Any]]:
        with self.session() as s:
            q = select(Area, Client.name).join(Client).order_by(Client.name, Area.name)
            if client is not None:
                q = q.where(Area.client_id == self.resolve_client(s, client).id)
            return [
                {
                    "id": a.id,
                    "name": a.name,
                    "client": cname,
                    "body_site": a.body_site,
                    "stage": a.stage.value,
                    "default_scale": a.default_scale,
                }
                for a, cname in s.execute(q)
            ]

    def list_visits(self, client: str | None = None) -> list[dict[str, Any]]:
        with self.session() as s:
            q = select(Visit, Client.name).join(Client).order_by(Client.name, Visit.date)
            if client is not None:
                q = q.where(Visit.client_id == self.resolve_client(s, client).id)
            return [
                {
                    "id": v.id,
                    "date": v.date.isoformat(),
                    "kind": v.kind.value,
                    "client": cname,
                    "notes": v.notes,
                }
                for v, cname in s.execute(q)
            ]

    def list_photos(
        self, client: str | None = None, area: str | None = None
    ) -> list[dict[str, Any]]:
        with self.session() as s:
            q = (
                select(Photo, Area.name, Client.name, Visit.date)
                .join(Area, Photo.area_id == Area.id)
                .join(Client, Area.client_id == Client.id)
                .join(Visit, Photo.visit_id == Visit.id)
                .where(Photo.deleted_at.is_(None))
                .order_by(Client.name, Area.name, Photo.taken_at, Photo.id)
            )
            if client is not None or area is not None:
                c = self.resolve_client(s, client)
                q = q.where(Area.client_id == c.id)
                if area is not None:
                    q = q.where(Photo.area_id == self.resolve_area(s, c, area).id)
            rows = []
            for p, aname, cname, vdate in s.execute(q):
                rows.append(
                    {
                        "id": p.id,
                        "visit_id": p.visit_id,
                        "visit_date": vdate.isoformat(),
                        "client": cname,
                        "area": aname,
                        "view": p.view,
                        "taken_at": CaptureTime(p.taken_at, p.utc_offset_min).isoformat(),
                        "date_source": p.date_source.value,
                        "sha256": p.sha256,
                        "width": p.width,
                        "height": p.height,
                        "format": p.format,
                        "original_name": p.original_name,
                    }
                )
            return rows


def _writable(root: Path, db_path: Path) -> bool:
    return os.access(root, os.W_OK | os.X_OK) and (
        not db_path.exists() or os.access(db_path, os.W_OK)
    )


class DamagedLibrary(LibraryError):
    """The database fails SQLite's quick check; ``snapshot`` is the newest copy to restore."""

    def __init__(self, root: Path, problem: str) -> None:
        self.root = root
        self.snapshot = backups.newest_snapshot(root / "backups")
        offer = (
            f" The newest copy of the database, {self.snapshot.name}, was made on "
            f"{dt.datetime.fromtimestamp(self.snapshot.stat().st_mtime):%d %B %Y at %H:%M}; "
            "restore it with 'tracker repair restore-snapshot' (the damaged file is kept)."
            if self.snapshot is not None
            else " There is no snapshot of it in backups/; restore the library from a backup archive."
        )
        super().__init__(
            f"The library database in {root} is damaged or is not a database ({problem}).{offer}"
        )


def _create_private_file(path: Path) -> None:
    """Create the empty database file readable by its owner only; SQLite gives its journal
    files the same permissions."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise LibraryError(
            f"The library database {path} cannot be created ({exc.strerror})."
        ) from exc


def _prepare_new_folder(root: Path) -> None:
    """Create the folder for a new library, refusing a folder that already holds other things."""
    if root.exists():
        if not root.is_dir():
            raise LibraryError(f"{root} is a file, not a folder; choose a folder for the library.")
        strangers = [p.name for p in root.iterdir() if p.name not in LIBRARY_ENTRIES]
        if strangers:
            raise LibraryError(
                f"{root} already holds other files (such as {strangers[0]}) and no library; "
                "choose an empty or new folder."
            )
    try:
        root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        os.chmod(root, DIR_MODE)
    except OSError as exc:
        raise LibraryError(
            f"The library folder {root} cannot be created ({exc.strerror})."
        ) from exc
