"""A throwaway PostgreSQL server for the clinic benchmarks, and the tests' (tests/postgres.py
starts its own with ``cluster``: the harness does not import the tests, the tests may import
the harness): initdb in a temporary folder, listening only on a unix socket there (no TCP),
fsync off, stopped and removed at the end. As root it runs as ``nobody`` (PostgreSQL refuses
to run as root). Debian's binaries (``/usr/lib/postgresql/<major>/bin``); without them, or
without psycopg, ``cluster`` raises ``Unavailable`` with a sentence, and the benchmark's rows
are skipped (the tests skip, or fail on CI)."""

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

SERVER_USER = "nobody"


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the message says why."""


def find_bin_dir() -> Path | None:
    """The newest installed PostgreSQL's bin folder holding initdb and pg_ctl, or None."""
    found = []
    for bin_dir in Path("/usr/lib/postgresql").glob("*/bin"):
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
            major = bin_dir.parent.name
            found.append((int(major) if major.isdigit() else 0, bin_dir))
    return max(found)[1] if found else None


@dataclass(frozen=True)
class Server:
    socket_dir: Path

    @property
    def socket(self) -> Path:
        """The unix socket the server listens on (a delaying proxy's target)."""
        return self.socket_dir / ".s.PGSQL.5432"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@/{database}?host={self.socket_dir}"

    def create_database(self) -> str:
        """A new empty database's URL (gone with the server)."""
        import psycopg

        name = f"b_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            host=str(self.socket_dir), user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'".encode())
        return self.url(name)


def run(cmd: list[str], as_user: str | None, timeout: float = 120) -> None:
    """Run one of the server's programs (as ``as_user`` when given); a RuntimeError with what
    it said when it fails."""
    if as_user is not None:
        cmd = ["runuser", "-u", as_user, "--", *cmd]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr or result.stdout}")


@dataclass(frozen=True)
class Cluster:
    """A started server's folder (its socket is there), its ``pg_ctl -D DATA`` command and
    the user it runs as."""

    root: Path
    pg_ctl: tuple[str, ...]
    as_user: str | None

    def running(self) -> bool:
        cmd = [*self.pg_ctl, "status"]
        if self.as_user is not None:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, timeout=60, check=False).returncode == 0


def start_args(root: Path) -> tuple[str, ...]:
    """What follows ``pg_ctl -D DATA`` to start the server of ``root`` (again: after a stop it
    recovers from its log, as after a crash)."""
    # No TCP; fsync off: a throwaway server's data need not survive a power cut.
    options = f"-k {root} -c listen_addresses= -F -c full_page_writes=off"
    return ("-l", str(root / "log"), "-w", "-t", "30", "-o", options, "start")


@contextlib.contextmanager
def cluster(bin_dir: Path | None, prefix: str = "pgb-", hba: str = "") -> Iterator[Cluster]:
    """A server of ``bin_dir``'s binaries (``find_bin_dir()``; None: there are none) started
    for the block (see the module), ``hba``'s lines put first in its pg_hba.conf; stopped
    (``-m immediate``) if it still runs, and removed, after it. The one start of a throwaway
    server: the tests' (tests/postgres.py) is this one too."""
    if bin_dir is None:
        raise Unavailable(
            "no initdb/pg_ctl under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise Unavailable("psycopg is not installed (pip install -e '.[clinic]')") from None
    as_user = None
    # Short path: a unix socket's path must fit in about 100 bytes.
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    if os.geteuid() == 0:
        as_user = SERVER_USER
        user = pwd.getpwnam(as_user)
        os.chown(root, user.pw_uid, user.pw_gid)
    data = root / "data"
    pg_ctl = (str(bin_dir / "pg_ctl"), "-D", str(data))
    started = None
    try:
        initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
        run([*initdb, "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"], as_user)
        if hba:
            conf = data / "pg_hba.conf"
            conf.write_text(hba + conf.read_text())
        run([*pg_ctl, *start_args(root)], as_user)
        started = Cluster(root, pg_ctl, as_user)
        yield started
    finally:
        if started is not None and started.running():
            run([*pg_ctl, "-m", "immediate", "-w", "stop"], as_user)
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def running_server() -> Iterator[Server]:
    """A server for the block (``cluster``), stopped and removed after it."""
    with cluster(find_bin_dir()) as started:
        yield Server(started.root)
