"""``tracker align PHOTO_ID... [--to REF_ID] --auto``: each photo registered to its reference
photo from the skin itself, the transforms printed (docs/CLI.md).

The reference of a photo is ``--to``, else the reference photo of its area and view, else the
earliest photo of that area and view. The images registered are the cached previews (made
from the originals when missing), read straight at the working size.

Nothing is stored yet: an alignment is held as 2×3 today, and an automatic result needs its
method, inlier count and residual kept with it and may be a homography; both come with the
3×3 alignments (issue 17, part 2). It only reads, so it works while the window has the
library open.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tracker.cli import resolve
from tracker.cli.output import emit
from tracker.cli.parser import EXIT_OK, EXIT_PROBLEMS
from tracker.core.errors import TrackerError
from tracker.core.imaging import register
from tracker.core.queries.browse import area_photos, compare_photos, reference_photo
from tracker.core.queries.rows import ComparePhoto
from tracker.core.store.library import Library

IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)


def _reference_of(lib: Library, photo: ComparePhoto) -> int:
    """The photo that ``photo`` is aligned to: its area and view's reference, else the
    earliest photo of that area and view (which may be ``photo`` itself)."""
    ref = reference_photo(lib, photo.area_id, photo.view)
    if ref is not None:
        return ref
    earliest = (p.id for _day, p in area_photos(lib, photo.area_id) if p.view == photo.view)
    return next(earliest, photo.id)  # none but a removed photo: it is its own


def _features(lib: Library, photo: ComparePhoto) -> register.Features | TrackerError:
    try:
        image = register.working_image(lib.derived("previews", photo.sha256))
    except TrackerError as exc:  # the original is missing, or cannot be read any more
        return exc
    return register.features(image)


def align_auto(
    lib: Library, photo_ids: Sequence[int], to: int | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ``aligned`` and ``failed`` entries of ``--json``, in the order the photos were
    given. Features are made once per photo, on every core."""
    photos = compare_photos(lib, list(dict.fromkeys(photo_ids)))
    targets = {p.id: to if to is not None else _reference_of(lib, p) for p in photos}
    wanted = {p.id: p for p in photos}
    missing = [r for r in dict.fromkeys(targets.values()) if r not in wanted]
    wanted |= {p.id: p for p in compare_photos(lib, missing)} if missing else {}
    pairs = [(q, r) for q, r in targets.items() if q != r]
    to_read = [wanted[i] for i in dict.fromkeys(i for pair in pairs for i in pair)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        made = pool.map(lambda p: _features(lib, p), to_read)
        found = dict(zip((p.id for p in to_read), made, strict=True))
    aligned: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for pid in dict.fromkeys(photo_ids):
        ref_id, photo, ref = targets[pid], wanted[pid], wanted[targets[pid]]
        if ref_id == pid:
            aligned.append(
                _entry(pid, pid, IDENTITY, "reference", "identity", (0, 0), 0.0, "exact")
            )
            continue
        ours, theirs = found[pid], found[ref_id]
        problem = ours if isinstance(ours, TrackerError) else theirs
        try:
            if isinstance(problem, TrackerError):
                raise problem
            assert isinstance(ours, register.Features) and isinstance(theirs, register.Features)
            r = register.register_features(
                ours, (photo.width, photo.height), theirs, (ref.width, ref.height), "sift"
            )
        except TrackerError as exc:
            failed.append(
                {"photo_id": pid, "error": f"Photo {pid} was not aligned to photo {ref_id}: {exc}"}
            )
            continue
        aligned.append(
            _entry(
                pid,
                ref_id,
                r.matrix,
                r.method,
                r.model,
                (r.inliers, r.matches),
                r.residual_px,
                r.quality,
            )
        )
    return aligned, failed


def _entry(
    photo_id: int,
    reference_id: int,
    matrix: Sequence[float],
    method: str,
    model: str,
    agreeing: tuple[int, int],  # (inliers, matches)
    residual_px: float,
    quality: str,
) -> dict[str, Any]:
    return {
        "photo_id": photo_id,
        "reference_id": reference_id,
        "matrix": [round(v, 12) for v in matrix],
        "method": method,
        "model": model,
        "inliers": agreeing[0],
        "matches": agreeing[1],
        "residual_px": round(residual_px, 3),
        "quality": quality,
    }


def cmd_align(args: argparse.Namespace, root: Path) -> int:
    ids = resolve.photo_ids(args.photos)
    with Library.open(root, allow_read_only=True) as lib:
        aligned, failed = align_auto(lib, ids, args.to)
    lines = [
        f"Photo {a['photo_id']} is the reference of its view."
        if a["method"] == "reference"
        else f"Photo {a['photo_id']} → photo {a['reference_id']}: {a['model']}, "
        f"{a['inliers']} of {a['matches']} matching features agree, residual "
        f"{a['residual_px']:.1f} px ({a['quality']})."
        for a in aligned
    ] + [f["error"] for f in failed]
    lines.append("Nothing was stored: --auto reports the transforms for now.")
    emit(args, {"aligned": aligned, "failed": failed}, "\n".join(lines))
    return EXIT_PROBLEMS if failed else EXIT_OK
