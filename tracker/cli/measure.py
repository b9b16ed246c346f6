"""The measuring commands (issue 18, docs/CLI.md): ``tracker measure PHOTO_ID...``, ``tracker
region set|clear`` and ``tracker area control``. Names become ids here (``resolve``); the work
is ``tracker.core.services.measure``'s, as in the window."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from tracker.cli import resolve, unlock
from tracker.cli.output import emit
from tracker.cli.parser import EXIT_OK, EXIT_PROBLEMS
from tracker.core.domain.measures import MEASURES, format_value
from tracker.core.errors import UsageError
from tracker.core.imaging.geometry import Point
from tracker.core.services import measure

MAX_CORNERS = 500
SHOWN = ("mean_width_mm", "area_mm2", "length_mm", "delta_e00")  # the text output's columns


def parse_points(text: str, option: str) -> list[Point]:
    """``"x,y x,y ..."`` as points; a refusal names the option and the bad corner."""
    items = text.replace(";", " ").split()
    if not items:
        raise UsageError(f'{option} needs corners as "x,y x,y ..."; it was given none.')
    if len(items) > MAX_CORNERS:
        raise UsageError(f"{option} has {len(items)} corners; the most is {MAX_CORNERS}.")
    points: list[Point] = []
    for item in items:
        parts = item.split(",")
        try:
            x, y = (float(v) for v in parts) if len(parts) == 2 else (math.nan, math.nan)
        except ValueError:
            x = y = math.nan
        if not (math.isfinite(x) and math.isfinite(y)):
            raise UsageError(
                f"{option}: {item[:40]!r} is not a corner; write each as x,y in pixels, "
                'separated by spaces: "120,80 900,80 900,640".'
            )
        points.append((x, y))
    return points


def _line(m: measure.Measured) -> str:
    v = m.measures.as_dict()
    if not m.measures.marks_found:
        return f"Photo {m.photo_id}: no marks found (measured as {m.stage})."
    keys = SHOWN if m.measures.px_per_mm else ("mean_width_px", "area_fraction", "delta_e00")
    parts = []
    for key in keys:
        value = v[key]
        if isinstance(value, float):
            parts.append(f"{MEASURES[key].label.lower()} {format_value(key, value)}")
    scale = "" if m.measures.px_per_mm else " (no calibration card: no sizes in mm)"
    return f"Photo {m.photo_id} ({m.stage}): " + ", ".join(parts) + scale


def cmd_measure(args: argparse.Namespace, root: Path) -> int:
    ids = resolve.photo_ids(args.photos)
    show = not args.json and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        print(f"\rMeasuring {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    with unlock.open_library(args, root) as lib:
        outcome = measure.measure_photos(lib, ids, progress=progress if show else None)
    data = {
        "measured": [measure.photo_json(m) for m in outcome.measured],
        "failed": [{"photo_id": pid, "error": error} for pid, error in outcome.failed],
    }
    text = "\n".join([*(_line(m) for m in outcome.measured), *(e for _p, e in outcome.failed)])
    emit(args, data, text or "Nothing was measured.")
    return EXIT_PROBLEMS if outcome.failed else EXIT_OK


def _regions_json(area: str, view: str, r: measure.Regions) -> dict[str, Any]:
    return {
        "area": area,
        "view": view,
        "marks": [list(p) for p in r.marks] if r.marks else None,
        "skin": [list(p) for p in r.skin] if r.skin else None,
        "marks_version": r.marks_version,
        "skin_version": r.skin_version,
        "reference_photo_id": r.reference_photo_id,
        "redraw": list(r.redraw),  # kept, but to be drawn again: the photo they were on left
    }


def cmd_region(args: argparse.Namespace, root: Path) -> int:
    marks = parse_points(args.marks, "--marks") if args.region_command == "set" else None
    skin = (
        parse_points(args.skin, "--skin")
        if args.region_command == "set" and args.skin is not None
        else None
    )
    with unlock.open_library(args, root) as lib:
        area_id = resolve.area(lib, resolve.client(lib, args.client), args.area)
        if args.region_command == "set":
            measure.set_region(lib, area_id, args.view, "marks", marks)
            if skin is not None:
                measure.set_region(lib, area_id, args.view, "skin", skin)
        else:
            measure.set_region(lib, area_id, args.view, "marks", None)
            measure.set_region(lib, area_id, args.view, "skin", None)
        now = measure.regions(lib, area_id, args.view)
    if args.region_command == "set":
        text = (
            f"The marks' region of {args.area}, view {args.view}, has {len(now.marks or [])} "
            f"corners on photo {now.reference_photo_id}"
            + (f", with a skin patch of {len(now.skin)} corners" if now.skin else "")
            + ". Measure the photos again: 'tracker measure'."
        )
    else:
        text = f"The regions of {args.area}, view {args.view}, are cleared."
    emit(args, _regions_json(args.area, args.view, now), text)
    return EXIT_OK


def cmd_area(args: argparse.Namespace, root: Path) -> int:
    with unlock.open_library(args, root) as lib:
        client = resolve.client(lib, args.client)
        area_id = resolve.area(lib, client, args.area)
        if args.untreated or args.treated:
            measure.set_is_control(lib, area_id, bool(args.untreated))
            data: dict[str, Any] = {"area": args.area, "is_control": bool(args.untreated)}
            text = (
                f"{args.area} is an untreated control area."
                if args.untreated
                else f"{args.area} is not a control area; no area is compared with it."
            )
        else:
            control_id = None if args.none else resolve.area(lib, client, args.control)
            measure.set_control(lib, area_id, control_id)
            data = {"area": args.area, "control": None if args.none else args.control}
            text = (
                f"{args.area} is compared with no control area."
                if control_id is None
                else f"{args.area} is compared with the untreated area {args.control}."
            )
    emit(args, data, text)
    return EXIT_OK
