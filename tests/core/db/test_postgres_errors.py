"""A server's errors as one sentence of a typed error, by SQLSTATE (issue 21), each provoked for
real on a throwaway server: no server, a wrong password, no such login or database, a right
revoked, two transactions colliding, a read-only transaction, a connection cut."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tests import postgres
from tracker.core.db import server
from tracker.core.db import server_errors as se
from tracker.core.errors import DiskFull, ReadOnlyLibrary

PASSWORD = "Zebra-Horse-7731"
SECRET = "Ana Secret-Name"


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    engine = server.open_server(pg_url, create=True)
    yield engine
    engine.dispose()


def _as(url: str, user: str, password: str | None = None, database: str | None = None) -> str:
    parsed = make_url(url).set(username=user, password=password)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _refused(url: str) -> se.LibraryError:
    with pytest.raises(se.LibraryError) as caught:
        server.open_server(url).dispose()
    return caught.value


def _translated(engine: Engine, *sql: str, params: dict[str, object] | None = None) -> Exception:
    with (
        pytest.raises(se.LibraryError) as caught,
        se.translated(engine.url, "add clients"),
        engine.begin() as conn,
    ):
        for statement in sql:
            conn.execute(sa.text(statement), params or {})
    return caught.value


def test_a_wrong_password_or_none_is_refused_without_echoing_it(
    pg_server: postgres.Server, pg_url: str
) -> None:
    pg_server.admin(f"CREATE ROLE nurse LOGIN PASSWORD '{PASSWORD}' IN ROLE password_login")
    try:
        error = _refused(_as(pg_url, "nurse", "wrong-" + PASSWORD))
        assert type(error) is se.LoginFailed
        assert str(error).startswith("The server of the database ") and "login nurse" in str(error)
        assert PASSWORD not in str(error) and PASSWORD not in repr(error.args)
        none = _refused(_as(pg_url, "nurse"))
        assert type(none) is se.LoginFailed and "none was given" in str(none)
    finally:
        pg_server.admin("DROP ROLE nurse")


def test_no_such_login_and_no_such_database(pg_url: str) -> None:
    assert type(_refused(_as(pg_url, "ghost"))) is se.LoginFailed
    missing = _refused(_as(pg_url, "postgres", database="no_such_library"))
    assert type(missing) is se.NoSuchDatabase
    assert "holds no database named 'no_such_library'" in str(missing)


def test_a_login_without_the_right_to_connect(pg_server: postgres.Server, pg_url: str) -> None:
    name = make_url(pg_url).database
    pg_server.admin("CREATE ROLE visitor LOGIN")
    pg_server.admin(f"REVOKE CONNECT ON DATABASE {name} FROM PUBLIC")
    try:
        error = _refused(_as(pg_url, "visitor"))
        assert type(error) is se.PermissionRefused
        assert str(error).startswith(f"Your login visitor may not connect to the database '{name}'")
    finally:
        pg_server.admin("DROP ROLE visitor")


def test_a_revoked_right_is_refused_by_the_server_with_the_login_named(
    pg_server: postgres.Server, pg: Engine, pg_url: str
) -> None:
    with pg.begin() as conn:
        conn.execute(sa.text("CREATE ROLE clerk LOGIN"))
        conn.execute(sa.text("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO clerk"))
        conn.execute(sa.text("REVOKE INSERT ON client FROM clerk"))
    clerk = server.make_pg_engine(_as(pg_url, "clerk"))
    try:
        error = _translated(
            clerk,
            "INSERT INTO client (name, notes, created_at) VALUES (:name, '', now())",
            params={"name": SECRET},
        )
        assert type(error) is se.PermissionRefused
        assert str(error).startswith("Your login clerk may not add clients in the database")
        assert "permission denied for table client" in str(error)
        assert SECRET not in str(error)
    finally:
        clerk.dispose()
        with pg.begin() as conn:
            conn.execute(sa.text("DROP OWNED BY clerk"))
            conn.execute(sa.text("DROP ROLE clerk"))


def _add_client(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO client (id, name, notes, created_at) VALUES (1, 'A', '', now())")
        )
        conn.execute(
            sa.text("INSERT INTO client (id, name, notes, created_at) VALUES (2, 'B', '', now())")
        )


def test_a_serialization_failure_says_the_edit_was_not_stored(pg: Engine) -> None:
    _add_client(pg)
    with pg.connect() as first, pg.connect() as second:
        first.execute(sa.text("BEGIN ISOLATION LEVEL REPEATABLE READ"))
        second.execute(sa.text("BEGIN ISOLATION LEVEL REPEATABLE READ"))
        first.execute(sa.text("SELECT notes FROM client WHERE id = 1")).all()
        second.execute(sa.text("SELECT notes FROM client WHERE id = 1")).all()
        first.execute(sa.text("UPDATE client SET notes = 'first' WHERE id = 1"))
        first.commit()
        with pytest.raises(se.EditConflict) as caught, se.translated(pg.url):
            second.execute(
                sa.text("UPDATE client SET notes = :notes WHERE id = 1"), {"notes": SECRET}
            )
        second.rollback()
    assert str(caught.value) == (
        "Another workstation changed the same records at the same moment, so the edit was "
        "not stored; try again."
    )
    assert SECRET not in str(caught.value) and SECRET not in str(caught.value.__cause__)


def test_a_deadlock_says_the_edit_was_not_stored(pg: Engine) -> None:
    _add_client(pg)
    locked = threading.Barrier(2)
    errors: list[BaseException] = []

    def edit(first_id: int, then_id: int) -> None:
        try:
            with se.translated(pg.url), pg.begin() as conn:
                conn.execute(sa.text("SET LOCAL deadlock_timeout = '50ms'"))
                conn.execute(sa.text(f"UPDATE client SET notes = 'x' WHERE id = {first_id}"))
                locked.wait(timeout=30)
                conn.execute(sa.text(f"UPDATE client SET notes = 'y' WHERE id = {then_id}"))
        except BaseException as exc:  # collected for the test
            errors.append(exc)

    threads = [threading.Thread(target=edit, args=ids) for ids in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [type(e) for e in errors] == [se.EditConflict]
    assert getattr(errors[0].__cause__.orig, "sqlstate", None) == "40P01"  # type: ignore[union-attr]


def test_a_read_only_transaction_and_a_full_disk(pg: Engine) -> None:
    error = _translated(
        pg,
        "SET TRANSACTION READ ONLY",
        "INSERT INTO client (name, notes, created_at) VALUES (:name, '', now())",
        params={"name": SECRET},
    )
    assert type(error) is ReadOnlyLibrary and "accepts no changes now" in str(error)
    assert SECRET not in str(error)
    # The server raises 53100 itself only when its disk fills; here it is raised through it.
    full = _translated(pg, "DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = 'disk_full'; END $$")
    assert type(full) is DiskFull and str(full).startswith("The disk of the server holding")


def test_a_connection_terminated_mid_transaction_is_lost(
    pg_server: postgres.Server, pg: Engine
) -> None:
    with pg.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
        pid = conn.scalar(sa.text("SELECT pg_backend_pid()"))
        pg_server.admin(f"SELECT pg_terminate_backend({pid})")
        with pytest.raises(se.ConnectionLost) as caught, se.translated(pg.url):
            conn.execute(sa.text("UPDATE client SET notes = :n"), {"n": SECRET})
    assert "was lost" in str(caught.value) and SECRET not in str(caught.value)


def test_a_server_stopped_mid_session_then_unreachable() -> None:
    with postgres.running_server() as other:
        url = other.url("postgres")
        engine = server.open_server(url, create=True)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
                other.stop()
                with pytest.raises(se.ConnectionLost), se.translated(engine.url):
                    conn.execute(sa.text("SELECT count(*) FROM client"))
            error = _refused(url)
            assert type(error) is se.ServerUnreachable
            assert "cannot be reached" in str(error)
        finally:
            engine.dispose()
