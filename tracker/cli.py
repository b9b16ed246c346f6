"""The command line: every core operation without a screen (DESIGN.md, "Command line").

Exit status: 0 success; 1 the command ran but found problems (a file rejected, damage found);
2 bad usage or bad input, with a one-line reason on standard error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from tracker import __version__
from tracker.core.compare.render import MODES as COMPARE_MODES
from tracker.core.db.models import RaterRole, RatingMethod, VisitKind
from tracker.core.domain.scales import SCALES
from tracker.core.errors import TrackerError, UsageError
from tracker.core.paths import default_library
from tracker.core.services.imports import check_date
from tracker.core.store.library import Library, TreatmentInput

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (the contract), not the usage text."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message}\n")


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
    common.add_argument(
        "--json", action="store_true", help="print one JSON value on standard output"
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
    rate.add_argument("--method", choices=[m.value for m in RatingMethod], default="in-person")
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


# -- output -------------------------------------------------------------------------------


def _emit(args: argparse.Namespace, value: Any, text: str) -> None:
    if args.json:
        try:
            out = json.dumps(value, ensure_ascii=False, indent=None)
            out.encode("utf-8")
        except UnicodeEncodeError:
            # A file name that is not valid UTF-8: escape it rather than write invalid output.
            out = json.dumps(value, ensure_ascii=True)
        print(out)
    else:
        print(text)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


# -- commands -----------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace, root: Path) -> int:
    existed = (root / "library.sqlite3").exists()
    with Library.open(root, create=True):
        pass
    _emit(
        args,
        {"library": str(root), "created": not existed},
        f"{'Library already exists' if existed else 'Created a library'} at {root}",
    )
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, _root: Path) -> int:
    from tracker.core.demo.sample import create_demo

    summary = create_demo(args.dir)
    _emit(
        args,
        summary,
        f"Created a sample library at {summary['library']}: "
        f"{summary['visits']} visits, {summary['photos']} photos, {summary['ratings']} ratings.",
    )
    return EXIT_OK


def cmd_import(args: argparse.Namespace, root: Path) -> int:
    show_progress = not args.json and sys.stderr.isatty()

    def progress(done: int, total: int, _file: str) -> None:
        print(f"\rImporting {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    with Library.open(root, create=True) as lib:
        report = lib.import_files(
            args.files,
            area=args.area,
            client=args.client,
            view=args.view,
            date=args.date,
            progress=progress if show_progress else None,
        )
    lines = [
        f"Imported {len(report.imported)}, duplicates {len(report.duplicates)}, "
        f"rejected {len(report.rejected)}."
    ]
    lines += [
        f"  imported {i.file} -> photo {i.photo_id} ({i.taken_at}, {i.width}x{i.height})"
        for i in report.imported
    ]
    lines += [f"  warning: {w}" for i in report.imported for w in i.warnings]
    lines += [f"  duplicate {d.file} = photo {d.photo_id}" for d in report.duplicates]
    lines += [f"  rejected: {r.error}" for r in report.rejected]
    _emit(args, report.to_json(), "\n".join(lines))
    return EXIT_PROBLEMS if report.rejected else EXIT_OK


_LIST_COLUMNS = {
    "clients": ["id", "name"],
    "areas": ["id", "client", "name", "stage"],
    "visits": ["id", "client", "date", "kind"],
    "photos": [
        "id",
        "client",
        "area",
        "visit_date",
        "view",
        "taken_at",
        "width",
        "height",
        "original_name",
    ],
}


def cmd_list(args: argparse.Namespace, root: Path) -> int:
    with Library.open(root, allow_read_only=True) as lib:
        if args.kind == "clients":
            rows = lib.list_clients()
        elif args.kind == "areas":
            rows = lib.list_areas(args.client)
        elif args.kind == "visits":
            rows = lib.list_visits(args.client)
        else:
            rows = lib.list_photos(args.client, args.area)
    _emit(args, rows, _table(rows, _LIST_COLUMNS[args.kind]))
    return EXIT_OK


def cmd_visit(args: argparse.Namespace, root: Path) -> int:
    treatment = TreatmentInput(
        device=args.device,
        needle_depth_mm=args.depth_mm,
        passes=args.passes,
        topical=args.topical,
        anaesthetic=args.anaesthetic,
        reaction=args.reaction,
        pain=args.pain,
        downtime_days=args.downtime_days,
        practitioner=args.practitioner,
    )
    with Library.open(root, create=True) as lib:
        result = lib.add_visit(
            client=args.client,
            day=args.date,
            kind=VisitKind(args.kind) if args.kind else None,
            notes=args.notes,
            area=args.area,
            treatment=treatment,
        )
    verb = "Added" if result["created"] else "Updated"
    _emit(
        args,
        result,
        f"{verb} the {result['kind']} visit of {result['client']} on {result['date']} "
        f"(visit {result['id']}).",
    )
    return EXIT_OK


def cmd_rate(args: argparse.Namespace, root: Path) -> int:
    values = parse_item_values(args.values)
    with Library.open(root) as lib:
        result = lib.rate(
            client=args.client,
            area=args.area,
            day=args.date,
            role=RaterRole(args.rater),
            values=values,
            scale=args.scale,
            rater_name=args.rater_name,
            method=RatingMethod(args.method),
        )
    shown = ", ".join(f"{k}={v:g}" for k, v in result["values"].items())
    _emit(
        args,
        result,
        f"Rated {result['area']} on {result['date']} ({result['scale']}, "
        f"{result['rater']}): {shown}.",
    )
    return EXIT_OK


def cmd_check(args: argparse.Namespace, root: Path) -> int:
    with Library.open(root, allow_read_only=True) as lib:
        report = lib.check()
    if report.ok:
        text = f"The library is in good order ({report.photos_checked} photos checked)."
    else:
        text = "\n".join(
            [f"{len(report.problems)} problem(s) found:"]
            + [f"  [{p.kind}] {p.detail}" for p in report.problems]
        )
    _emit(args, report.to_json(), text)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def cmd_export(args: argparse.Namespace, root: Path) -> int:
    if args.export_command == "csv":
        from tracker.core.exports import ratings_csv as export_csv

        with Library.open(root, allow_read_only=True) as lib:
            result = export_csv.export(lib, args.out, args.client, args.area)
        _emit(args, result, f"Wrote {result['rows']} rating rows to {result['file']}.")
        return EXIT_OK
    if args.export_command == "report":
        return _export_report(args, root)
    from tracker.core.compare.render import CompareOptions, export

    *raw_ids, out = args.items
    if not raw_ids:
        raise UsageError("Give the photo ids to compare, then the output file, e.g. 3 17 out.png.")
    ids = []
    for raw in raw_ids:
        if not raw.isdigit():
            raise UsageError(f"'{raw}' is not a photo id; 'tracker list photos' shows them.")
        ids.append(int(raw))
    options = CompareOptions(
        mode=args.mode,
        aligned=args.aligned,
        labels=not args.no_labels,
        caption=args.caption,
        max_side=args.size,
    )
    with Library.open(root, allow_read_only=True) as lib:
        result = export(lib, ids, Path(out), options)
    _emit(args, result, f"Wrote {result['file']} ({result['width']} × {result['height']}).")
    return EXIT_OK


def _export_report(args: argparse.Namespace, root: Path) -> int:
    """The PDF needs Qt's painter and charts: an offscreen application, no window."""
    import os

    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from tracker.rendering.report import export_report

    app = QApplication.instance() or QApplication(["tracker"])
    with Library.open(root, allow_read_only=True) as lib:
        result = export_report(lib, args.out, client=args.client, area=args.area, page=args.page)
    del app
    _emit(args, result, f"Wrote {result['file']}.")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace, root: Path) -> int:
    from tracker.core.care import backups

    with Library.open(root, allow_read_only=True) as lib:
        result = backups.backup(lib, args.out)
    _emit(
        args,
        result,
        f"Wrote {result['file']} ({result['files']} files, checksums in its manifest).",
    )
    return EXIT_OK


