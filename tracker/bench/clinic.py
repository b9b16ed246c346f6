"""Clinic benchmarks (issue 21): a 20,000-photo clinic library in a throwaway PostgreSQL server
(``pg``), opened, switched from client to client on the server's unix socket and through a
proxy adding 30 ms each way (``delay_proxy``), and 12 MP JPEGs imported into it against a
folder library's rate in the same run.

The open and switch rows run the calls the window makes, in its order, not the window:
``MainWindow.set_library`` then ``refresh`` (the audit entry; ``client_data.shown``: the client
list, the first client's areas, timeline and last visit in one round trip; the measures of the
visit's photos) and ``_on_sidebar_client_chosen`` (the same for the client chosen; its audit
entry is written on a thread of its own, ``PrivacyController.viewed``, so it is not timed).
The Visit tab is the one shown, so the Progress tab's queries are not run. The thumbnails the
window loads in the background are a row of their own, without a budget.

The library is written straight to the database as the large folder library's is
(``window.build_large``): rows in bulk, a small real thumbnail per photo, no originals.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, text

from tracker.bench import p95, record, skin_photo, timed
from tracker.bench.clinic_import import empty_clinic, import_row
from tracker.bench.delay_proxy import DelayProxy
from tracker.bench.pg import Server, Unavailable, running_server
from tracker.bench.window import PYCACHE
from tracker.core.crypto.layout import CHUNK
from tracker.core.db import server as db_server
from tracker.core.db.models import (
    Area,
    Blob,
    BlobChunk,
    Client,
    DateSource,
    Photo,
    Visit,
    VisitKind,
)
from tracker.core.domain.consent import Action
from tracker.core.queries import browse, client_data, search
from tracker.core.queries.measures import photo_measures
from tracker.core.queries.rows import PhotoRow
from tracker.core.services import audit, visits
from tracker.core.store.library import Library
from tracker.core.store.photos import seal
from tracker.core.store.server_library import ServerLibrary

DELAY_S = 0.030
FULL = (4000, 3000)
THUMB_SWITCHES = 5
EDITS = 10  # treatment record edits per edit row


# -- what the window runs ------------------------------------------------------------------------


@dataclass
class Shown:
    """What the window shows after a refresh: the choices and the visit's photos of the area."""

    client_id: int | None
    area_id: int | None
    visit_id: int | None
    photos: list[PhotoRow] = field(default_factory=list)
    timeline: list[PhotoRow] = field(default_factory=list)


def window_refresh(lib: Library, client_id: int | None) -> Shown:
    """``MainWindow.refresh`` in practitioner mode with no search, area and visit not chosen
    (as after ``set_library`` or a client chosen): ``client_data.shown``, then the search's
    filter and the measures of the visit's photos (``measuring.refresh_panel``)."""
    view = client_data.shown(lib, client_id)
    search.matching(view.clients, "")
    area = (
        next((a for a in view.detail.areas if a.area.id == view.area_id), None)
        if view.detail
        else None
    )
    photos = list(area.photos) if area else []
    photo_measures(lib, [p.id for p in photos])
    return Shown(
        view.client_id,
        view.area_id,
        view.visit_id,
        photos,
        [p for r in view.timeline for p in r.photos],
    )


def window_open(url: str) -> tuple[Library, Shown]:
    """``ServerLibrary.open_server`` and what ``set_library`` reads to show the library."""
    lib = ServerLibrary.open_server(url)
    audit.record(lib, Action.OPENED)
    return lib, window_refresh(lib, None)


def window_switch(lib: Library, client_id: int) -> Shown:
    """``_on_sidebar_client_chosen``: the refresh (its audit entry is not the window's wait)."""
    return window_refresh(lib, client_id)


def thumbs_per_task() -> int:
    """The window's ``ui.models.THUMBS_PER_TASK``: how many thumbnails one task loads."""
    # start-up time: Qt is loaded for the thumbnails' rows only, not with this module, which
    # the timed child that opens the library imports (``_child_open``)
    from tracker.ui.models import THUMBS_PER_TASK

    return THUMBS_PER_TASK


def load_thumbnails(lib: Library, shown: Shown, per_task: int | None = None) -> None:
    """The thumbnails the window asks for after a switch (the timeline's and the visit's), a
    task's worth (``per_task``, else ``thumbs_per_task()``; a caller that times this passes
    it, so Qt's import is not timed) at a time as ``ThumbnailCache`` loads them, one task
    after the other (the window runs a few at once)."""
    per_task = per_task or thumbs_per_task()
    shas = list(dict.fromkeys(p.sha256 for p in [*shown.timeline, *shown.photos]))
    for start in range(0, len(shas), per_task):
        chunk = shas[start : start + per_task]
        held = lib.cached("thumbs", chunk)
        for sha in chunk:
            held.get(sha) or lib.derived("thumbs", sha)


def _child_open(url: str) -> None:
    """Runs in its own process: opens the library as the window would, then says so."""
    lib, shown = window_open(url)
    print("shown", flush=True)
    print(json.dumps({"client": shown.client_id, "photos": len(shown.photos)}), flush=True)
    lib.close()


