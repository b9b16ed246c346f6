"""One workstation of the many-writers test (issue 21), as its own process:

    python -m tests.core.clinic.writer URL SEED N LOGFILE

It opens the clinic library at URL and makes N random edits through the services as a window
makes them: it reads the row as a panel shows it (its version), waits a few milliseconds (the
person typing), and writes with that version as ``seen``. The edits are rating scores,
treatment record fields, small imports (a tiny generated JPEG) and moves of a photo to another
visit and area (with the photo's version the grid showed), all on the few targets ``test_many_writers`` seeds, so that writers collide.

After each edit's outcome is known it appends one JSON line to LOGFILE and prints the edit's
number to standard output (which the test reads to know how far a writer is). The outcome is
"stored", "conflict" (refused: the row had moved on, or the server refused a collision) or
"unknown": the connection broke while the edit was being committed, so whether it was stored
cannot be known. A connection lost before the commit, or a server that cannot be reached,
stores nothing: the writer says so in a sentence on standard error, waits, opens the library
again and makes the edit again. Anything else raised is a bug, and crashes the writer with its
traceback.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from PIL import Image
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from tracker.core.db.models import Photo, RaterRole
from tracker.core.db.server_errors import ConnectionLost, ServerUnreachable
from tracker.core.errors import EditConflict, StaleEdit
from tracker.core.queries import browse
from tracker.core.queries.rows import AreaAtVisit
from tracker.core.services import import_report, imports, move, ratings, visits
from tracker.core.store.server_library import ServerLibrary

CLIENT = "Ann"
AREAS = ("Belly", "Hips")
DAYS = (dt.date(2026, 3, 1), dt.date(2026, 3, 15), dt.date(2026, 3, 29))  # seeded visits
IMPORT_DAYS = (*DAYS[1:], dt.date(2026, 4, 26), dt.date(2026, 5, 10))  # two made by imports
SEED_PHOTO = "seed"  # the original name of every seeded photo starts so
ROLE = RaterRole.PRACTITIONER
ITEMS = ("colour", "texture", "depth")
FIELDS = ("passes", "pain", "downtime_days")
IMPORT_SHARE, MOVE_SHARE = 0.04, 0.2  # of the edits; the rest are ratings and records, half each


class NotStored(Exception):
    """The edit certainly did not reach the server: make it again once reconnected."""


class Unknown(Exception):
    """The connection broke while the edit was being committed."""


def lost_in_commit(exc: ConnectionLost) -> bool:
    """Whether the connection broke at the commit (the statement SQLAlchemy ran is none: it
    was the transaction's COMMIT) rather than during a statement before it, which leaves the
    transaction uncommitted on the server."""
    cause = exc.__cause__
    return not isinstance(cause, DBAPIError) or cause.statement is None


def tiny_jpeg(seed: int, k: int) -> bytes:
    """A small JPEG no other edit makes (its pixels from the writer's seed and the edit)."""
    rng = random.Random(seed * 100_003 + k)
    img = Image.new("RGB", (48, 32))
    img.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))] * (48 * 32))
    img.putpixel((k % 48, k // 48 % 32), (seed % 256, k % 256, k // 256 % 256))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90)
    return out.getvalue()


class Writer:
    def __init__(self, url: str, seed: int, folder: Path) -> None:
        self.url, self.seed, self.folder = url, seed, folder
        self.rng = random.Random(seed)
        self._pending: import_report.ImportItem | None = None  # an import to make again
        self.lib = self._open()
        client = next(c.id for c in browse.clients(self.lib) if c.name == CLIENT)
        self.areas = [a.id for a in browse.areas(self.lib, client) if a.name in AREAS]
        self.visits = [v.id for v in browse.timeline(self.lib, client) if v.date in DAYS]
        self.photos = [
            p.id
            for _, _, p in browse.client_photos(self.lib, client)
            if p.original_name.startswith(SEED_PHOTO)
        ]
        assert len(self.areas) == len(AREAS) and len(self.visits) == len(DAYS) and self.photos

    def _open(self) -> ServerLibrary:
        while True:
            try:
                return ServerLibrary.open_server(self.url)
            except ServerUnreachable as exc:
                self._wait(exc)

    def _wait(self, exc: Exception) -> None:
        print(f"writer {self.seed}: {exc} Waiting to reconnect.", file=sys.stderr, flush=True)
        time.sleep(self.rng.uniform(0.05, 0.2))

    def reconnect(self, exc: Exception) -> None:
        self.lib.close()
        self._wait(exc)
        self.lib = self._open()

    def think(self) -> None:
        time.sleep(self.rng.uniform(0.001, 0.008))

    def edit(self, k: int) -> dict[str, Any]:
        """Make edit ``k`` until its outcome is known; its log line."""
        roll = self.rng.random()
        kind = (
            "import"
            if roll < IMPORT_SHARE
            else "move"
            if roll < IMPORT_SHARE + MOVE_SHARE
            else self.rng.choice(("rating", "record"))
        )
        make: Callable[[], dict[str, Any]] = getattr(self, f"_{kind}")
        retries = 0  # how often this edit waited for the server to come back
        while True:
            t0 = time.monotonic()
            try:
                line = make()
            except (NotStored, ConnectionLost, ServerUnreachable) as exc:  # nothing stored
                self.reconnect(exc)
                retries += 1
                continue
            except Unknown as exc:
                line = {**exc.args[0], "outcome": "unknown"}
                self.reconnect(exc)
            t1 = time.monotonic()
            return {"edit": k, "writer": self.seed, "kind": kind, "t0": t0, "t1": t1,
                    "retries": retries, **line}  # fmt: skip

    def _write(self, what: dict[str, Any], write: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Run ``write``; ``what`` (target, fields, seen) with its outcome."""
        try:
            return {**what, **write(), "outcome": "stored"}
        except StaleEdit as exc:
            return {**what, "outcome": "conflict", "version": exc.version}
        except EditConflict:
            return {**what, "outcome": "conflict", "version": None}
        except ConnectionLost as exc:
            if lost_in_commit(exc):
                raise Unknown(what) from exc
            raise NotStored(str(exc)) from exc

    def _shown(self, visit: int, area: int) -> AreaAtVisit:
        detail = browse.visit_detail(self.lib, visit)
        return next(a for a in detail.areas if a.area.id == area)

    def _rating(self) -> dict[str, Any]:
        visit, area = self.rng.choice(self.visits), self.rng.choice(self.areas)
        shown = self._shown(visit, area)
        row = next((r for r in shown.ratings if r.role == ROLE and not r.rater_name), None)
        seen = row.version if row is not None else 0
        fields = {self.rng.choice(ITEMS): float(self.rng.randint(1, 10))}
        self.think()

        def write() -> dict[str, Any]:
            done = ratings.rate(self.lib, visit, area, ROLE, fields, seen=seen)
            return {"version": done.version, "value": done.values}

        return self._write({"target": [visit, area], "fields": fields, "seen": seen}, write)

    def _record(self) -> dict[str, Any]:
        visit, area = self.rng.choice(self.visits), self.rng.choice(self.areas)
        seen = self._shown(visit, area).treatment_version
        fields = {self.rng.choice(FIELDS): self.rng.randint(1, 9)}
        self.think()

        def write() -> dict[str, Any]:
            done = visits.edit_treatment(self.lib, visit, area, fields, seen=seen)
            assert done.new is not None  # a field is set: the record is never left empty
            return {"version": done.version, "value": _given(done.new)}

        return self._write({"target": [visit, area], "fields": fields, "seen": seen}, write)

    def _move(self) -> dict[str, Any]:
        photo = self.rng.choice(self.photos)
        seen = browse.photo(self.lib, photo).version  # as the grid shows it
        visit, area = self.rng.choice(self.visits), self.rng.choice(self.areas)
        self.think()

        def write() -> dict[str, Any]:
            done = move.move_photos(
                self.lib, [photo], visit_id=visit, area_id=area, seen={photo: seen}
            )
            return {"version": done.versions[photo]}

        return self._write({"target": photo, "value": [visit, area], "seen": seen}, write)

    def _import(self) -> dict[str, Any]:
        """Import one new tiny JPEG. An import is several transactions (the photo's record,
        then reads): when the connection breaks after the record was committed, the import
        made again finds its bytes stored (a duplicate of the photo it made), so the same
        file is imported again until its outcome is known."""
        if self._pending is None:
            k = self.rng.randrange(10**9)
            path = self.folder / f"w{self.seed}-{k}.jpg"
            path.write_bytes(tiny_jpeg(self.seed, k))
            self._pending = import_report.ImportItem(
                path, self.rng.choice(self.areas), day=self.rng.choice(IMPORT_DAYS)
            )
        item = self._pending
        assert item.day is not None
        sha = hashlib.sha256(item.path.read_bytes()).hexdigest()
        what = {"target": sha, "value": [item.area, item.day.isoformat()]}
        try:
            report = imports.import_items(self.lib, [item], workers=1)
        except (ConnectionLost, ServerUnreachable) as exc:
            if isinstance(exc, ConnectionLost) and lost_in_commit(exc):
                self._pending = None
                raise Unknown(what) from exc
            raise NotStored(str(exc)) from exc
        self._pending = None
        if report.imported:
            done = report.imported[0]
            return {**what, "outcome": "stored", "photo": done.photo_id, "visit": done.visit_id}
        if report.duplicates:  # this file, stored before the connection broke
            photo = report.duplicates[0].photo_id
            with self.lib.session() as s:
                visit = s.scalar(select(Photo.visit_id).where(Photo.id == photo))
            return {**what, "outcome": "stored", "photo": photo, "visit": visit}
        # Refused: two writers made the visit of a new day at once (the only reason expected;
        # the test checks the day).
        assert len(report.rejected) == 1, report
        return {**what, "outcome": "conflict", "reason": report.rejected[0].error}


def _given(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if v is not None}


def run(url: str, seed: int, n: int, log: TextIO) -> None:
    with tempfile.TemporaryDirectory(prefix=f"writer{seed}-") as folder:
        writer = Writer(url, seed, Path(folder))
        try:
            for k in range(n):
                line = writer.edit(k)
                log.write(json.dumps(line) + "\n")
                log.flush()
                print(k, flush=True)
        finally:
            writer.lib.close()


def main(argv: list[str]) -> int:
    url, seed, n, logfile = argv
    with open(logfile, "a", encoding="utf-8") as log:
        run(url, int(seed), int(n), log)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
