"""The clinic benchmarks (tracker/bench/clinic.py) end to end at a tiny size, on the harness's
own throwaway server (tracker/bench/pg.py): the library it builds reads back as built, through
the calls the window makes, and every row is printed with its verdict."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import postgres
from tracker.bench import ROWS
from tracker.bench import clinic as bench
from tracker.bench.delay_proxy import DelayProxy
from tracker.bench.pg import Server, find_bin_dir, running_server
from tracker.core.db.models import Blob, Photo
from tracker.core.queries import browse


@pytest.fixture(scope="module")
def bench_server() -> Iterator[Server]:
    if find_bin_dir() is None:
        postgres.unavailable("no initdb/pg_ctl under /usr/lib/postgresql/*/bin")
    with running_server() as server:
        yield server


def test_the_built_library_reads_back_through_the_windows_calls(bench_server: Server) -> None:
    url = bench.build_clinic(bench_server, clients=3, per_client=8)
    lib, shown = bench.window_open(url)
    try:
        clients = browse.clients(lib)
        assert [c.name for c in clients] == ["Client 0000", "Client 0001", "Client 0002"]
        assert {(c.areas, c.visits) for c in clients} == {(1, 2)}
        assert shown.client_id == clients[0].id
        # Two visits of four photos each; the last visit is shown, its measures read.
        assert len(shown.timeline) == 8 and len(shown.photos) == 4
        switched = bench.window_switch(lib, clients[2].id)
        assert switched.client_id == clients[2].id and switched.visit_id != shown.visit_id
        counts = bench.Counts()
        counts.watch(lib)
        # Sealed as the store seals them, or refused; eight at a time in one statement (the
        # statement of ``Library.cached``), none made again from its original (there is none).
        bench.load_thumbnails(lib, switched)
        assert counts.statements == 1 and counts.sessions == 1
        with lib.session() as s:
            assert s.scalar(select(func.count()).select_from(Photo)) == 24
            assert s.scalar(select(func.count()).select_from(Blob)) == 24
    finally:
        lib.close()


def test_a_switch_through_the_proxy_costs_its_round_trips(bench_server: Server) -> None:
    url = bench.build_clinic(bench_server, clients=2, per_client=4)
    with DelayProxy(bench_server.socket, delay_s=0.02) as proxy:
        lib, _shown = bench.window_open(proxy.reaching(url))
        try:
            bench.window_switch(lib, 1)  # as in a window open a while (the bench's first)
            before = proxy.requests
            took = bench.timed(lambda: bench.window_switch(lib, 2))
            trips = proxy.requests - before  # before the close's goodbye
        finally:
            lib.close()
    # What the window shows in one, the visit's photos' measures in another (``client_data``).
    assert trips == 2
    assert took >= trips * 2 * 0.02 * 1000 * 0.9


def test_the_rows_are_printed_with_their_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if find_bin_dir() is None:
        postgres.unavailable("no initdb/pg_ctl under /usr/lib/postgresql/*/bin")
    first = len(ROWS)
    bench.bench_clinic(tmp_path, 4, 8, 3, 2, (400, 300), delay_s=0.01)
    rows = {r.name: r for r in ROWS[first:]}
    assert list(rows) == [
        "clinic: open 32 photos, start to 1st visit",
        "clinic: switch client p95, on localhost",
        "  then its 8 thumbnails, on localhost",
        "clinic: edit a record and show it p95, on localhost",
        "clinic: open 32, +10 ms each way",
        "clinic: switch client p95, +10 ms each way",
        "  then its 8 thumbnails, +10 ms each way",
        "clinic: edit a record and show it p95, +10 ms each way",
        "clinic: import 2 x 0.12 MP JPEG, photos/s",
    ]
    assert all(r.value > 0 for r in rows.values())
    budgeted = [r for r in rows.values() if r.budget.startswith(("<=", ">="))]
    assert len(budgeted) == 4 and all(r.ok is not None for r in budgeted)
    imported = rows["clinic: import 2 x 0.12 MP JPEG, photos/s"]
    assert imported.floor is not None and imported.floor > 0
    local = rows["clinic: switch client p95, on localhost"].value
    assert rows["clinic: switch client p95, +10 ms each way"].value > local + 20
    edit = rows["clinic: edit a record and show it p95, on localhost"].value
    assert rows["clinic: edit a record and show it p95, +10 ms each way"].value > edit + 20
    out = capsys.readouterr().out
    assert "32 photos over 4 clients" in out and "requests; median" in out
    assert "10 edits, " in out and "requests each; median" in out
