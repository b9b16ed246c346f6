"""Import benchmarks: JPEG and HEIC, against a floor of reading, hashing, copying and one
thumbnail-size decode of the same files. The import measures its capture checks and looks for
the calibration card on that decode (``imaging.quality``): the JPEG rows include them, one row
imports photos that show the card, and the checks' own cost per photo is shown beside."""

from __future__ import annotations

import hashlib
import io
import os
import time
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

from PIL import Image

from tracker.bench import import_into, record, skin_photo, timed, write_jpegs
from tracker.core.imaging.decode import THUMB_SIZE
from tracker.core.services.imports import ImportReport

FULL = (4000, 3000)


def import_floor(paths: list[Path], scratch: Path) -> float:
    """Read, hash, copy and one reduced-size decode per photo, on all cores."""
    scratch.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> None:
        data = path.read_bytes()
        hashlib.sha256(data).hexdigest()
        dest = scratch / path.name
        with dest.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with Image.open(io.BytesIO(data)) as im:
            # The smallest decode that still yields a thumbnail: DCT scaling to >= 256 px.
            k = THUMB_SIZE / max(im.size)
            im.draft("RGB", (int(im.width * k), int(im.height * k)))
            im.load()

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        start = time.perf_counter()
        list(pool.map(one, paths))
        return (time.perf_counter() - start) * 1000


def bench_import(work: Path, n: int) -> None:
    from tracker.core.store.library import Library

    paths = write_jpegs(work / "jpegs", n)
    size = sum(p.stat().st_size for p in paths) / n / 1e6
    print(f"  ({n} generated 12 MP JPEGs, {size:.1f} MB each, {os.cpu_count()} cores)")
    import_floor(paths, work / "warm")  # warm the page cache for both
    floor = min(import_floor(paths, work / f"floor{i}") for i in range(2))
    best = float("inf")
    previews = float("inf")
    for i in range(2):
        with Library.open(work / f"lib{i}", create=True) as lib:
            report: list[ImportReport] = []

            def run(lib: Library = lib, report: list[ImportReport] = report) -> None:
                report.append(import_into(lib, paths, "Belly"))

            best = min(best, timed(run))
            shas = [r.sha256 for r in report[0].imported]
            previews = min(previews, timed(partial(lib.make_previews, shas)))
    record(
        f"import {n} x 12 MP JPEG, with the checks",
        best,
        "ms",
        floor,
        "<= 1.25x floor",
        best <= 1.25 * floor,
    )
    # Not part of the import: what the window does afterwards, in the background, one photo at
    # a time, so that a first look is instant. Shown so that the work moved is not hidden.
    record("  then their previews, in the background", previews, "ms", None, "(1 thread)", None)


def _card_jpegs(folder: Path, n: int) -> list[Path]:
    """12 MP JPEGs of skin with the calibration card at 8 to 14 px/mm, turned and tilted."""
    from tests.core.imaging import synthetic as syn

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        shot = syn.card_photo(i, 8.0 + i % 4 * 2, angle_deg=7.0 * i, tilt_deg=i % 3 * 8, frame=FULL)
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2025:0{1 + i % 9}:1{i % 10} 10:00:00"
        path = folder / f"CARD_{i:04}.jpg"
        shot.image.save(path, quality=94, exif=exif)
        paths.append(path)
    return paths


def bench_card_import(work: Path, n: int) -> None:
    """Photos that show the card: the import finds it (its scale, its patches, the gains),
    against the same floor; and what the checks and the card cost a photo, on the decode the
    import makes."""
    from tracker.core.imaging import quality
    from tracker.core.imaging.decode import decode
    from tracker.core.store.library import Library

    paths = _card_jpegs(work / "card-jpegs", n)
    import_floor(paths, work / "card-warm")
    floor = min(import_floor(paths, work / f"card-floor{i}") for i in range(2))
    best = float("inf")
    found = 0
    for i in range(2):
        with Library.open(work / f"card-lib{i}", create=True) as lib:
            reports: list[ImportReport] = []

            def run(lib: Library = lib, reports: list[ImportReport] = reports) -> None:
                reports.append(import_into(lib, paths, "Arm"))

            best = min(best, timed(run))
            found = sum(1 for r in reports[0].imported if r.px_per_mm is not None)
    record(
        f"import {n} x 12 MP JPEG showing the card",
        best,
        "ms",
        floor,
        "<= 1.25x floor",
        best <= 1.25 * floor,
    )
    print(f"  (the card found in {found} of {n})")
    decoded = [decode(p.read_bytes(), pixels=True) for p in paths[:4]]
    images = [(d.pixels, (d.width, d.height)) for d in decoded if d.pixels is not None]
    card = min(timed(lambda: [quality.card_record(i, s) for i, s in images]) for _ in range(3))
    checks = min(timed(lambda: [quality.measure(i, s) for i, s in images]) for _ in range(3))
    card, checks = card / len(images), checks / len(images)
    skin = [decode(p.read_bytes(), pixels=True) for p in write_jpegs(work / "plain", 2)]
    plain = [(d.pixels, (d.width, d.height)) for d in skin if d.pixels is not None]
    none = min(timed(lambda: [quality.measure(i, s) for i, s in plain]) for _ in range(3))
    none /= len(plain)
    record("  the card, found at import, per photo", card, "ms", None, "<= 150 ms", card <= 150)
    record("  all the checks with the card, per photo", checks, "ms", None, "(1 thread)", None)
    record("  all the checks without a card, per photo", none, "ms", None, "(1 thread)", None)


def bench_heic(work: Path, n: int) -> None:
    import pillow_heif

    from tracker.core.store.library import Library

    pillow_heif.register_heif_opener()
    folder = work / "heic"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"IMG_{i}.heic"
        skin_photo(100 + i).save(path, "HEIF", quality=80)
        paths.append(path)

    def decode_all() -> None:
        for p in paths:
            with Image.open(p) as im:
                im.load()

    floor = min(timed(decode_all) for _ in range(2)) / n
    with Library.open(work / "heiclib", create=True) as lib:
        took = timed(lambda: import_into(lib, paths, "Belly", workers=1)) / n
    record(
        "HEIC import, per 12 MP photo (1 worker)",
        took,
        "ms",
        floor,
        "<= 1.2x one decode",
        took <= 1.2 * floor,
    )


# -- a large library ----------------------------------------------------------------------------
