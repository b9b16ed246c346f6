"""A throwaway PostgreSQL server for the tests: initdb in a temporary folder, listening only on a
unix socket in that folder (no TCP), stopped and removed at the end of the session.

The server's binaries are Debian's (``/usr/lib/postgresql/<major>/bin``; .ci/run installs the
``postgresql`` package). Without them the PostgreSQL tests are skipped on a developer's
machine, but fail when ``CI`` is set: CI must not pass by silently testing nothing. PostgreSQL
refuses to run as root, so as root the server runs as ``nobody``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tracker.core.db import roles, server

SERVER_USER = "nobody"
# Members of this group role log in with a password (SCRAM); everyone else is trusted.
PASSWORD_GROUP = "password_login"


def find_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder holding initdb and pg_ctl, or None."""
    found = []
    for bin_dir in Path("/usr/lib/postgresql").glob("*/bin"):
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
            major = bin_dir.parent.name
            found.append((int(major) if major.isdigit() else 0, bin_dir))
    return max(found)[1] if found else None


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
        _run([*self.pg_ctl, "-m", "immediate", "-w", "stop"], self.as_user)

    def start(self) -> None:
        """Start the stopped server again, as it was started (after a ``stop``: it recovers
        from its log as after a crash)."""
        _run([*self.pg_ctl, *self.start_args], self.as_user)

    def restart(self) -> None:
        """Stop the server at once (``stop``) and start it again: a crash and a reboot."""
        self.stop()
        self.start()

    def running(self) -> bool:
        cmd = [*self.pg_ctl, "status"]
        if self.as_user is not None:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, timeout=60, check=False).returncode == 0

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


def _run(cmd: list[str], as_user: str | None) -> None:
    if as_user is not None:
        cmd = ["runuser", "-u", as_user, "--", *cmd]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr or result.stdout}")


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    """Start a server for the session; skips (or fails on CI) when it cannot."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        unavailable("no initdb/pg_ctl under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
        raise AssertionError  # unreachable: unavailable() raises
    try:
        # start-up time: psycopg is only needed by the PostgreSQL tests
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("psycopg is not installed (pip install -e '.[clinic]')")
    as_user = None
    # Short path: a unix socket's path must fit in about 100 bytes.
    root = Path(tempfile.mkdtemp(prefix="pg-", dir="/tmp"))
    if os.geteuid() == 0:
        as_user = SERVER_USER
        user = pwd.getpwnam(as_user)
        os.chown(root, user.pw_uid, user.pw_gid)
    data = root / "data"
    pg_ctl = [str(bin_dir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        _run([*initdb, "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], as_user)
        hba = data / "pg_hba.conf"
        hba.write_text(f"local all +{PASSWORD_GROUP} scram-sha-256\n" + hba.read_text())
        # No TCP; fsync off: a test server's data need not survive a power cut.
        options = f"-k {root} -c listen_addresses= -F -c full_page_writes=off"
        start = ("-l", str(root / "log"), "-w", "-t", "30", "-o", options, "start")
        _run([*pg_ctl, *start], as_user)
        started = True
        server = Server(root, tuple(pg_ctl), as_user, start)
        server.admin(f"CREATE ROLE {PASSWORD_GROUP} NOLOGIN")
        yield server
    finally:
        if started and Server(root, tuple(pg_ctl), as_user).running():
            _run([*pg_ctl, "-m", "immediate", "-w", "stop"], as_user)
        shutil.rmtree(root, ignore_errors=True)
