"""``tracker align PHOTO_ID... [--to REF_ID] (--auto | --landmarks FILE)``: each photo aligned
to its reference photo, from the skin itself or from points given in a file, and the
alignment stored (docs/CLI.md).

The reference of a photo is the reference photo of its area and view, else the earliest
photo of that area and view (which becomes the reference); ``--to`` registers to another
photo of the same area and view and composes with that photo's own alignment
(``tracker.core.services.align``).

The landmarks file is JSON: an object whose keys are photo ids and whose values are lists of
``[x, y]`` points, the same spots in the same order on every photo, in each photo's upright
full-resolution pixels: ``{"3": [[812, 640], [2210, 1702]], "7": [[790, 655], [2180, 1730]]}``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from tracker.cli import resolve, unlock
from tracker.cli.output import emit
from tracker.cli.parser import EXIT_OK, EXIT_PROBLEMS
from tracker.core.errors import UsageError
from tracker.core.imaging.geometry import Point
from tracker.core.services.align import Aligned, AlignOutcome, align_by_points, align_photos

MAX_FILE = 1_000_000  # bytes: points for thousands of photos
MAX_POINTS = 100  # a photo's landmarks


def read_landmarks(path: Path) -> dict[int, list[Point]]:
    """The points of a landmarks file, checked; a refusal names the file and the problem."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE:
            raise UsageError(
                f"The landmarks file {path} is {size:,} bytes; the most is {MAX_FILE:,}."
            )
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"The landmarks file {path} cannot be read: {exc.strerror}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UsageError(
            f"The landmarks file {path} is not JSON; it is an object of photo ids and their "
            'points, e.g. {"3": [[812, 640], [2210, 1702]], "7": [[790, 655], [2180, 1730]]}.'
        ) from None
    if not isinstance(raw, dict) or not raw:
        raise UsageError(
            f"The landmarks file {path} holds no object of photo ids and their points."
        )
    out: dict[int, list[Point]] = {}
    for key, value in raw.items():
        pid = int(key) if isinstance(key, str) and key.isdecimal() and key.isascii() else None
        if pid is None or pid <= 0:
            raise UsageError(f"In {path}, {key!r} is not a photo id ('tracker list photos').")
        if not isinstance(value, list) or not 2 <= len(value) <= MAX_POINTS:
            raise UsageError(
                f"In {path}, photo {pid} needs a list of 2 to {MAX_POINTS} points [x, y]."
            )
        points = []
        for p in value:
            ok = (
                isinstance(p, list)
                and len(p) == 2
                and all(
                    isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                    for v in p
                )
            )
            if not ok:
                raise UsageError(
                    f"In {path}, photo {pid} has {json.dumps(p)[:40]} where a point [x, y] "
                    "of two numbers belongs."
                )
            points.append((float(p[0]), float(p[1])))
        out[pid] = points
    counts = {len(v) for v in out.values()}
    if len(counts) > 1:
        told = ", ".join(f"photo {pid} {len(v)}" for pid, v in out.items())
        raise UsageError(
            f"In {path}, every photo needs the same number of points, in the same order: {told}."
        )
    return out


def _entry(a: Aligned) -> dict[str, Any]:
    al = a.alignment
    return {
        "photo_id": a.photo_id,
        "reference_id": a.reference_id,
        "matrix": [round(v, 12) for v in al.matrix],
        "method": al.method,
        "model": "identity" if al.method == "reference" else al.model,
        "inliers": al.points or 0,
        "matches": a.matches,
        "residual_px": round(al.residual_px or 0.0, 3),
        "quality": a.quality,
    }


def _text(outcome: AlignOutcome) -> str:
    lines = [
        f"Photo {a.photo_id} is the reference of its view."
        if a.alignment.method == "reference"
        else f"Photo {a.photo_id} → photo {a.reference_id}: {a.alignment.words()}"
        for a in outcome.aligned
    ] + [f.error for f in outcome.failed]
    stored = len(outcome.alignments())
    if stored:
        lines.append(
            f"Stored {stored} alignment{'s' if stored != 1 else ''}: the compare window and "
            "'tracker export compare --aligned' use them."
        )
    else:
        lines.append("Nothing was stored.")
    return "\n".join(lines)


def cmd_align(args: argparse.Namespace, root: Path) -> int:
    ids = resolve.photo_ids(args.photos)
    points = read_landmarks(args.landmarks) if args.landmarks is not None else None
    with unlock.open_library(args, root) as lib:
        if points is not None:
            outcome = align_by_points(lib, ids, points, args.to)
        else:
            outcome = align_photos(lib, ids, args.to)
    data = {
        "aligned": [_entry(a) for a in outcome.aligned],
        "failed": [{"photo_id": f.photo_id, "error": f.error} for f in outcome.failed],
    }
    emit(args, data, _text(outcome))
    return EXIT_PROBLEMS if outcome.failed else EXIT_OK
