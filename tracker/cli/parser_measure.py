"""The grammar of the measuring commands (issue 18, docs/CLI.md): ``measure``, ``region set``,
``region clear`` and ``area control``. Kept apart from ``parser`` so that it stays readable;
``parser.build_parser`` adds them with its own helpers."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Command = Callable[[Any, str, str, list[argparse.ArgumentParser]], argparse.ArgumentParser]

_CLIENT_HELP = "the client's name (may be left out when the library has only one client)"


def add_measure_commands(
    sub: Any, command: Command, c: list[argparse.ArgumentParser], parser_class: type
) -> None:
    m = command(sub, "measure", "measure the marks in photos and store the measures", c)
    m.add_argument(
        "photos", nargs="+", metavar="PHOTO_ID", help="the photos ('tracker list photos')"
    )

    region = command(
        sub, "region", "draw the marks' region or a skin patch on a reference photo", c
    )
    region_sub: Any = region.add_subparsers(
        dest="region_command",
        metavar="set|clear",
        required=True,
        parser_class=parser_class,
        help="what to do with the regions",
    )
    for name, text in (
        ("set", "outline the marks (and a patch of untreated skin) on the view's reference photo"),
        ("clear", "remove the marks' region and the skin patch of an area's view"),
    ):
        r = command(region_sub, name, text, c)
        r.add_argument("--area", required=True, metavar="NAME", help="the area")
        r.add_argument("--client", metavar="NAME", help=_CLIENT_HELP)
        r.add_argument("--view", required=True, metavar="VIEW", help="the view (front, left, …)")
        if name == "set":
            r.add_argument(
                "--marks",
                required=True,
                metavar='"X,Y X,Y ..."',
                help="the corners of the marks' region, at least three, in the reference "
                "photo's upright full-resolution pixels",
            )
            r.add_argument(
                "--skin",
                metavar='"X,Y X,Y ..."',
                help="the corners of a patch of untreated skin beside the marks (default: a "
                "ring around the marks found)",
            )

    area = command(sub, "area", "set how an area is measured", c)
    area_sub: Any = area.add_subparsers(
        dest="area_command",
        metavar="control",
        required=True,
        parser_class=parser_class,
        help="what to set",
    )
    ctl = command(
        area_sub,
        "control",
        "name the untreated area an area is compared with, or mark it as one",
        c,
    )
    ctl.add_argument("--area", required=True, metavar="NAME", help="the area")
    ctl.add_argument("--client", metavar="NAME", help=_CLIENT_HELP)
    which = ctl.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--control",
        metavar="NAME",
        help="the untreated area of the same client to compare it with (marked as a control)",
    )
    which.add_argument(
        "--none", action="store_true", help="compare it with no control area any more"
    )
    which.add_argument(
        "--untreated",
        action="store_true",
        help="mark the area itself as an untreated control (for other areas to be compared with)",
    )
    which.add_argument(
        "--treated",
        action="store_true",
        help="the area is no untreated control: areas compared with it are compared with none",
    )