def cmd_restore(args: argparse.Namespace, _root: Path) -> int:
    from tracker.core.care import backups

    result = backups.restore(args.archive, args.dest)
    _emit(
        args,
        result,
        f"Restored a library at {result['library']}: {result['photos']} photos, every file checked.",
    )
    return EXIT_OK


def cmd_repair(args: argparse.Namespace, root: Path) -> int:
    from tracker.core.care import backups, repair

    if args.repair_command == "restore-snapshot":
        snapshot = args.snapshot
        if snapshot is not None and not snapshot.is_absolute() and not snapshot.exists():
            snapshot = root / "backups" / snapshot
        result: dict[str, object] = dict(backups.restore_snapshot(root, snapshot))
        text = f"Restored {result['restored']}; the previous database is kept as backups/{result['kept']}."
    else:
        with Library.open(root) as lib:
            if args.repair_command == "relink":
                changed = []
                if args.changed:
                    problems = lib.check().problems
                    changed = [p.sha256 for p in problems if p.kind == "changed_original"]
                result = repair.relink(lib, args.folder, changed)
                text = repair.relink_summary(result, args.changed)
            elif args.repair_command == "quarantine":
                result = repair.quarantine_orphans(lib)
                text = f"Moved {result['moved']} file(s) that belong to no photo to {result['folder']}."
            else:
                result = repair.rebuild_cache(lib)
                text = f"Rebuilt thumbnails and previews of {result['rebuilt']} photo(s)."
    _emit(args, result, text)
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "init": cmd_init,
    "demo": cmd_demo,
    "import": cmd_import,
    "list": cmd_list,
    "visit": cmd_visit,
    "rate": cmd_rate,
    "check": cmd_check,
    "export": cmd_export,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "repair": cmd_repair,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        from tracker.app import run_gui

        return run_gui(args.library)
    root = args.library if args.library is not None else default_library()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.captureWarnings(True)
    warnings.filterwarnings("ignore", module="PIL")
    try:
        return COMMANDS[args.command](args, root)
    except TrackerError as exc:
        print(f"tracker: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tracker: interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:
        log.debug("Unexpected error", exc_info=True)
        print(
            f"tracker: an unexpected error stopped the command ({type(exc).__name__}: {exc}). "
            "Please report it; the library was left consistent.",
            file=sys.stderr,
        )
        return EXIT_PROBLEMS
