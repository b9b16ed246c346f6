"""Changes told to other workstations by LISTEN/NOTIFY (tracker/core/db/notify.py, issue 21), on
the throwaway PostgreSQL server: what a commit tells, what a rollback never tells, a listener
that comes back after its backend is killed or its link is cut, a clean stop. The latencies
measured are printed (-s)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tests import postgres
from tests.conftest import REPO
from tests.tools.delay_proxy import DelayProxy
from tracker.core.db import engine as db
from tracker.core.db import models as m
from tracker.core.db import notify, server
from tracker.core.errors import LibraryError

# The promise: a change made on another workstation appears within 2 s.
TOLD_WITHIN_S = 2.0
# Long enough for a notification that would come to have come (it takes milliseconds).
QUIET_S = 0.5


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    engine = server.make_pg_engine(pg_url)
    server.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def factory(pg: Engine) -> sessionmaker[Session]:
    """A server library's sessions, as Library makes them, telling what they commit."""
    sessions = db.session_factory(pg)
    notify.notify_on_commit(sessions, origin="workstation-a")
    return sessions


@pytest.fixture
def listener(pg_url: str) -> Iterator[notify.ChangeListener]:
    """A listener on its own engine and connection, as another workstation's window has it."""
    engine = server.make_pg_engine(pg_url)
    with notify.ChangeListener(engine) as listening:
        assert listening.wait_listening(10)
        yield listening
    engine.dispose()


def next_change(listener: notify.ChangeListener, within: float = TOLD_WITHIN_S) -> notify.Change:
    try:
        return listener.changes.get(timeout=within)
    except queue.Empty:
        raise AssertionError(f"no change was told within {within} s") from None


def nothing_told(listener: notify.ChangeListener) -> bool:
    try:
        change = listener.changes.get(timeout=QUIET_S)
    except queue.Empty:
        return True
    raise AssertionError(f"told {change}")


def add_client(factory: sessionmaker[Session]) -> int:
    """A new client's id, committed (a change to wait for)."""
    with db.session_scope(factory) as s:
        client = m.Client(name=f"Marker {uuid.uuid4().hex[:8]}")
        s.add(client)
        s.flush()
        return client.id


def test_a_committed_change_reaches_a_listener_on_another_connection_within_2_s(
    factory: sessionmaker[Session], listener: notify.ChangeListener
) -> None:
    latencies = []
    for n in range(5):
        s = factory()
        client = m.Client(name=f"Ana Ortiz {n}")
        area = m.Area(client=client, name="Hips")
        s.add_all([client, area])
        s.flush()
        started = time.monotonic()
        s.commit()
        s.close()
        change = next_change(listener)
        latencies.append(change.received_at - started)
        assert change.tables == {"client": {client.id}, "area": {area.id}}
        assert change.origin == "workstation-a" and not change.resync
    print(
        f"\nnotify latency on the unix socket (commit to listener): "
        f"{', '.join(f'{t * 1000:.1f}' for t in latencies)} ms"
    )


def test_the_payload_names_tables_and_ids_never_a_name_or_a_note(
    pg_server: postgres.Server, pg_url: str, factory: sessionmaker[Session]
) -> None:
    database = make_url(pg_url).database
    with psycopg.connect(
        host=str(pg_server.socket_dir), user="postgres", dbname=database, autocommit=True
    ) as raw:
        raw.execute("LISTEN tracker_changes")
        with db.session_scope(factory) as s:
            client = m.Client(name="Ana Ortiz", notes="allergic to lidocaine")
            visit = m.Visit(
                client=client, date=dt.date(2026, 12, 1), kind=m.VisitKind.BASELINE, notes="keloid"
            )
            s.add_all([client, visit])
        with db.session_scope(factory) as s:
            again = s.get(m.Client, client.id)
            assert again is not None
            again.name = "Ana Ortiz-Lopez"
        payloads = [n.payload for n in raw.notifies(timeout=TOLD_WITHIN_S, stop_after=2)]
    assert len(payloads) == 2
    for payload in payloads:
        for private in ("Ana", "Ortiz", "lidocaine", "keloid"):
            assert private not in payload
        data = json.loads(payload)
        assert set(data) == {"v", "origin", "tables"}
        assert all(isinstance(i, int) for ids in data["tables"].values() for i in ids)
    assert json.loads(payloads[0])["tables"] == {"client": [client.id], "visit": [visit.id]}
    assert json.loads(payloads[1])["tables"] == {"client": [client.id]}


