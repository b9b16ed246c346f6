"""The command line's grammar: every command, option and value type (docs/CLI.md).

A usage error is one line on standard error and exit status 2, as the contract says, not
argparse's usage text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tracker import __version__
from tracker.core.compare.render import MODES as COMPARE_MODES
from tracker.core.db.models import RaterRole, RatingMethod, VisitKind
from tracker.core.domain.scales import SCALES
from tracker.core.errors import UsageError

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (the contract), not the usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def check_date(value: str) -> dt.date:
    """A YYYY-MM-DD date from the user, or UsageError naming what is wrong."""
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"'{value}' is not a date; write it as YYYY-MM-DD, e.g. 2025-03-14."
        ) from None


def _date(value: str) -> dt.date:
    try:
        return check_date(value)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _number(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            result = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{value}' is not a number") from None
        if isinstance(result, float) and not math.isfinite(result):
            raise argparse.ArgumentTypeError(f"'{value}' is not a number")
        return result

    return parse


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    # SUPPRESS: a subcommand that is not given --json must not undo a --json given before it
    # (`tracker --json list clients` as `tracker list clients --json`); ``parse`` fills in
    # False when it was given nowhere. (Not set_defaults: the action is shared by every
    # subcommand, and a default set on it would be set on all of them.)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON value on standard output",
    )

    p = _Parser(
        prog="tracker",
        description="Progress photos and ratings for microneedling of stretch marks.",
        parents=[common],
    )
    p.add_argument(
        "--library",
        type=Path,
        metavar="DIR",
        help="the library folder (default: $TRACKER_LIBRARY or the per-user data folder)",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("init", parents=[common], help="create an empty library (idempotent)")

    demo = sub.add_parser("demo", parents=[common], help="create a sample library in DIR")
    demo.add_argument("dir", type=Path, metavar="DIR")

    imp = sub.add_parser("import", parents=[common], help="import photo files or folders")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--area", required=True, metavar="NAME")
    imp.add_argument("--client", metavar="NAME")
    imp.add_argument(
        "--view", metavar="NAME", help="front, left, right, close-up, or your own word"
    )
    imp.add_argument(
        "--date", type=_date, metavar="YYYY-MM-DD", help="put every photo in the visit of this date"
    )
    imp.add_argument(
        "--kind",
        choices=[k.value for k in VisitKind],
        help="the kind of every visit the import creates (default: the first is the baseline, "
        "later ones treatments)",
    )

    lst = sub.add_parser("list", parents=[common], help="list clients, areas, visits or photos")
    lst.add_argument("kind", choices=["clients", "areas", "visits", "photos"])
    lst.add_argument("--client", metavar="NAME")
    lst.add_argument("--area", metavar="NAME")

    visit = sub.add_parser("visit", parents=[common], help="add or update a visit")
    visit_sub = visit.add_subparsers(
        dest="visit_command", metavar="add", required=True, parser_class=_Parser
    )
    add = visit_sub.add_parser("add", parents=[common], help="add a visit and its treatment record")
    add.add_argument("--client", metavar="NAME")
    add.add_argument("--date", type=_date, required=True, metavar="YYYY-MM-DD")
    add.add_argument("--kind", choices=[k.value for k in VisitKind])
    add.add_argument("--notes")
    add.add_argument("--area", metavar="NAME")
    add.add_argument("--device", help="roller, stamp, pen, RF microneedling, …")
    add.add_argument(
        "--depth-mm", type=_number(float), metavar="X", help="needle depth, 0.1–3.5 mm"
    )
    add.add_argument("--passes", type=_number(int), metavar="N")
    add.add_argument("--topical", metavar="T", help="PRP, hyaluronic acid, …")
    add.add_argument("--anaesthetic")
    add.add_argument("--reaction", help="immediate reaction")
    add.add_argument("--pain", type=_number(int), metavar="0-10")
    add.add_argument("--downtime-days", type=_number(int), metavar="N")
    add.add_argument("--practitioner", metavar="NAME")

    rate = sub.add_parser("rate", parents=[common], help="rate an area at a visit")
    rate.add_argument("--area", required=True, metavar="NAME")
    rate.add_argument("--date", type=_date, required=True, metavar="YYYY-MM-DD")
    rate.add_argument("--rater", required=True, choices=[r.value for r in RaterRole])
    rate.add_argument("--rater-name", default="", metavar="NAME")
    rate.add_argument("--client", metavar="NAME")
    rate.add_argument(
        "--scale",
        choices=list(SCALES),
        metavar="KEY",
        help=f"one of {', '.join(SCALES)} (default: the area's scale, ctd)",
    )
    rate.add_argument(
        "--method",
        choices=[m.value for m in RatingMethod],
        help="how it was rated (a new rating: in-person unless given; an edit keeps it)",
    )
    rate.add_argument("values", nargs="+", metavar="ITEM=VALUE")

    sub.add_parser("check", parents=[common], help="verify the whole library")

    bak = sub.add_parser("backup", parents=[common], help="write the whole library to a .zip")
    bak.add_argument("out", type=Path, metavar="OUT.zip")
    res = sub.add_parser("restore", parents=[common], help="make a library from a backup archive")
    res.add_argument("archive", type=Path, metavar="ARCHIVE.zip")
    res.add_argument("dest", type=Path, metavar="DIR")
    rep_ = sub.add_parser("repair", parents=[common], help="repairs that 'check' suggests")
    rep_sub = rep_.add_subparsers(
        dest="repair_command",
        metavar="relink|quarantine|rebuild-cache|restore-snapshot",
        required=True,
        parser_class=_Parser,
    )
    relink = rep_sub.add_parser(
        "relink", parents=[common], help="find missing originals in a folder, by their contents"
    )
    relink.add_argument("folder", type=Path, metavar="FOLDER")
    relink.add_argument(
        "--changed",
        action="store_true",
        help="also put back originals whose contents changed (reads every original to find "
        "them; each changed file is moved to quarantine/, not deleted)",
    )
    rep_sub.add_parser(
        "quarantine", parents=[common], help="move files that belong to no photo to quarantine/"
    )
    rep_sub.add_parser("rebuild-cache", parents=[common], help="make thumbnails and previews again")
    snap = rep_sub.add_parser(
        "restore-snapshot", parents=[common], help="put back a database copy from backups/"
    )
    snap.add_argument("snapshot", nargs="?", type=Path, metavar="FILE")

    export = sub.add_parser("export", parents=[common], help="export a comparison image")
    export_sub = export.add_subparsers(
        dest="export_command", metavar="compare|csv|report", required=True, parser_class=_Parser
    )
    cmp = export_sub.add_parser(
        "compare", parents=[common], help="photos side by side, wiped, overlaid or differenced"
    )
    cmp.add_argument("items", nargs="+", metavar="PHOTO_ID... OUT")
    csv_ = export_sub.add_parser(
        "csv", parents=[common], help="every rating as a row of a CSV file"
    )
    csv_.add_argument("out", type=Path, metavar="OUT.csv")
    csv_.add_argument("--client", metavar="NAME")
    csv_.add_argument("--area", metavar="NAME")
    rep = export_sub.add_parser(
        "report", parents=[common], help="a PDF report of a client's course"
    )
    rep.add_argument("out", type=Path, metavar="OUT.pdf")
    rep.add_argument("--client", metavar="NAME")
    rep.add_argument("--area", metavar="NAME")
    rep.add_argument("--page", choices=["a4", "letter"], default="a4", type=str.lower)
    cmp.add_argument("--mode", choices=list(COMPARE_MODES), default="side")
    cmp.add_argument("--aligned", action="store_true", help="apply the stored landmark alignment")
    cmp.add_argument("--caption", default="", help="a line of text under the images")
    cmp.add_argument("--no-labels", action="store_true", help="leave out the date labels")
    cmp.add_argument(
        "--size",
        type=int,
        default=1600,
        metavar="PIXELS",
        help="long side of each photo in the export (256-8192, default 1600; above 2048 the "
        "originals are read, for a full-size export)",
    )
    return p


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    return args


def parse_item_values(pairs: Sequence[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            raise UsageError(f"'{pair}' is not of the form ITEM=VALUE, e.g. colour=6.")
        if key in values:
            raise UsageError(f"{key} is given twice.")
        try:
            value = float(raw)
        except ValueError:
            raise UsageError(f"{key}: '{raw}' is not a number.") from None
        if not math.isfinite(value):
            raise UsageError(f"{key}: '{raw}' is not a number.")
        values[key] = value
    return values
