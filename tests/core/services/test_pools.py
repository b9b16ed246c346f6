"""Worker processes of photo jobs run at a lower priority than the app."""

from __future__ import annotations

import os

import pytest

from tracker.core.services.pools import NICENESS, worker_pool


def _niceness() -> int:
    return os.nice(0)


@pytest.mark.skipif(not hasattr(os, "nice"), reason="no os.nice on this platform")
def test_workers_run_at_lower_priority() -> None:
    with worker_pool(1) as procs:
        theirs = procs.submit(_niceness).result(timeout=60)
    ours = os.nice(0)
    assert theirs == min(ours + NICENESS, 19)
