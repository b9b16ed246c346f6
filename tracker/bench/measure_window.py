"""Measuring an area of 20 photos in the background while the window runs (issue 18): the
longest the GUI thread went without turning its event loop, against a frame (16 ms).

The photos are 2048 × 1536 JPEGs of one skin (tests/ui/compare/skin_series.py), imported into
one area and aligned to the first, shown in the main window on its Progress tab (whose charts
are built again when the measures come in). The window's background job
(``ui.main.measuring.MeasureJob``) measures every stale photo as it does after an import, its
photos in processes of their own. The GUI thread's gaps (``gaps``: wall and its own processor
time) are recorded for the whole run, the progress in the status bar and the Progress tab's
charts included, until the last chart is painted (in a worker) and shown. The floor is the
longest gap of the same ticks over 3 s with nothing running, once the window has settled.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from tracker.bench import import_into, p95, record
from tracker.bench.gaps import FRAME_MS, GapClock, settle

SIZE = (2048, 1536)
PHOTOS = 20


def bench_measure_window(work: Path, quick: bool) -> None:
    from PySide6.QtCore import QEventLoop, QSettings, QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from tests.ui.compare.skin_series import series, write_series
    from tracker.core.imaging.geometry import IDENTITY, Alignment
    from tracker.core.queries.measures import photo_measure
    from tracker.core.services.align import align_photos
    from tracker.core.services.measure import stale_photo_ids
    from tracker.core.services.photos import set_alignments
    from tracker.core.store.library import Library
    from tracker.ui.main.window import MainWindow
    from tracker.ui.settings import Preferences
    from tracker.ui.workers import TaskRunner

    app = QApplication.instance() or QApplication(["bench"])
    n = 6 if quick else PHOTOS
    paths = write_series(work / "measure-jpegs", series(23, n, SIZE), dt.date(2024, 1, 8))
    lib = Library.open(work / "measure", create=True)
    report = import_into(lib, paths, "Belly")
    # Aligned first, as the window does after an import: a photo not aligned to its view's
    # reference is refused (its regions could not follow it), and would measure nothing. A
    # photo whose features do not agree (a few of these turned ones) gets the identity, as
    # landmarks put by hand would give it a transform: without a region drawn, the measuring's
    # work is the same whatever the transform.
    imported = [i.photo_id for i in report.imported]
    aligned = align_photos(lib, imported[1:], processes=2)
    by_hand = Alignment(IDENTITY, "landmarks", "similarity", None, None)
    set_alignments(lib, {f.photo_id: by_hand for f in aligned.failed})
    ids = stale_photo_ids(lib)
    stale = len(ids)
    prefs = Preferences(QSettings(str(work / "measure.ini"), QSettings.Format.IniFormat))
    window = MainWindow(prefs, TaskRunner(QThreadPool()))
    window.resize(1280, 800)
    window.set_library(lib)
    window.show()
    window.tabs.setCurrentWidget(window.progress_view)  # where the measures show as they come
    view = window.progress_view.measures
    job = window.measuring.job

    # The window's own start (thumbnails, the tab's first charts) is left to finish first:
    # the floor is the machine's, and the run's gaps are the measuring's.
    # The tab, once its measures are read (in a worker), offers to measure the photos waiting
    # (a timer): started by hand below instead, after the idle floor.
    while window.measuring.reading:
        settle(20)
    job.timer.stop()
    settle(3000)
    job.timer.stop()
    assert not job.busy and len(stale_photo_ids(lib)) == stale, "measured before the run"
    clock = GapClock()
    floor = clock.idle_floor(3000).longest()
    said: list[str] = []
    job.said.connect(said.append)
    done = QEventLoop()
    # The run's end: the job idle again and the Progress tab's charts all painted.
    settled = QTimer()
    settled.setInterval(20)
    controller = window.measuring
    settled.timeout.connect(
        lambda: None if job.busy or controller.reading or view.charting else done.quit()
    )
    job.busy_changed.connect(lambda busy: None if busy else settled.start())
    QTimer.singleShot(600000, done.quit)
    start = time.perf_counter()
    clock.start()
    job.run_now()
    done.exec()
    total = (time.perf_counter() - start) * 1000
    during = clock.stop()
    record(f"measure an area of {n} photos in the background", total, "ms", None, "", None)
    worst = during.longest()
    record(
        "  GUI: longest gap while measuring",
        worst,
        "ms",
        floor,
        "<= 16 ms (floor: idle)",
        worst <= FRAME_MS,
    )
    record(
        "  GUI: gap p95 while measuring",
        p95(during.wall or [0.0]),
        "ms",
        None,
        "(4 ms timer)",
        None,
    )
    record(
        "  GUI: gaps over 16 ms while measuring",
        during.over(),
        "",
        None,
        f"(of {len(during.wall)}; {during.busy_over()} of them our code)",
        None,
    )
    record("  GUI: most CPU in one gap", during.most_cpu(), "ms", None, "(thread time)", None)
    left = len(stale_photo_ids(lib))
    print(
        f"  ({said[-1] if said else 'no outcome'}; {stale - left} of {stale} stale measured; "
        f"the Progress tab shown, {len(view.charts)} charts painted in a worker)"
    )
    refused = [m.error for m in (photo_measure(lib, i) for i in ids) if m and m.error]
    if refused:
        print(f"  (the first refusal: {refused[0]})")
    settled.stop()
    window.close()
    job.runner.pool.waitForDone(20000)
    window.runner.pool.waitForDone(20000)
    lib.close()
    del app
