"""Shared test set-up. Qt runs offscreen unless a display is asked for explicitly."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tracker.core.store.library import Library

# Without a display and without this, Qt aborts the whole pytest process.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parent.parent


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
