"""The clinic benchmarks' import row (issue 21, ``clinic``): 12 MP JPEGs imported into a clinic
library against a folder library's rate in the same run, and an empty clinic library made as
``tracker clinic create`` makes one."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from tracker.bench import record, timed, write_jpegs
from tracker.bench.pg import Server
from tracker.core.db import roles
from tracker.core.db import server as db_server
from tracker.core.services.import_report import NewArea
from tracker.core.services.imports import ImportReport, import_files
from tracker.core.store.library import Library
from tracker.core.store.server_library import ServerLibrary

IMPORT_ROUNDS = 3  # the import row's rounds on each side, the medians compared


def empty_clinic(server: Server) -> str:
    """A new empty clinic library's URL (as ``tracker clinic create`` makes one)."""
    url = server.create_database()
    engine = db_server.make_pg_engine(url)
    try:
        roles.create_clinic(engine)
    finally:
        engine.dispose()
    return url


def _import_into(
    reports: list[ImportReport], lib: Library, paths: list[Path], target: NewArea
) -> None:
    reports.append(import_files(lib, paths, target))


def import_row(work: Path, server: Server, url: str, n: int, size: tuple[int, int]) -> None:
    """The same photos into a new folder library, then into a clinic library (a new client in
    either), ``IMPORT_ROUNDS`` times: first into the clinic library ``url``, then into new
    empty ones; the median rate of each side, in photos a second (one round of each swung
    from 0.6x to 0.8x between runs of one tree, the folder's rate the most)."""
    paths = write_jpegs(work / "clinic-jpegs", n, size, first_seed=500)
    for p in paths:
        p.read_bytes()  # the page cache warm for both
    target = NewArea("Belly", "Imported client")
    rates: list[tuple[float, float]] = []
    for r in range(IMPORT_ROUNDS):
        reports: list[ImportReport] = []
        with Library.open(work / f"clinic-folder-{r}", create=True) as folder:
            local = timed(partial(_import_into, reports, folder, paths, target))
        there = url if r == 0 else empty_clinic(server)
        lib = ServerLibrary.open_server(there)
        try:
            on_server = timed(partial(_import_into, reports, lib, paths, target))
        finally:
            lib.close()
        done = [len(report.imported) for report in reports]
        if done != [n, n]:
            raise RuntimeError(
                f"imported {done[1]} into the clinic and {done[0]} into the folder, of {n}"
            )
        rates.append((n / (on_server / 1000), n / (local / 1000)))
    print(
        "  (import rounds, clinic/folder photos/s: "
        + ", ".join(f"{a:.1f}/{b:.1f}" for a, b in rates)
        + ")"
    )
    rate = sorted(a for a, _ in rates)[len(rates) // 2]
    floor = sorted(b for _, b in rates)[len(rates) // 2]
    mp = size[0] * size[1] / 1e6
    record(
        f"clinic: import {n} x {mp:g} MP JPEG, photos/s",
        rate,
        "/s",
        floor,
        ">= 0.7x folder library",
        rate >= 0.7 * floor,
    )
