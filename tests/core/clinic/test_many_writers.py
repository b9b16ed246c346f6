"""Many writers, nothing lost (issue 21): five workstation processes (``writer``) edit one
clinic library at once, on few targets so that they collide, while the server is stopped at
once (as a crash would) and started again mid-run. Afterwards every edit has an outcome; only
the few being committed at the crash are unknown; for each rating and treatment record the
stored edits, replayed in the order of the versions they wrote, are exactly what the database
holds (none lost, none half stored, none made from an old reading); each photo is where the
last of its moves put it, and no two moves were stored from one reading of it; each import stored is there with its original; and
``tracker check`` finds nothing wrong.

5 writers × 60 edits by default; ``TRACKER_MANY_WRITERS_EDITS=1000`` makes the issue's full
run (some minutes: give pytest ``--timeout 0``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests import postgres
from tests.conftest import REPO, run_cli
from tests.core.clinic import writer as w
from tracker.core.db.models import Photo, Visit
from tracker.core.domain import rules
from tracker.core.queries import browse
from tracker.core.services import clients, import_report, imports, ratings, visits
from tracker.core.store.blobs_db import DatabaseBlobStore
from tracker.core.store.server_library import ServerLibrary

WRITERS = 5
EDITS = int(os.environ.get("TRACKER_MANY_WRITERS_EDITS", "60"))
Pair = tuple[int, int]  # a visit and an area
State = tuple[int, dict[str, Any]]  # a row's version and values (0 and {}: no row)


@pytest.fixture
def clinic(pg_server: postgres.Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("TRACKER_LIBRARY", raising=False)
    with pg_server.clinic() as url:
        yield url


def _seed(lib: ServerLibrary, folder: Path) -> None:
    """One client, two areas, three visits, four photos; some ratings and records made, some
    left for the writers to make (two making one at once collide on its key)."""
    client = clients.add_client(lib, w.CLIENT)
    areas = [clients.add_area(lib, client, name) for name in w.AREAS]
    days = [visits.add_visit(lib, client, day) for day in w.DAYS]
    files = []
    for n in range(4):
        path = folder / f"{w.SEED_PHOTO}{n}.jpg"
        path.write_bytes(w.tiny_jpeg(-1, n))
        files.append(import_report.ImportItem(path, areas[n % 2], visit_id=days[n % 3]))
    assert len(imports.import_items(lib, files, workers=1).imported) == 4
    ratings.rate(lib, days[0], areas[0], w.ROLE, {"colour": 5.0, "texture": 5.0})
    ratings.rate(lib, days[1], areas[1], w.ROLE, {"depth": 3.0})
    visits.set_treatment(lib, days[0], areas[1], {"device": "pen", "passes": 2})
    visits.set_treatment(lib, days[2], areas[0], {"pain": 4})


def _states(lib: ServerLibrary) -> tuple[dict[Pair, State], dict[Pair, State]]:
    """Every rating and treatment record of the seeded visits: their version and values."""
    rated: dict[Pair, State] = {}
    records: dict[Pair, State] = {}
    for visit in browse.timeline(lib, _client(lib)):
        if visit.date not in w.DAYS:
            continue
        for shown in browse.visit_detail(lib, visit.id).areas:
            pair = (visit.id, shown.area.id)
            row = next((r for r in shown.ratings if r.role == w.ROLE and not r.rater_name), None)
            rated[pair] = (row.version, row.values) if row is not None else (0, {})
            given = {k: v for k, v in (shown.treatment or {}).items() if v is not None}
            records[pair] = (shown.treatment_version, given)
    return rated, records


def _client(lib: ServerLibrary) -> int:
    return next(c.id for c in browse.clients(lib) if c.name == w.CLIENT)


def _photos(lib: ServerLibrary) -> dict[str, tuple[int, int, int, dt.date, bool]]:
    """Each photo by its bytes' hash: its id, visit, area, visit date, whether its original
    is stored intact."""
    blobs = DatabaseBlobStore()
    with lib.session() as s:
        rows = s.execute(
            select(Photo.sha256, Photo.id, Photo.visit_id, Photo.area_id, Visit.date)
            .join(Visit, Photo.visit_id == Visit.id)
            .where(Photo.deleted_at.is_(None))
        ).all()
        return {
            sha: (pid, visit, area, day, blobs.verify(s, "original", sha) is None)
            for sha, pid, visit, area, day in rows
        }


def _run_writers(url: str, pg: postgres.Server, folder: Path) -> list[dict[str, Any]]:
    """Start the writers at once, restart the server when the first is a third of the way,
    wait for all; every line they logged."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with contextlib.ExitStack() as files:
        procs = []
        for seed in range(WRITERS):
            cmd = [sys.executable, "-m", "tests.core.clinic.writer", url, str(seed), str(EDITS)]
            procs.append(
                subprocess.Popen(
                    [*cmd, str(folder / f"log{seed}.jsonl")],
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=files.enter_context((folder / f"err{seed}.txt").open("w")),
                    text=True,
                )
            )
        _restart_then_wait(procs, pg)
    failed = {
        n: (folder / f"err{n}.txt").read_text()[-3000:]
        for n, proc in enumerate(procs)
        if proc.returncode != 0
    }
    assert not failed, failed
    lines = []
    for seed in range(WRITERS):
        logged = [json.loads(t) for t in (folder / f"log{seed}.jsonl").read_text().splitlines()]
        assert [e["edit"] for e in logged] == list(range(EDITS)), f"writer {seed} lost an edit"
        lines.extend(logged)
    return lines


