"""The command line's grammar: every command, option and value type (docs/CLI.md).

A usage error is one line on standard error and exit status 2, as the contract says, not
argparse's usage text.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tracker import __version__
from tracker.cli.parser_clinic import add_clinic_commands
from tracker.cli.parser_consent import add_consent_commands, add_purpose
from tracker.cli.parser_measure import add_measure_commands
from tracker.core.db.models import RaterRole, RatingMethod, VisitKind
from tracker.core.domain.scales import SCALES
from tracker.core.errors import UsageError
from tracker.core.text import parse_date, parse_id, parse_number, parse_whole

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (the contract), not the usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


def _typed(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from one of ``core.text``'s rules for what people type."""

    def convert(value: str) -> Any:
        try:
            return parse(value)
        except UsageError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


_date = _typed(parse_date)


def _number(what: str, decimals: int = 0) -> Callable[[str], Any]:
    if decimals:
        return _typed(lambda v: parse_number(v, what, decimals=decimals))
    return _typed(lambda v: parse_whole(v, what))


def _id(what: str) -> Callable[[str], int]:
    return _typed(lambda v: parse_id(v, what))


COMPARE_MODES = ("side", "wipe", "overlay", "difference")
"""``tracker.core.compare.render.MODES``, written here so that parsing a command does not load
the image renderer and Pillow (start-up time); a test holds the two equal."""

_CLIENT_HELP = "the client's name (may be left out when the library has only one client)"


