"""The storage and domain tests against PostgreSQL as well as SQLite (issue 21), unchanged.

With ``TRACKER_TEST_ENGINE=postgresql`` (.ci/run's second pass), a test that makes a new library
with ``Library.open(root, create=True)`` (a folder not there yet, or empty) gets a clinic
library instead (``ServerLibrary``) in a database of its own on the session's throwaway server
(tests/postgres.py), and opening the same ``root`` again gives that database again. The
database is a copy of one clinic made once ('tracker clinic create' in it: the migrations and
the rights; and the one client a new folder library has), far quicker than migrating each; it is dropped when the test that made
it ends (a module's fixture's, at the end of the session).

A test that works on the library folder's files by nature (backups, snapshots, repairs, the
folder's encryption, its lock file, file names under originals/) is marked ``folder_only``
and skipped in that pass, with a word on why. Anything else runs on both engines.

Registered as a plugin by tests/conftest.py; without the variable it does nothing at all.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from tests import postgres
    from tracker.core.crypto.keys import Keys
    from tracker.core.store.library import Library

ENGINE_VARIABLE = "TRACKER_TEST_ENGINE"
ENGINES = ("sqlite", "postgresql")
TEMPLATE = "clinic_template"


def engine() -> str:
    """The engine this run's new libraries are made on: ``sqlite`` (folders) unless asked."""
    name = os.environ.get(ENGINE_VARIABLE, "sqlite").strip().lower() or "sqlite"
    if name not in ENGINES:
        raise pytest.UsageError(
            f"{ENGINE_VARIABLE}={name!r} is not an engine the tests know: "
            f"one of {', '.join(ENGINES)}."
        )
    return name


def on_server() -> bool:
    return engine() == "postgresql"


class ServerLibraries:
    """``Library.open`` while the PostgreSQL pass runs: a new library is a clinic library in a
    database of its own, and the same root opens the same database again."""

    def __init__(self, server: postgres.Server) -> None:
        self.server = server
        self.urls: dict[Path, str] = {}
        self.template_made = False
        # The databases made during the current test (None between tests) and the others.
        self.in_test: list[str] | None = None
        self.in_session: list[str] = []
        # Every library opened here: closed before its database is dropped, so that one a
        # failed test left open leaves no connection for a later test's warnings to find.
        self.opened: list[tuple[str, Library]] = []
        # The tests that made one (their ids), for the summary at the end of the run.
        self.tests: set[str] = set()
        self.current = ""

    def open(
        self,
        root: Path,
        *,
        create: bool = False,
        read_only: bool = False,
        allow_read_only: bool = False,
        keys: Keys | None = None,
    ) -> Library | None:
        """The server library for ``root``, or None when it is not one (the folder's own
        ``Library.open`` then opens it: a restored backup, a folder made by hand)."""
        # start-up time: the store is imported by the tests that open a library only
        from tracker.core.store.server_library import ServerLibrary

        where = Path(root).expanduser().absolute()
        url = self.urls.get(where)
        if url is None:
            fresh = not where.exists() or (where.is_dir() and not any(where.iterdir()))
            if not create or not fresh or keys is not None:
                return None
            url = self.new_database()
            self.urls[where] = url
        opened = ServerLibrary.open_server(
            url, read_only=read_only, allow_read_only=allow_read_only
        )
        self.opened.append((url, opened))
        return opened

    def new_database(self) -> str:
        """A new clinic library's URL: a copy of the template clinic."""
        if not self.template_made:
            self._make_template()
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.server.admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        # What 'clinic create' does to its database (a copy has the template's grants only).
        self.server.admin(f"REVOKE CONNECT, TEMPORARY ON DATABASE {name} FROM PUBLIC")
        (self.in_session if self.in_test is None else self.in_test).append(name)
        self.tests.add(self.current or "(a fixture shared by a module)")
        return self.server.url(name)

    def _make_template(self) -> None:
        # start-up time: only the PostgreSQL pass makes clinic libraries
        from tracker.core.db import roles, server
        from tracker.core.db.models import Client
        from tracker.core.store.library import DEFAULT_CLIENT

        self.server.admin(f"CREATE DATABASE {TEMPLATE} TEMPLATE template0 ENCODING 'UTF8'")
        made = server.make_pg_engine(self.server.url(TEMPLATE))
        try:
            roles.create_clinic(made)
            # What a new folder holds that a new clinic does not: its one client, whom the
            # tests (as 'tracker import' without --client) leave unnamed.
            with Session(made) as s, s.begin():
                s.add(Client(name=DEFAULT_CLIENT))
        finally:
            # A template copied while anyone is connected to it is refused.
            made.dispose()
        self.template_made = True

    def drop(self, names: list[str]) -> None:
        gone = {self.server.url(name) for name in names}
        for url, lib in [each for each in self.opened if each[0] in gone]:
            lib.close()
            self.opened.remove((url, lib))
        for name in names:
            self.server.admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for root in [root for root, url in self.urls.items() if url in gone]:
            del self.urls[root]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the PostgreSQL pass, the ``folder_only`` tests are skipped, with their reason."""
    if not on_server():
        return
    for item in items:
        mark = item.get_closest_marker("folder_only")
        if mark is not None:
            why = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "folder")
            item.add_marker(pytest.mark.skip(reason=f"folder only ({why})"))


_summary: list[ServerLibraries] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many tests made a library in PostgreSQL."""
    for libraries in _summary:
        made = len(libraries.tests)
        terminalreporter.write_line(
            f"{ENGINE_VARIABLE}=postgresql: {made} tests made a clinic library in PostgreSQL"
            + ("" if made else " (none: the run fails, it tested nothing on the server)")
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A PostgreSQL pass in which no test made a library there tested nothing: it fails (as
    CI fails without a server, tests/postgres.py), instead of passing on SQLite's results."""
    made = any(libraries.tests for libraries in _summary)
    if on_server() and exitstatus == pytest.ExitCode.OK and session.testscollected and not made:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def _server_libraries(request: pytest.FixtureRequest) -> Iterator[ServerLibraries | None]:
    """In the PostgreSQL pass, ``Library.open`` goes through ``ServerLibraries`` for the
    whole session (a module's fixture opens its library before any test's fixture)."""
    if not on_server():
        yield None
        return
    # start-up time: the store is imported by the tests that open a library only
    from tracker.core.store.library import Library

    libraries = ServerLibraries(request.getfixturevalue("pg_server"))
    _summary.append(libraries)
    folder_open = Library.__dict__["open"]
    real = folder_open.__func__

    def open_either(cls: type[Library], root: Path, **options: Any) -> Library:
        opened = libraries.open(root, **options)
        return real(cls, root, **options) if opened is None else opened

    Library.open = classmethod(open_either)  # type: ignore[method-assign,assignment]
    try:
        yield libraries
    finally:
        Library.open = folder_open  # type: ignore[method-assign]
        libraries.drop(libraries.in_session)


@pytest.fixture(autouse=True)
def _test_databases(
    _server_libraries: ServerLibraries | None, request: pytest.FixtureRequest
) -> Iterator[None]:
    """The databases a test made are dropped when it ends (with whatever it left open)."""
    if _server_libraries is None:
        yield
        return
    _server_libraries.in_test = []
    _server_libraries.current = request.node.nodeid
    try:
        yield
    finally:
        made, _server_libraries.in_test = _server_libraries.in_test, None
        _server_libraries.current = ""
        _server_libraries.drop(made)