def test_a_rolled_back_change_is_never_told(
    factory: sessionmaker[Session], listener: notify.ChangeListener
) -> None:
    s = factory()
    s.add(m.Client(name="Rolled back"))
    s.flush()  # written and noted, then undone
    s.rollback()
    s.close()
    with pytest.raises(RuntimeError), db.session_scope(factory) as s:
        s.add(m.Client(name="Raised"))
        s.flush()
        raise RuntimeError("the action failed")
    with pytest.raises(sa.exc.IntegrityError), db.session_scope(factory) as s:
        s.add(m.Client(name="   "))  # refused by a constraint at commit's own flush
    with db.session_scope(factory) as s:
        s.scalars(sa.select(m.Client)).all()  # a read-only unit of work tells nothing either
    marker = add_client(factory)
    # Had anything before been told, it would have come first.
    assert next_change(listener).tables == {"client": {marker}}
    assert nothing_told(listener)


def test_statements_and_savepoints_are_told_once_at_commit(
    factory: sessionmaker[Session], listener: notify.ChangeListener
) -> None:
    keep = add_client(factory)
    assert next_change(listener).tables == {"client": {keep}}
    with db.session_scope(factory) as s:
        s.execute(sa.update(m.Client).where(m.Client.id == keep).values(notes="x"))
        with s.begin_nested():
            s.add(m.Client(name="In a savepoint"))
        area = m.Area(client_id=keep, name="Thigh")
        s.add(area)
    change = next_change(listener)
    # The statement's rows are not known (None); the savepoint's client and the area are.
    assert change.tables == {"client": None, "area": {area.id}}
    assert nothing_told(listener)


def test_an_id_list_too_long_for_a_notification_becomes_unknown(
    factory: sessionmaker[Session], listener: notify.ChangeListener
) -> None:
    with db.session_scope(factory) as s:
        clients = [m.Client(name=f"Client {n}") for n in range(2000)]
        area = m.Area(client=clients[0], name="Hips")
        s.add_all([*clients, area])
    change = next_change(listener)
    assert change.tables == {"client": None, "area": {area.id}}
    payload = notify.encode({"photo": set(range(5000)), "visit": {1, 2}}, "o")
    assert len(payload.encode()) < 8000
    assert json.loads(payload)["tables"] == {"photo": None, "visit": [1, 2]}


def test_the_listener_comes_back_after_its_backend_is_terminated(
    pg_server: postgres.Server, pg_url: str, factory: sessionmaker[Session]
) -> None:
    engine = server.make_pg_engine(pg_url)
    with notify.ChangeListener(engine) as listener:
        assert listener.wait_listening(10)
        first = listener.backend_pid
        assert first is not None
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        resync = next_change(listener, within=notify.RETRY_MAX_S + 5)
        assert resync.resync and resync.tables == {}
        assert listener.reconnects == 1
        assert listener.backend_pid not in (None, first)
        marker = add_client(factory)
        assert next_change(listener).tables == {"client": {marker}}
    engine.dispose()