def _restart_then_wait(procs: list[subprocess.Popen[str]], pg: postgres.Server) -> None:
    """Restart the server once the first writer is a third of the way; wait for them all
    (killing any still running when something fails)."""
    try:
        first = procs[0].stdout
        assert first is not None
        for line in first:  # the first writer's progress, an edit's number a line
            if int(line) >= EDITS // 3:
                break
        try:
            pg.restart()
        finally:
            if not pg.running():
                pg.start()
        for proc in procs:
            proc.communicate(timeout=60 + EDITS)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate()


def _replay(what: str, start: State, edits: list[dict[str, Any]], final: State) -> None:
    """The stored edits of one row, in the order of the versions they wrote (an unknown one
    filling a gap where it could have), make the row as it is: each was made from the
    version just before it, and its values are the merge of its fields into that version's."""
    stored: dict[int, dict[str, Any]] = {}
    for e in edits:
        if e["outcome"] == "stored":
            assert e["version"] not in stored, f"{what}: two edits stored as version {e['version']}"
            stored[e["version"]] = e
        elif e["outcome"] == "conflict" and e["version"] is not None:
            assert e["version"] != e["seen"], f"{what}: an edit refused though not changed: {e}"
    unknown = [e for e in edits if e["outcome"] == "unknown"]
    version, values = start
    while version < final[0]:
        found = stored.get(version + 1)
        if found is None:  # the gap must be an edit whose commit was cut off, made from here
            found = next((u for u in unknown if u["seen"] == version), None)
            assert found is not None, f"{what}: version {version + 1} was written by no edit"
            unknown.remove(found)
        e = found
        assert e["seen"] == version, f"{what}: stored from an old reading: {e}"
        merged = rules.merge(values, e["fields"])
        if e["outcome"] == "stored":
            assert e["value"] == merged, f"{what}: version {version + 1} lost an edit: {e}"
        version, values = version + 1, merged
    assert max(stored, default=0) <= final[0], f"{what}: a stored edit is gone: {final}"
    assert (version, values) == final, f"{what}: the stored edits make {values}, not {final}"


