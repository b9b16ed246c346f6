"""Opening a library in a PostgreSQL server (issue 21): checked, migrated under an advisory lock
so that two workstations starting at once do not both migrate, a newer or empty database
refused; and the folder library never loads psycopg."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import REPO
from tracker.core.db import engine as db
from tracker.core.db import server
from tracker.core.db.server_errors import DatabaseBusy
from tracker.core.errors import ForeignSchema, NewerLibraryError, NoLibrary


def _scalar(url: str, sql: str) -> object:
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sa.text(sql))
    finally:
        engine.dispose()


def _execute(url: str, *sql: str) -> None:
    engine = server.make_pg_engine(url)
    try:
        with engine.begin() as conn:
            for statement in sql:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def test_an_empty_database_is_refused_unless_asked_to_create(pg_url: str) -> None:
    with pytest.raises(NoLibrary, match=r"holds no library .*'tracker clinic create'"):
        server.open_server(pg_url)
    assert _scalar(pg_url, "SELECT to_regclass('alembic_version')") is None
    server.open_server(pg_url, create=True).dispose()
    assert _scalar(pg_url, "SELECT version_num FROM alembic_version") == db.head_revision()
    # Made once, it opens without being asked to create.
    server.open_server(pg_url).dispose()


def test_an_older_library_is_migrated_and_a_newer_one_refused(pg_url: str) -> None:
    old = server.make_pg_engine(pg_url)
    server.upgrade(old, "0004")
    old.dispose()
    server.open_server(pg_url).dispose()
    assert _scalar(pg_url, "SELECT version_num FROM alembic_version") == db.head_revision()
    _execute(pg_url, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(NewerLibraryError) as caught:
        server.open_server(pg_url)
    assert str(caught.value) == (
        "This library was written by a newer version of the app (schema 9999). "
        "Update the app to open it; the library has not been changed."
    )
    assert _scalar(pg_url, "SELECT version_num FROM alembic_version") == "9999"


def test_a_foreign_object_is_refused_before_migrating_and_nothing_changes(pg_url: str) -> None:
    old = server.make_pg_engine(pg_url)
    server.upgrade(old, "0004")
    old.dispose()
    _execute(pg_url, "CREATE VIEW everyone AS SELECT * FROM client")
    with pytest.raises(ForeignSchema, match=r"holds a view named 'everyone'.*it was not opened"):
        server.open_server(pg_url)
    assert _scalar(pg_url, "SELECT version_num FROM alembic_version") == "0004"
    # A database holding tables but no library is not taken for an empty one.
    _execute(pg_url, "DROP TABLE alembic_version")
    with pytest.raises(ForeignSchema, match="holds a view named 'everyone'"):
        server.open_server(pg_url, create=True)


def test_an_up_to_date_library_opens_without_the_migration_lock(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.open_server(pg_url, create=True).dispose()
    monkeypatch.setattr(server, "LOCK_WAIT_S", 0.2)
    holder = server.make_pg_engine(pg_url)
    try:
        with holder.begin() as conn:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": server.MIGRATION_LOCK})
            server.open_server(pg_url).dispose()  # does not wait for the lock
            # One to migrate waits for it, and says so when it waits too long.
            _execute(pg_url, "UPDATE alembic_version SET version_num = '0004'")
            with pytest.raises(DatabaseBusy, match="is busy"):
                server.open_server(pg_url)
    finally:
        holder.dispose()


@pytest.mark.parametrize("starting", ["empty", "older"])
def test_two_workstations_opening_at_once_migrate_it_once(pg_url: str, starting: str) -> None:
    if starting == "older":
        old = server.make_pg_engine(pg_url)
        server.upgrade(old, "0002")
        old.dispose()
    # Without the lock, the second to create a table fails on the first's (a duplicate key in
    # the catalog) or finds the revision moved under it.
    ready = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            ready.wait(timeout=30)
            server.open_server(pg_url, create=True).dispose()
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert _scalar(pg_url, "SELECT count(*) FROM alembic_version") == 1
    assert _scalar(pg_url, "SELECT version_num FROM alembic_version") == db.head_revision()


def test_two_processes_opening_an_empty_database_at_once(pg_url: str) -> None:
    code = (
        "import sys; from tracker.core.db import server; "
        "server.open_server(sys.argv[1], create=True).dispose(); print('opened')"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, pg_url],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err for _, err in outs]
    assert all(out.strip() == "opened" for out, _ in outs)
    assert _scalar(pg_url, "SELECT version_num FROM alembic_version") == db.head_revision()


def test_the_folder_library_never_imports_psycopg(tmp_path: Path) -> None:
    """The desktop app's library (create, open, check) and the server modules' import."""
    code = (
        "import sys; from pathlib import Path; from tracker.core.store.library import Library; "
        "import tracker.core.db.server, tracker.core.db.server_errors; "
        "import tracker.core.db.server_schema; "
        f"root = Path({str(tmp_path / 'lib')!r}); Library.open(root, create=True).close(); "
        "Library.open(root).close(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('psycopg')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