CHILD_OPEN = (
    f"import sys; from tracker.bench.clinic import {_child_open.__name__}; "
    f"{_child_open.__name__}(sys.argv[1])"
)


# -- the library -------------------------------------------------------------------------------


def thumbnails(size: tuple[int, int] = (256, 192)) -> list[bytes]:
    made = []
    for i in range(8):
        buf = io.BytesIO()
        skin_photo(i, size).save(buf, "JPEG", quality=80)
        made.append(buf.getvalue())
    return made


def build_clinic(server: Server, clients: int, per_client: int) -> str:
    """A new clinic library (``roles.create_clinic``, as ``tracker clinic create``) holding
    ``clients`` x ``per_client`` photos and their thumbnails, written in bulk; its URL."""
    url = empty_clinic(server)
    thumbs = thumbnails()
    visits_per = max(1, per_client // 4)
    base = dt.date(2024, 1, 1)
    engine = db_server.open_server(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(Client), [{"id": c + 1, "name": f"Client {c:04}"} for c in range(clients)]
            )
            conn.execute(
                insert(Area),
                [
                    {"id": c + 1, "client_id": c + 1, "name": "Lower abdomen"}
                    for c in range(clients)
                ],
            )
            conn.execute(
                insert(Visit),
                [
                    {
                        "id": c * visits_per + v + 1,
                        "client_id": c + 1,
                        "date": base + dt.timedelta(days=30 * v),
                        "kind": VisitKind.BASELINE if v == 0 else VisitKind.TREATMENT,
                        "notes": "",
                    }
                    for c in range(clients)
                    for v in range(visits_per)
                ],
            )
            photos, blobs, chunks = [], [], []
            for c in range(clients):
                for k in range(per_client):
                    sha = hashlib.sha256(f"{c}-{k}".encode()).hexdigest()
                    v = k % visits_per
                    taken = dt.datetime.combine(
                        base + dt.timedelta(days=30 * v), dt.time(10, k % 60)
                    )
                    photos.append(
                        {
                            "id": c * per_client + k + 1,
                            "visit_id": c * visits_per + v + 1,
                            "area_id": c + 1,
                            "view": "front" if k % 2 == 0 else "close-up",
                            "taken_at": taken,
                            "date_source": DateSource.EXIF,
                            "width": 4000,
                            "height": 3000,
                            "sha256": sha,
                            "ext": "jpg",
                            "format": "JPEG",
                            "file_size": 3_000_000,
                            "original_name": f"IMG_{k}.jpg",
                        }
                    )
                    # As DatabaseBlobStore.put stores a thumbnail: sealed, in 1 MiB chunks.
                    sealed = seal(thumbs[(c + k) % len(thumbs)], sha)
                    assert len(sealed) < CHUNK
                    blobs.append(
                        {"sha256": sha, "kind": "thumbs", "size": len(sealed), "chunks": 1}
                    )
                    chunks.append({"sha256": sha, "kind": "thumbs", "seq": 0, "data": sealed})
            conn.execute(insert(Photo), photos)
            conn.execute(insert(Blob), blobs)
            conn.execute(insert(BlobChunk), chunks)
            # The ids were given: the sequences go on after them, as if the rows were made one
            # by one (an import makes its client, area, visit and photo after these).
            for table in ("client", "area", "visit", "photo"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        # The planner's statistics, as autovacuum keeps them for a library grown over time.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return url


# -- the rows --------------------------------------------------------------------------------


@dataclass
class Counts:
    """Statements sent and sessions begun on an engine (a pool checkout each)."""

    statements: int = 0
    sessions: int = 0

    def watch(self, lib: Library) -> None:
        def on_statement(*_args: Any) -> None:
            self.statements += 1

        def on_checkout(*_args: Any) -> None:
            self.sessions += 1

        event.listen(lib.engine, "before_cursor_execute", on_statement)
        event.listen(lib.engine, "checkout", on_checkout)


def _time_to_shown(cmd: list[str]) -> tuple[float, list[str]]:
    """As ``window._time_to_shown`` (from compiled bytecode), the child's pipe closed after."""
    env = {**os.environ, "PYTHONPYCACHEPREFIX": PYCACHE}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    with (
        tempfile.TemporaryFile("w+") as errors,
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors, text=True, env=env) as proc,
    ):
        assert proc.stdout is not None
        first = proc.stdout.readline()
        shown = (time.perf_counter() - start) * 1000
        rest = proc.stdout.read().splitlines()
        code = proc.wait()
        if first.strip() != "shown" or code != 0:
            errors.seek(0)
            tail = "\n".join(errors.read().splitlines()[-15:])
            raise RuntimeError(f"the benchmark's opening process failed (exit {code}):\n{tail}")
    return shown, rest


def _open_row(url: str, label: str, budget_ms: float | None) -> None:
    runs = [_time_to_shown([sys.executable, "-c", CHILD_OPEN, url]) for _ in range(3)]
    opened = min(r[0] for r in runs)
    found = json.loads(runs[0][1][-1])
    if found["client"] is None:
        raise RuntimeError("the clinic library opened with no client to show")
    record(
        label,
        opened,
        "ms",
        None,
        f"<= {budget_ms:.0f} ms" if budget_ms is not None else "(no budget)",
        opened <= budget_ms if budget_ms is not None else None,
    )


def _switch_rows(
    url: str, ids: list[int], where: str, budget_ms: float, proxy: DelayProxy | None = None
) -> float:
    """Switch to each client of ``ids`` in turn; the p95's row, and per switch the statements,
    sessions and (through ``proxy``) the requests it sent. The p95."""
    lib, shown = window_open(url)
    try:
        window_switch(lib, ids[-1])  # the pool's connection made, as in a window already open
        counts = Counts()
        counts.watch(lib)
        requests = proxy.requests if proxy is not None else 0
        took = [timed(partial(window_switch, lib, cid)) for cid in ids]
        per = len(ids)
        sent = f", {(proxy.requests - requests) / per:.0f} requests" if proxy is not None else ""
        record(
            f"clinic: switch client p95, {where}",
            p95(took),
            "ms",
            None,
            f"<= {budget_ms:.0f} ms",
            p95(took) <= budget_ms,
        )
        print(
            f"  ({per} switches: {counts.statements / per:.0f} statements one by one and "
            f"{counts.sessions / per:.0f} connections each, besides the reads sent together"
            f"{sent}; median {sorted(took)[per // 2]:.0f} ms)"
        )
        # The thumbnails of the first few clients (read for the first time): what the worker
        # threads fetch after each switch.
        loads, per_task = [], thumbs_per_task()  # Qt loaded before the timing
        for cid in ids[:THUMB_SWITCHES]:
            shown = window_refresh(lib, cid)
            loads.append(timed(partial(load_thumbnails, lib, shown, per_task)))
        record(
            f"  then its {len(shown.timeline)} thumbnails, {where}",
            p95(loads),
            "ms",
            None,
            "(background, 1 thread)",
            None,
        )
        return p95(took)
    finally:
        lib.close()


def _edit_row(url: str, client_id: int, where: str, proxy: DelayProxy | None = None) -> None:
    """A treatment record's edit from the visit panel, as the window makes it today on its
    GUI thread (``SetTreatment``: ``visits.edit_treatment`` naming the version shown), and the
    refresh that shows it: the p95 of ``EDITS``, and (through ``proxy``) the requests each."""
    lib, _shown = window_open(url)
    try:
        shown = window_refresh(lib, client_id)
        visit, area = shown.visit_id, shown.area_id
        if visit is None or area is None:
            raise RuntimeError(f"client {client_id} has no visit or area to edit")
        detail = browse.visit_detail(lib, visit)
        seen = next(a for a in detail.areas if a.area.id == area).treatment_version
        took, requests = [], proxy.requests if proxy is not None else 0
        for n in range(EDITS):

            def edit(pain: int = n % 11) -> None:
                nonlocal seen
                seen = visits.edit_treatment(lib, visit, area, {"pain": pain}, seen=seen).version
                window_refresh(lib, client_id)

            took.append(timed(edit))
        sent = (
            f", {(proxy.requests - requests) / EDITS:.0f} requests each"
            if proxy is not None
            else ""
        )
        record(
            f"clinic: edit a record and show it p95, {where}",
            p95(took),
            "ms",
            None,
            "(GUI thread today)",
            None,
        )
        print(f"  ({EDITS} edits{sent}; median {sorted(took)[EDITS // 2]:.0f} ms)")
    finally:
        lib.close()


def bench_clinic(
    work: Path,
    clients: int,
    per_client: int,
    switches: int,
    jpegs: int,
    jpeg_size: tuple[int, int] = FULL,
    delay_s: float = DELAY_S,
) -> None:
    """The clinic rows, switching to ``switches`` clients spread over the list and importing
    ``jpegs`` photos of ``jpeg_size``, with the proxy adding ``delay_s`` each way; a sentence
    instead when no PostgreSQL server can be started here."""
    try:
        with running_server() as server:
            start = time.perf_counter()
            url = build_clinic(server, clients, per_client)
            took = time.perf_counter() - start
            print(
                f"  (clinic library: {clients * per_client} photos over {clients} clients "
                f"built in {took:.1f} s; the window's queries, not the window)"
            )
            ids = list(range(1, clients + 1))
            step = max(1, clients // switches)
            chosen = ids[::step][:switches]
            photos = clients * per_client
            _open_row(url, f"clinic: open {photos} photos, start to 1st visit", 2000)
            _switch_rows(url, chosen, "on localhost", 150)
            _edit_row(url, chosen[0], "on localhost")
            slow_link = f"+{delay_s * 1000:g} ms each way"
            with DelayProxy(server.socket, delay_s=delay_s) as proxy:
                slow = proxy.reaching(url)
                _open_row(slow, f"clinic: open {photos}, {slow_link}", None)
                _switch_rows(slow, chosen, slow_link, 400, proxy)
                _edit_row(slow, chosen[0], slow_link, proxy)
            import_row(work, server, url, jpegs, jpeg_size)
    except Unavailable as exc:
        print(f"  (clinic rows skipped: {exc})")
