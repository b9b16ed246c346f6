"""Encrypted libraries (issue 20): unlocking (Argon2id at the app's own parameters, then the
SQLCipher database opened), decrypting a preview, and importing 12 MP JPEGs into an encrypted
library against the same floor as the plain import (``imports.import_floor``)."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from tracker.bench import import_into, p95, record, timed, write_jpegs
from tracker.bench.imports import import_floor

PASSPHRASE = "a passphrase for the benchmark"


def bench_encrypted(work: Path, n: int) -> None:
    from tracker.core.store import encrypted
    from tracker.core.store.library import Library

    paths = write_jpegs(work / "enc-jpegs", n)
    import_floor(paths, work / "enc-warm")
    floor = min(import_floor(paths, work / f"enc-floor{i}") for i in range(2))
    best = float("inf")
    for i in range(2):
        lib, _ = encrypted.create(work / f"enc{i}", PASSPHRASE)
        with lib:
            best = min(best, timed(partial(import_into, lib, paths, "Belly")))
    record(
        f"import {n} x 12 MP JPEG, encrypted library",
        best,
        "ms",
        floor,
        "<= 1.4x floor",
        best <= 1.4 * floor,
    )
    root = work / "enc0"
    unlocks = []
    for _ in range(3):
        start = time.perf_counter()
        keys = encrypted.unlock(root, passphrase=PASSPHRASE)
        Library.open(root, keys=keys).close()
        unlocks.append((time.perf_counter() - start) * 1000)
    record(
        "unlock (Argon2id 64 MiB, open)",
        min(unlocks),
        "ms",
        None,
        "<= 1500 ms",
        min(unlocks) <= 1500,
    )
    with Library.open(root, keys=keys) as lib:
        shas = [p.name.partition(".")[0] for p in sorted((root / "originals").glob("*/*"))]
        lib.make_previews(shas)
        times = []
        for _round in range(5):
            for sha in shas:
                start = time.perf_counter()
                data = lib.store.read_cache("previews", sha)
                times.append((time.perf_counter() - start) * 1000)
                assert data is not None
        # Read from disk, decrypted and checked (its seal): what the window pays per preview.
        worst = p95(times)
    record("preview read + decrypt, p95", worst, "ms", None, "<= 20 ms", worst <= 20)
