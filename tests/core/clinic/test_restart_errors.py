"""A connection refused while the server was starting up (or shutting down), asked about once
it is up (issue 21): the questions ``server_errors`` asks after a refusal are answered by the
server as it is now, so a login it takes now is not told it may not connect, but to try again.
Found by the many-writers test: a workstation reconnecting during the restart was told "Your
login postgres may not connect"."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests import postgres
from tests.core.clinic import writer
from tracker.core.db import server
from tracker.core.db import server_errors as se


def _refusal(url: str) -> DBAPIError:
    engine = server.make_pg_engine(url)
    try:
        with pytest.raises(DBAPIError) as caught, engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        return caught.value
    finally:
        engine.dispose()


def test_a_refusal_the_server_no_longer_makes_is_told_as_momentary(
    pg_server: postgres.Server, pg_url: str
) -> None:
    database = make_url(pg_url).database
    login = f"desk_{uuid.uuid4().hex[:8]}"
    url = make_url(pg_url).set(username=login).render_as_string(hide_password=False)
    pg_server.admin(f"CREATE ROLE {login} LOGIN")
    try:
        pg_server.admin(f"REVOKE CONNECT ON DATABASE {database} FROM PUBLIC")
        refused = _refusal(url)
        # Still refused when asked: the login's right is what is missing.
        still = se.translate(refused, make_url(url))
        assert type(still) is se.PermissionRefused, still
        # Taken by the time it is asked (as a server that finished starting up takes it).
        pg_server.admin(f"GRANT CONNECT ON DATABASE {database} TO {login}")
        now = se.translate(refused, make_url(url))
        assert type(now) is se.ServerUnreachable, now
        assert str(now) == (
            f"The server of the database '{database}' on {pg_server.socket_dir} was not "
            "accepting connections a moment ago (starting up or shutting down); try again in "
            "a moment."
        )
    finally:
        pg_server.admin(f"REVOKE ALL ON DATABASE {database} FROM {login}")
        pg_server.admin(f"DROP ROLE {login}")


@pytest.mark.parametrize("at_commit", [True, False])
def test_a_connection_lost_at_the_commit_is_told_from_one_lost_before_it(
    pg_server: postgres.Server, pg_url: str, at_commit: bool
) -> None:
    """The writer logs an edit as unknown only when the connection broke at its COMMIT; one
    broken during a statement before it stored nothing, and the edit is made again."""
    engine = server.make_pg_engine(pg_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE edit (n integer)"))
        with engine.connect() as conn:
            pid = conn.scalar(sa.text("SELECT pg_backend_pid()"))
            conn.execute(sa.text("INSERT INTO edit VALUES (1)"))
            pg_server.admin(f"SELECT pg_terminate_backend({pid})")
            with pytest.raises(se.ConnectionLost) as caught, se.translated(engine.url):
                if at_commit:
                    conn.commit()
                else:
                    conn.execute(sa.text("SELECT count(*) FROM edit"))
        assert writer.lost_in_commit(caught.value) is at_commit
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM edit")) == 0
    finally:
        engine.dispose()
