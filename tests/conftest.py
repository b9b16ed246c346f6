"""Shared test set-up. Qt runs offscreen unless a display is asked for explicitly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests import engines, postgres

if TYPE_CHECKING:
    from tracker.core.store.library import Library

# Without a display and without this, Qt aborts the whole pytest process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent

# What Qt says about shortcuts and actions: an ambiguous key ("QAction::event: Ambiguous
# shortcut overload: Ctrl+Shift+Z" means the key does nothing), an invalid one, an action
# added twice. Any of these fails the test it happened in, in any phase (pytest-qt's own
# capture sees only set-up and call, and can be relaxed per test).
SHORTCUT_MESSAGE = re.compile(r"shortcut|QAction|QShortcut|QKeySequence", re.IGNORECASE)


class ShortcutWatch:
    """A Qt message handler for the whole session: it keeps what Qt says about shortcuts and
    hands every message on (to pytest-qt's capture during a test, else to standard error)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.downstream: object = None

    def handle(self, kind: object, context: object, message: str) -> None:
        if SHORTCUT_MESSAGE.search(message) or "shortcut" in str(
            getattr(context, "category", "") or ""
        ):
            self.seen.append(message)
        if callable(self.downstream):
            self.downstream(kind, context, message)
        else:
            print(message, file=sys.stderr)


_watch = ShortcutWatch()


def pytest_configure(config: pytest.Config) -> None:
    from PySide6.QtCore import qInstallMessageHandler

    qInstallMessageHandler(_watch.handle)
    # TRACKER_TEST_ENGINE=postgresql: new libraries in PostgreSQL (tests/engines.py).
    config.pluginmanager.register(engines, "tracker_engines")


@pytest.fixture(autouse=True)
def _no_shortcut_warnings() -> Iterator[ShortcutWatch]:
    """Fails the test when Qt warned about a shortcut while it ran (its fixtures included)."""
    from PySide6.QtCore import qInstallMessageHandler

    before = len(_watch.seen)
    # pytest-qt installed its capture for this test before any fixture: it stays downstream.
    previous = qInstallMessageHandler(_watch.handle)
    if previous is not None and getattr(previous, "__self__", None) is not _watch:
        _watch.downstream = previous
    yield _watch
    _watch.downstream = None
    qInstallMessageHandler(_watch.handle)
    said = _watch.seen[before:]
    if said:
        pytest.fail("Qt warned about shortcuts: " + "; ".join(said), pytrace=False)


@pytest.fixture(autouse=True)
def _umask_as_it_was() -> Iterator[None]:
    """``tracker.cli.main`` sets the process's umask (everything it writes is private); a
    test that calls it in the test process must not change the umask of the tests after it."""
    before = os.umask(0o077)
    os.umask(before)
    yield
    os.umask(before)


@pytest.fixture
def library(tmp_path: Path) -> Iterator[Library]:
    from tracker.core.store.library import Library

    lib = Library.open(tmp_path / "lib", create=True)
    yield lib
    lib.close()


def run_cli(*args: str, cwd: Path = REPO, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tracker`` as a user would, capturing its output."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("TRACKER_LIBRARY", None)
    return subprocess.run(
        [sys.executable, "-m", "tracker", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


# One throwaway PostgreSQL server for the whole run (tests/postgres.py), started only when a
# test asks for it; a database per test. (Each folder and module had its own: six servers.)
@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.Server]:
    with postgres.running_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server: postgres.Server) -> Iterator[str]:
    """The URL of an empty PostgreSQL database, dropped after the test."""
    with pg_server.database() as url:
        yield url
