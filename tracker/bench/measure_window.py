"""Measuring an area of 20 photos in the background while the window runs (issue 18): the
longest the GUI thread went without turning its event loop, against a frame (16 ms).

The photos are 2048 × 1536 JPEGs of one skin (tests/ui/compare/skin_series.py), imported into
one area; the main window's background job (``ui.main.measuring.MeasureJob``) measures every
stale photo as it does after an import, its photos in processes of their own. A repeating 4 ms
timer on the GUI thread records the gaps between its ticks for the whole run, progress
updates in the status bar included. The floor is the longest gap of the same ticks over 3 s
with nothing running: what the machine (other processes) costs any thread.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from tracker.bench import import_into, p95, record

SIZE = (2048, 1536)
PHOTOS = 20
TICK_MS = 4


def bench_measure_window(work: Path, quick: bool) -> None:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    from tests.ui.compare.skin_series import series, write_series
    from tracker.core.services.measure import stale_photo_ids
    from tracker.core.store.library import Library
    from tracker.ui.main.measuring import MeasureJob

    app = QApplication.instance() or QApplication(["bench"])
    n = 6 if quick else PHOTOS
    paths = write_series(work / "measure-jpegs", series(23, n, SIZE), dt.date(2024, 1, 8))
    lib = Library.open(work / "measure", create=True)
    import_into(lib, paths, "Belly")
    stale = len(stale_photo_ids(lib))
    window = QMainWindow()
    window.resize(1280, 800)
    window.show()
    job = MeasureJob(window, window.statusBar())
    job.lib = lib

    gaps: list[float] = []
    clock = QElapsedTimer()

    def tick() -> None:
        gaps.append(clock.nsecsElapsed() / 1e6)
        clock.restart()

    ticker = QTimer()
    ticker.setInterval(TICK_MS)
    ticker.timeout.connect(tick)
    clock.start()
    ticker.start()
    idle = QEventLoop()
    QTimer.singleShot(3000, idle.quit)
    idle.exec()
    ticker.stop()
    floor = max(gaps[1:], default=0.0)
    gaps.clear()
    said: list[str] = []
    job.said.connect(said.append)
    done = QEventLoop()
    job.busy_changed.connect(lambda busy: None if busy else done.quit())
    QTimer.singleShot(600000, done.quit)
    start = time.perf_counter()
    clock.start()
    ticker.start()
    job.run_now()
    done.exec()
    total = (time.perf_counter() - start) * 1000
    ticker.stop()
    during = gaps[1:]
    record(f"measure an area of {n} photos in the background", total, "ms", None, "", None)
    worst = max(during, default=0.0)
    record(
        "  GUI: longest gap while measuring",
        worst,
        "ms",
        floor,
        "<= 16 ms (floor: idle)",
        worst <= 16,
    )
    record("  GUI: gap p95 while measuring", p95(during or [0.0]), "ms", None, "(4 ms timer)", None)
    over = sum(1 for g in during if g > 16)
    record("  GUI: gaps over 16 ms while measuring", over, "", None, f"(of {len(during)})", None)
    left = len(stale_photo_ids(lib))
    print(f"  ({said[-1] if said else 'no outcome'}; {stale - left} of {stale} stale measured)")
    window.close()
    job.runner.pool.waitForDone(20000)
    lib.close()
    del app