def _command(
    sub: Any, name: str, text: str, parents: list[argparse.ArgumentParser]
) -> argparse.ArgumentParser:
    """A subcommand whose one line in its parent's help is also its own help's description."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, parents=parents, help=text, description=text[0].upper() + text[1:] + "."
    )
    return parser


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
    c: list[argparse.ArgumentParser] = [common]

    p = _Parser(
        prog="tracker",
        description="Progress photos and ratings for microneedling of stretch marks. "
        "Without a command, the window opens.",
        parents=c,
    )
    p.add_argument(
        "--library",
        metavar="DIR",
        help="the library folder, or a clinic library's postgresql://LOGIN@HOST/DATABASE "
        "(default: $TRACKER_LIBRARY or the per-user data folder)",
    )
    p.add_argument(
        "--recovery-key",
        action="store_true",
        help="unlock an encrypted library with its recovery key instead of its passphrase "
        "(asked for, or read from $TRACKER_RECOVERY_KEY)",
    )
    p.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {__version__}",
        help="print the version and exit",
    )
    sub = p.add_subparsers(
        dest="command",
        metavar="COMMAND",
        parser_class=_Parser,
        help="what to do (tracker COMMAND --help for its options)",
    )

    init = _command(sub, "init", "create an empty library (an existing one is left as it is)", c)
    init.add_argument(
        "--encrypt",
        action="store_true",
        help="encrypt the new library: asks for a passphrase twice (or reads "
        "$TRACKER_NEW_PASSPHRASE, else $TRACKER_PASSPHRASE) and shows its recovery key once",
    )
    pw = _command(sub, "passphrase", "change an encrypted library's passphrase", c)
    pw_sub = pw.add_subparsers(
        dest="passphrase_command",
        metavar="change",
        required=True,
        parser_class=_Parser,
        help="what to do with it",
    )
    _command(
        pw_sub,
        "change",
        "lock the library with a new passphrase (asked twice, or $TRACKER_NEW_PASSPHRASE)",
        c,
    )

    _command(
        sub,
        "encrypt",
        "encrypt an existing plain library in place: asks for a passphrase twice (or reads "
        "$TRACKER_NEW_PASSPHRASE, else $TRACKER_PASSPHRASE) and shows its recovery key once",
        c,
    )

    demo = _command(sub, "demo", "create a sample library with generated photos in DIR", c)
    demo.add_argument(
        "dir",
        metavar="DIR",
        help="a new or empty folder, or an empty clinic library's postgresql:// address",
    )

    imp = _command(sub, "import", "import photo files or folders into an area", c)
    imp.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="photo files or folders (walked; hidden entries skipped); put -- before a name "
        "that starts with a dash",
    )
    imp.add_argument(
        "--area",
        required=True,
        metavar="NAME",
        help="the area the photos are of (made with the first photo if it does not exist)",
    )
    imp.add_argument(
        "--client",
        metavar="NAME",
        help="the client's name (made with the first photo if it does not exist; may be left "
        "out when the library has only one client)",
    )
    imp.add_argument(
        "--view", metavar="NAME", help="front (default), left, right, close-up, or your own word"
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

    lst = _command(sub, "list", "list clients, areas, visits, photos or ratings", c)
    lst.add_argument(
        "kind", choices=["clients", "areas", "visits", "photos", "ratings"], help="what to list"
    )
    lst.add_argument(
        "--client", metavar="NAME", help="only this client's areas, visits, photos or ratings"
    )
    lst.add_argument("--area", metavar="NAME", help="only the photos or ratings of this area")

    visit = _command(sub, "visit", "add a visit or update one", c)
    visit_sub = visit.add_subparsers(
        dest="visit_command",
        metavar="add",
        required=True,
        parser_class=_Parser,
        help="what to do with the visit",
    )
    add = _command(
        visit_sub,
        "add",
        "add the visit on a date, or update the one there, and merge in its treatment record",
        c,
    )
    add.add_argument("--client", metavar="NAME", help=_CLIENT_HELP)
    add.add_argument(
        "--date", type=_date, required=True, metavar="YYYY-MM-DD", help="the day of the visit"
    )
    add.add_argument(
        "--kind",
        choices=[k.value for k in VisitKind],
        help="the kind of visit (a new one, without it: the baseline when the client has none, "
        "else a treatment)",
    )
    add.add_argument("--notes", metavar="TEXT", help="notes on the visit")
    add.add_argument(
        "--area",
        metavar="NAME",
        help="the area the treatment details are for (required with any of them)",
    )
    add.add_argument("--device", metavar="D", help="roller, stamp, pen, RF microneedling, …")
    add.add_argument(
        "--depth-mm", type=_number("needle depth", 2), metavar="X", help="needle depth, 0.1–3.5 mm"
    )
    add.add_argument("--passes", type=_number("passes"), metavar="N", help="number of passes, 1–20")
    add.add_argument("--topical", metavar="T", help="PRP, hyaluronic acid, …")
    add.add_argument("--anaesthetic", metavar="A", help="the anaesthetic used, if any")
    add.add_argument("--reaction", metavar="R", help="the immediate reaction of the skin")
    add.add_argument("--pain", type=_number("pain"), metavar="0-10", help="pain felt, 0–10")
    add.add_argument(
        "--downtime-days", type=_number("downtime"), metavar="N", help="days of downtime, 0–60"
    )
    add.add_argument("--practitioner", metavar="NAME", help="who gave the treatment")

    rate = _command(sub, "rate", "record a rater's rating of an area at a visit", c)
    rate.add_argument("--area", required=True, metavar="NAME", help="the area rated")
    rate.add_argument(
        "--date",
        type=_date,
        required=True,
        metavar="YYYY-MM-DD",
        help="the day of the visit (it must exist: 'tracker visit add')",
    )
    rate.add_argument(
        "--rater", required=True, choices=[r.value for r in RaterRole], help="who rates"
    )
    rate.add_argument(
        "--rater-name",
        default="",
        metavar="NAME",
        help="the rater's name (default: none); another name is another rating",
    )
    rate.add_argument("--client", metavar="NAME", help=_CLIENT_HELP)
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
    rate.add_argument(
        "values",
        nargs="+",
        metavar="ITEM=VALUE",
        help="a score of an item of the scale, e.g. colour=4 texture=5 depth=6",
    )

    move = _command(sub, "move", "move photos to another visit or date, area or view", c)
    move.add_argument(
        "photos", nargs="+", metavar="PHOTO_ID", help="the photos ('tracker list photos')"
    )
    where = move.add_mutually_exclusive_group()
    where.add_argument(
        "--visit", type=_id("a visit id"), metavar="ID", help="the visit to move them to (its id)"
    )
    where.add_argument(
        "--date",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the day of the visit to move them to (made when the client has none that day; "
        "the photos keep the date they were taken)",
    )
    move.add_argument(
        "--area", metavar="NAME", help="the photos' client's area to move them to (by name)"
    )
    move.add_argument("--view", metavar="NAME", help="the view to label them with (front, left…)")

    erase = _command(
        sub,
        "erase",
        "erase a photo, a visit, an area or a client for good (it cannot be undone)",
        c,
    )
    erase.add_argument("target", choices=["photo", "visit", "area", "client"], help="what to erase")
    erase.add_argument(
        "which",
        metavar="ID|NAME",
        help="the photo's or visit's id ('tracker list photos|visits'), or the area's or "
        "client's name",
    )
    erase.add_argument("--client", metavar="NAME", help="the area's client; " + _CLIENT_HELP)
    erase.add_argument(
        "--yes",
        action="store_true",
        help="erase without asking (required when standard input is not a terminal)",
    )

    align = _command(
        sub, "align", "align photos to their reference photo and store the alignments", c
    )
    align.add_argument(
        "photos", nargs="+", metavar="PHOTO_ID", help="the photos ('tracker list photos')"
    )
    align.add_argument(
        "--to",
        type=_id("a photo id"),
        metavar="REF_ID",
        help="the photo of the same area and view to align them to (default: the reference "
        "photo of each one's area and view, else its earliest photo of that view)",
    )
    align_how = align.add_mutually_exclusive_group(required=True)
    align_how.add_argument(
        "--auto",
        action="store_true",
        help="find the alignment from the skin itself (features matched, checked, refused "
        "when unsure)",
    )
    align_how.add_argument(
        "--landmarks",
        type=Path,
        metavar="FILE",
        help='fit the alignment to points given in a JSON file: {"PHOTO_ID": [[x, y], ...], '
        "...}, the same spots in the same order on each photo and its reference",
    )

    add_measure_commands(sub, _command, c, _Parser)
    add_consent_commands(sub, _command, c, _Parser, _date, _id)
    add_clinic_commands(sub, _command, c, _Parser)

    card = _command(sub, "card", "write a calibration card to print (PDF)", c)
    card.add_argument("out", type=Path, metavar="OUT.pdf", help="the PDF file to write")
    card.add_argument(
        "--paper",
        choices=["a4", "letter"],
        default="a4",
        type=str.lower,
        help="the paper size (default: a4)",
    )

    _command(sub, "check", "verify the whole library (it reports, never repairs)", c)

    export = _command(
        sub, "export", "write a comparison image, a CSV of the ratings or a PDF report", c
    )
    export_sub = export.add_subparsers(
        dest="export_command",
        metavar="compare|csv|report",
        required=True,
        parser_class=_Parser,
        help="what to write",
    )
    cmp = _command(export_sub, "compare", "photos side by side, wiped, overlaid or differenced", c)
    cmp.add_argument(
        "items",
        nargs="+",
        metavar="PHOTO_ID... OUT",
        help="the photo ids ('tracker list photos' shows them), then the image to write "
        "(.png or .jpg)",
    )
    cmp.add_argument(
        "--mode",
        choices=COMPARE_MODES,
        default="side",
        help="side by side (2–4 photos, the default), or wipe, overlay or difference (2)",
    )
    cmp.add_argument("--aligned", action="store_true", help="apply the stored landmark alignment")
    cmp.add_argument(
        "--caption", default="", metavar="TEXT", help="a line of text under the images"
    )
    cmp.add_argument("--no-labels", action="store_true", help="leave out the date labels")
    cmp.add_argument("--ratings", action="store_true", help="each photo's ratings under its label")
    add_purpose(cmp)
    cmp.add_argument(
        "--size",
        type=_number("the size"),
        default=1600,
        metavar="PIXELS",
        help="long side of each photo in the export (256-8192, default 1600; above 2048 the "
        "originals are read, for a full-size export)",
    )
    csv_ = _command(export_sub, "csv", "every rating item as a row of a CSV file", c)
    csv_.add_argument("out", type=Path, metavar="OUT.csv", help="the CSV file to write")
    csv_.add_argument("--client", metavar="NAME", help="only this client's ratings")
    csv_.add_argument("--area", metavar="NAME", help="only the ratings of this area")
    add_purpose(csv_)
    rep = _command(export_sub, "report", "a PDF report of a client's course", c)
    rep.add_argument("out", type=Path, metavar="OUT.pdf", help="the PDF file to write")
    rep.add_argument("--client", metavar="NAME", help=_CLIENT_HELP)
    rep.add_argument("--area", metavar="NAME", help="only this area (default: every area)")
    add_purpose(rep)
    rep.add_argument(
        "--page",
        choices=["a4", "letter"],
        default="a4",
        type=str.lower,
        help="the paper size (default: a4)",
    )

    bak = _command(sub, "backup", "write the whole library to a .zip archive", c)
    bak.add_argument(
        "out", type=Path, metavar="OUT.zip", help="the archive to write (outside the library)"
    )
    bak.add_argument(
        "--force",
        action="store_true",
        help="back up a damaged library anyway: what is there, leaving out (and naming) the "
        "originals that are missing, changed or links",
    )
    res = _command(sub, "restore", "make a new library from a backup archive", c)
    res.add_argument("archive", type=Path, metavar="ARCHIVE.zip", help="the backup archive")
    res.add_argument(
        "dest",
        metavar="DIR",
        help="a new or empty folder for the library, or an empty clinic library's "
        "postgresql:// address (its owner's login)",
    )
    res.add_argument(
        "--allow-unencrypted",
        action="store_true",
        help="into a clinic library that is not encrypted: an encrypted backup's photos may "
        "be kept on the server in plain",
    )
    rep_ = _command(sub, "repair", "the repairs that 'check' suggests (none deletes anything)", c)
    rep_sub = rep_.add_subparsers(
        dest="repair_command",
        metavar="relink|quarantine|rebuild-cache|restore-snapshot",
        required=True,
        parser_class=_Parser,
        help="which repair",
    )
    relink = _command(rep_sub, "relink", "find missing originals in a folder, by their contents", c)
    relink.add_argument(
        "folder", type=Path, metavar="FOLDER", help="a folder that holds copies of the photos"
    )
    relink.add_argument(
        "--changed",
        action="store_true",
        help="also put back originals whose contents changed (reads every original to find "
        "them; each changed file is moved to quarantine/, not deleted)",
    )
    _command(rep_sub, "quarantine", "move files that belong to no photo to quarantine/", c)
    _command(rep_sub, "rebuild-cache", "make thumbnails and previews again", c)
    snap = _command(rep_sub, "restore-snapshot", "put back a database copy from backups/", c)
    snap.add_argument(
        "snapshot",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="the copy to put back, a path or a name in backups/ (default: the newest)",
    )
    return p


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
    args.json = getattr(args, "json", False)
    return args


def parse_item_values(pairs: Sequence[str]) -> dict[str, float]:
    """ITEM=VALUE pairs, each value by ``core.text.parse_number`` (no scale takes finer steps
    than 0.1; the scale then checks its own range and resolution)."""
    values: dict[str, float] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip().lower()
        if not sep or not key:
            raise UsageError(f"'{pair}' is not of the form ITEM=VALUE, e.g. colour=6.")
        if key in values:
            raise UsageError(f"{key} is given twice.")
        values[key] = parse_number(raw, key, decimals=1)
    return values
