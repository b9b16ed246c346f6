"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, listening only on a
unix socket in that folder (no TCP), stopped and removed at the end of the session. It is
started as the benchmarks' is (``tracker.bench.pg.cluster``, the one copy of that start).

The server's binaries are Debian's (``/usr/lib/postgresql/<major>/bin``; .ci/run installs the
``postgresql`` package). Without them the PostgreSQL tests are skipped on a developer's
machine, but fail when ``CI`` is set: CI must not pass by silently testing nothing. PostgreSQL
refuses to run as root, so as root the server runs as ``nobody``.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tracker.bench import pg
from tracker.bench.pg import find_bin_dir
from tracker.core.db import roles, server

__all__ = ["PASSWORD_GROUP", "Server", "find_bin_dir", "running_server", "unavailable"]

# Members of this group role log in with a password (SCRAM); everyone else is trusted.
PASSWORD_GROUP = "password_login"


def unavailable(reason: str) -> None:
    """Skip the test, or fail it on CI, where the server must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot run on CI: {reason}.", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@dataclass(frozen=True)
class Server:
    socket_dir: Path
    pg_ctl: tuple[str, ...] = ()
    as_user: str | None = None
    # What follows pg_ctl to start it again on the same socket (``start``): its log and options.
    start_args: tuple[str, ...] = ()

    @property
    def socket(self) -> str:
        """The unix socket the server listens on (a delaying proxy's target)."""
        return str(self.socket_dir / ".s.PGSQL.5432")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def admin(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE) as the superuser."""
        # start-up time: psycopg is only needed by the PostgreSQL tests
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir), user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql.encode())

    def stop(self) -> None:
        """Stop the server at once, as a crash or a pulled cable would (``-m immediate``)."""
        pg.run([*self.pg_ctl, "-m", "immediate", "-w", "stop"], self.as_user, timeout=60)

    def start(self) -> None:
        """Start the stopped server again, as it was started (after a ``stop``: it recovers
        from its log as after a crash)."""
        pg.run([*self.pg_ctl, *self.start_args], self.as_user, timeout=60)

    def restart(self) -> None:
        """Stop the server at once (``stop``) and start it again: a crash and a reboot."""
        self.stop()
        self.start()

    def running(self) -> bool:
        return pg.Cluster(self.socket_dir, self.pg_ctl, self.as_user).running()

    @contextlib.contextmanager
    def clinic(self) -> Iterator[str]:
        """A new database made a clinic library (as ``tracker clinic create`` makes one, by
        the superuser, who owns it), dropped afterwards; its URL."""
        with self.database() as url:
            engine = server.make_pg_engine(url)
            try:
                roles.create_clinic(engine)
            finally:
                engine.dispose()
            yield url

    @contextlib.contextmanager
    def database(self) -> Iterator[str]:
        """A new empty database's URL, dropped afterwards (with anything still connected)."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
        try:
            yield self.url(name)
        finally:
            self.admin(f"DROP DATABASE {name} WITH (FORCE)")


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    """Start a server for the session (``tracker.bench.pg.cluster``, the benchmarks' too),
    members of ``PASSWORD_GROUP`` logging in with a password; skips (or fails on CI) when it
    cannot."""
    with contextlib.ExitStack() as stack:
        try:
            started = stack.enter_context(
                # find_bin_dir looked up here, where a test may replace it
                pg.cluster(find_bin_dir(), "pg-", f"local all +{PASSWORD_GROUP} scram-sha-256\n")
            )
        except pg.Unavailable as exc:
            unavailable(str(exc))
            raise AssertionError from exc  # unreachable: unavailable() raises
        start = pg.start_args(started.root)
        found = Server(started.root, started.pg_ctl, started.as_user, start)
        found.admin(f"CREATE ROLE {PASSWORD_GROUP} NOLOGIN")
        yield found