def _check_moves(
    start: dict[int, Pair], final: dict[int, Pair], moves: list[dict[str, Any]]
) -> None:
    """A move names the photo's version its writer read (issue 21): each stored move counted
    one change from that version, no two were stored from one reading, a refused one was
    refused because the photo had moved on, and each photo is where the stored move of the
    highest version put it (or an unknown one made after it; or where it was, unmoved).
    Other photos' moves count changes of a photo too (it is re-expressed or judged again
    when its group's reference leaves), so its versions need not follow one another."""
    for photo, where in final.items():
        mine = [e for e in moves if e["target"] == photo]
        stored = sorted((e for e in mine if e["outcome"] == "stored"), key=lambda e: e["version"])
        for e in stored:
            assert e["version"] == e["seen"] + 1, f"photo {photo}: a move counted wrong: {e}"
        readings = Counter(e["seen"] for e in stored)
        assert max(readings.values(), default=1) == 1, f"photo {photo}: two moves from {readings}"
        for e in mine:
            if e["outcome"] == "conflict" and e["version"] is not None:
                assert e["version"] != e["seen"], f"photo {photo}: refused though unchanged: {e}"
        last = stored[-1] if stored else None
        possible = {tuple(last["value"]) if last else start[photo]} | {
            tuple(e["value"])
            for e in mine
            if e["outcome"] == "unknown" and (last is None or e["seen"] >= last["version"])
        }
        assert where in possible, f"photo {photo} at {where}, not where its last move put it"


def test_five_writers_and_a_server_restart_lose_no_edit(
    clinic: str, pg_server: postgres.Server, tmp_path: Path
) -> None:
    lib = ServerLibrary.open_server(clinic)
    try:
        _seed(lib, tmp_path)
        rated0, records0 = _states(lib)
        photos0 = {p[0]: (p[1], p[2]) for p in _photos(lib).values()}
    finally:
        lib.close()
    began = time.monotonic()
    log = _run_writers(clinic, pg_server, tmp_path)
    took = time.monotonic() - began
    lib = ServerLibrary.open_server(clinic)
    try:
        rated, records = _states(lib)
        photos = _photos(lib)
    finally:
        lib.close()

    outcomes = Counter(e["outcome"] for e in log)
    kinds = Counter((e["kind"], e["outcome"]) for e in log)
    retried = sum(e["retries"] for e in log)
    figures = (
        f"{WRITERS} writers × {EDITS} edits in {took:.1f} s: {dict(outcomes)}, {dict(kinds)}, "
        f"{retried} made again after reconnecting"
    )
    print(figures)
    assert len(log) == WRITERS * EDITS and set(outcomes) <= {"stored", "conflict", "unknown"}
    assert outcomes["unknown"] <= WRITERS, figures  # one edit in flight a writer at the crash
    assert retried + outcomes["unknown"] > 0, "no writer felt the restart"
    assert outcomes["conflict"] > 0 and outcomes["stored"] > WRITERS * EDITS // 3, figures

    for kind, start, final in (("rating", rated0, rated), ("record", records0, records)):
        assert final.keys() == start.keys()
        for pair, state in final.items():
            mine = [e for e in log if e["kind"] == kind and tuple(e["target"]) == pair]
            _replay(f"the {kind} of {pair}", start[pair], mine, state)

    seeded = set(photos0)
    _check_moves(
        photos0,
        {p[0]: (p[1], p[2]) for p in photos.values() if p[0] in seeded},
        [e for e in log if e["kind"] == "move"],
    )

    imported = [e for e in log if e["kind"] == "import"]
    for e in imported:
        there = photos.get(e["target"])
        if e["outcome"] == "stored":
            assert there is not None, f"an import stored is gone: {e}"
            assert there[:3] == (e["photo"], e["visit"], e["value"][0]), (there, e)
            assert str(there[3]) == e["value"][1]
        elif e["outcome"] == "conflict":
            # Refused only when two writers made the visit of a new day at the same moment.
            assert dt.date.fromisoformat(e["value"][1]) not in w.DAYS, e
            assert there is None, f"an import refused was stored: {e}"
        assert there is None or there[4], f"an imported photo's original is missing: {e}"
    others = set(photos) - {e["target"] for e in imported}
    assert {photos[sha][0] for sha in others} == seeded, "photos no writer imported"

    checked = run_cli("--library", clinic, "check", "--json")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"] is True and report["problems"] == [], report
