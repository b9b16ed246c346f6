"""Shared fixtures for the window tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool

from tracker.ui.workers import TaskRunner


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    """A thread pool of the test's own, drained before the next test starts."""
    pool = QThreadPool()
    yield TaskRunner(pool)
    assert pool.waitForDone(20000)
