"""Automatic alignment and the calibration card: how fast, and how right at full size.

- Speed: ``tracker align --auto``'s own path (``services.align.align_photos``, computing
  without storing) on a pair of 12 MP
  JPEGs whose previews are cached, against the floor of reading those two previews at the
  working size; and finding the card in a 12 MP photo already decoded, as the import has it.
- Accuracy: the tests' measurement (tests/core/imaging/test_register.py), at the working size
  of 12 MP photos (1024 px, which is what registration sees of a 2048 px preview) with the
  result expressed in 4000 × 3000 pixels: success rate and corner error of pairs of the same
  skin, and how many pairs that must be refused were aligned; SIFT, and AKAZE beside it.

The inputs are the tests' generators (tests/core/imaging/synthetic.py: skin whose registration
is known, the card at a known pose), so the harness runs from a checkout, as it always does.
OpenCV, numpy and the generators are imported inside the functions: only this row pays for
them.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image

from tracker.bench import import_into, record, timed

if TYPE_CHECKING:
    from tests.core.imaging.synthetic import Pair
    from tracker.core.imaging.register import Detector

FULL = (4000, 3000)
WORK = (1024, 768)


def bench_align(work: Path, quick: bool) -> None:
    _speed(work)
    _accuracy(15 if quick else 60, 6 if quick else 20)
    _card()


def _speed(work: Path) -> None:
    from tests.core.imaging import synthetic as syn
    from tracker.core.imaging import register
    from tracker.core.services.align import AlignOutcome, align_photos
    from tracker.core.store.library import Library

    pair = syn.pair(21, (2048, 1536))
    folder = work / "align-jpegs"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate((pair.reference, pair.photo)):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2025:0{i + 1}:10 10:00:00"
        path = folder / f"IMG_{i}.jpg"
        image.resize(FULL, Image.Resampling.BICUBIC).save(path, quality=92, exif=exif)
        paths.append(path)
    with Library.open(work / "align", create=True) as lib:
        imported = import_into(lib, paths, "Belly").imported
        lib.make_previews([r.sha256 for r in imported])
        shas = [r.sha256 for r in imported]

        def features() -> None:
            images = [register.working_image(lib.derived("previews", sha)) for sha in shas]
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(register.features, images))

        floor = min(timed(features) for _ in range(3))
        photo = imported[1].photo_id
        results: list[AlignOutcome] = []
        best = min(
            timed(lambda: results.append(align_photos(lib, [photo], store=False))) for _ in range(3)
        )
    aligned, failed = results[-1].aligned, results[-1].failed
    record(
        "align: a 12 MP pair, cached previews",
        best,
        "ms",
        floor,
        "<= 1500 ms",
        best <= 1500 and not failed,
    )
    if aligned:
        done = aligned[0].alignment
        print(
            f"  ({done.method} {done.model}, {done.points} inliers; floor: reading both previews "
            f"and finding their features, on {os.cpu_count()} cores)"
        )


def _measure(detector: Detector, pairs: list[Pair]) -> tuple[float, list[float], list[int]]:
    """The share of pairs aligned, and the corner errors (fractions of the diagonal) and
    agreeing matches of those aligned."""
    import numpy as np

    from tests.core.imaging import synthetic as syn
    from tracker.core.imaging import register

    scale = np.diag([FULL[0] / WORK[0], FULL[1] / WORK[1], 1.0])

    def one(p: syn.Pair) -> tuple[float, int] | None:
        try:
            r = register.register(p.photo, FULL, p.reference, FULL, detector)
        except register.RegistrationRefused:
            return None
        assert p.truth is not None
        truth = scale @ p.truth @ np.linalg.inv(scale)
        found = np.array(r.matrix).reshape(3, 3)
        return syn.corner_error(found, truth, FULL) / math.hypot(*FULL), r.inliers

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        results = list(pool.map(one, pairs))
    found = [r for r in results if r is not None]
    return len(found) / len(results), [e for e, _n in found], [n for _e, n in found]


def _accuracy(n: int, n_unrelated: int) -> None:
    import numpy as np

    from tests.core.imaging import synthetic as syn
    from tracker.core.imaging import register

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pairs = list(pool.map(lambda seed: syn.pair(300 + seed, WORK), range(n)))
        unrelated = list(pool.map(lambda seed: syn.unrelated_pair(seed, WORK), range(n_unrelated)))
    detectors: tuple[Detector, ...] = ("sift", "akaze")
    for detector in detectors:
        success, errors, inliers = _measure(detector, pairs)
        # In pixels of the 12 MP photo: its diagonal is 5000 px, so 0.1 % is 5 px.
        diagonal = math.hypot(*FULL)
        median = float(np.median(errors)) * diagonal if errors else math.inf
        p95 = float(np.percentile(errors, 95)) * diagonal if errors else math.inf
        mark = detector == "sift"  # the one the app uses is held to the budgets
        name = f"align ({detector}): {n} pairs of the same skin"
        record(name, success * 100, "%", None, ">= 95 % aligned", success >= 0.95 if mark else None)
        record(
            "  median corner error (diagonal 5000 px)",
            median,
            "px",
            None,
            "<= 5 px (0.1 %)",
            median <= 0.001 * diagonal if mark else None,
        )
        record(
            "  95th percentile",
            p95,
            "px",
            None,
            "<= 15 px (0.3 %)",
            p95 <= 0.003 * diagonal if mark else None,
        )
        record(
            "  agreeing matches, fewest of a pair",
            min(inliers, default=0),
            "",
            None,
            f"(median {float(np.median(inliers)) if inliers else 0:.0f})",
            None,
        )
        wrong = 0
        for p in unrelated:
            try:
                register.register(p.photo, FULL, p.reference, FULL, detector)
                wrong += 1
            except register.RegistrationRefused:
                pass
        record(
            f"  of {n_unrelated} unrelated pairs, aligned",
            wrong,
            "",
            None,
            "none",
            wrong == 0 if mark else None,
        )


def _card() -> None:
    from tests.core.imaging import synthetic as syn
    from tracker.core.imaging import card

    photo = syn.card_photo(5, 8.0, angle_deg=25, tilt_deg=20, blur=1.0, frame=FULL)
    image = photo.image
    image.load()
    found: list[card.CardFound] = []
    best = min(timed(lambda: found.append(card.find_card(image))) for _ in range(5))
    balance = timed(lambda: card.balance(found[-1].patches))
    record("card: find it in a 12 MP photo", best, "ms", None, "<= 150 ms", best <= 150)
    error = abs(found[-1].px_per_mm / photo.px_per_mm - 1) * 1000
    record(
        "  its px/mm error (8 px/mm, tilted 20°)", error, "‰", None, "<= 10 ‰ (1 %)", error <= 10
    )
    record("  its colour balance", balance, "ms", None, "", None)