def test_stop_closes_the_connection_and_joins_the_thread(
    pg: Engine, factory: sessionmaker[Session]
) -> None:
    def listener_threads() -> int:
        return sum(t.name == "change-listener" for t in threading.enumerate())

    listener = notify.ChangeListener(pg).start()
    assert listener.wait_listening(10)
    pid = listener.backend_pid
    assert listener_threads() == 1
    listener.stop()
    assert listener_threads() == 0 and listener.backend_pid is None
    add_client(factory)
    assert listener.changes.empty()

    def backend_gone() -> bool:
        with pg.connect() as conn:
            found = conn.scalar(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        return found == 0

    # Its server process ends once the connection is closed, a moment later.
    deadline = time.monotonic() + 10
    while not backend_gone():
        assert time.monotonic() < deadline, "the listener's backend is still there"
        threading.Event().wait(0.02)
    listener.stop()  # a second stop does nothing


def test_a_callback_gets_the_changes_and_its_own_origin_can_be_ignored(
    pg_url: str, factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    got: list[notify.Change] = []
    told = threading.Event()

    def on_change(change: notify.Change) -> None:
        got.append(change)
        told.set()
        if len(got) == 1:
            raise ValueError("a slot failed")  # logged; the listener goes on

    other = db.session_factory(factory.kw["bind"])
    notify.notify_on_commit(other, origin="workstation-b")
    engine = server.make_pg_engine(pg_url)
    with (
        caplog.at_level(logging.ERROR, logger="tracker.core.db.notify"),
        notify.ChangeListener(engine, on_change, ignore_origin="workstation-a") as listener,
    ):
        assert listener.wait_listening(10)
        add_client(factory)  # this workstation's own change: not handed on
        for _ in range(2):
            told.clear()
            add_client(other)
            assert told.wait(TOLD_WITHIN_S)
    engine.dispose()
    assert [c.origin for c in got] == ["workstation-b", "workstation-b"]
    assert "Handling a change told by the server failed" in caplog.text


def test_a_notification_that_is_not_ours_is_ignored(
    pg: Engine, factory: sessionmaker[Session], listener: notify.ChangeListener
) -> None:
    with pg.connect() as conn:
        conn.execute(sa.text("SELECT pg_notify('tracker_changes', 'reload please')"))
        conn.execute(sa.text("""SELECT pg_notify('tracker_changes', '{"v": 99}')"""))
        conn.commit()
    marker = add_client(factory)
    assert next_change(listener).tables == {"client": {marker}}
    assert notify.decode('{"v": 1, "tables": {"photo": [1, "x"]}}') is None


def test_only_a_postgresql_library_tells_its_changes() -> None:
    lite = sa.create_engine("sqlite://")
    with pytest.raises(LibraryError, match="PostgreSQL library"):
        notify.notify_on_commit(db.session_factory(lite))
    lite.dispose()


def test_importing_the_module_loads_no_psycopg() -> None:
    code = "import sys, tracker.core.db.notify; print('psycopg' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_through_a_slow_link_changes_are_told_and_a_cut_link_comes_back(
    pg_server: postgres.Server, pg_url: str, factory: sessionmaker[Session]
) -> None:
    """The listener (and then the writer too) behind a proxy adding 30 ms each way."""
    socket = pg_server.socket_dir / ".s.PGSQL.5432"
    with DelayProxy(socket) as proxy:
        via = make_url(pg_url).set(host=proxy.host, port=proxy.port, query={})
        far = server.make_pg_engine(via.render_as_string(hide_password=False))
        far_factory = db.session_factory(far)
        notify.notify_on_commit(far_factory, origin="far")
        with notify.ChangeListener(far) as listener:
            assert listener.wait_listening(10)
            near, both = [], []
            for _ in range(3):
                started = time.monotonic()
                add_client(factory)
                near.append(next_change(listener).received_at - started)
            for _ in range(3):
                started = time.monotonic()
                add_client(far_factory)
                both.append(next_change(listener).received_at - started)
            proxy.cut()
            # While cut, the listener tries again and again; then the link is back.
            proxy.resume()
            resync = next_change(listener, within=notify.RETRY_MAX_S + 5)
            assert resync.resync and listener.reconnects == 1
            marker = add_client(factory)
            assert next_change(listener).tables == {"client": {marker}}
        far.dispose()
    print(
        f"\nnotify latency, listener behind 30 ms each way: "
        f"{', '.join(f'{t * 1000:.1f}' for t in near)} ms; writer behind it too (its "
        f"pg_notify, COMMIT and the notification): {', '.join(f'{t * 1000:.1f}' for t in both)} ms"
    )
    assert min(near) >= 0.030 and min(both) >= 0.030 + 0.060


def test_a_listener_that_cannot_reach_its_server_still_stops(pg_url: str) -> None:
    with DelayProxy(("127.0.0.1", 9)) as proxy:
        proxy.cut()
        via = make_url(pg_url).set(host=proxy.host, port=proxy.port, query={})
        engine = server.make_pg_engine(via.render_as_string(hide_password=False))
        listener = notify.ChangeListener(engine).start()
        assert not listener.wait_listening(0.5)
        listener.stop()
        assert not listener.wait_listening(0)
        engine.dispose()
