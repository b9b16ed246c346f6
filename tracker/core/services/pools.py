"""Worker process pools for photo jobs (aligning, measuring).

Their processes run at a lower scheduling priority, so that on a machine with few cores
the window's thread is given a core first and stays smooth while a job runs.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

# How much lower a worker's priority is than the app's (Unix nice steps).
NICENESS = 10


def lower_priority() -> None:
    """Initialiser of each worker process: lower its priority.

    OpenCV is kept to one thread per worker already by the imaging modules on import.
    """
    nice = getattr(os, "nice", None)  # absent on Windows
    if nice is not None:
        # Not permitted here: run at the app's priority.
        with contextlib.suppress(OSError):
            nice(NICENESS)


def worker_pool(processes: int) -> ProcessPoolExecutor:
    """A pool of `processes` spawned workers at a lower priority than this process."""
    return ProcessPoolExecutor(
        processes,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=lower_priority,
    )
