"""The commands that read and change clients, visits, photos and ratings.

Each one opens the library, turns the names it was given into ids (``resolve``), calls the
same services and queries the window calls, and prints the result (``output``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tracker.cli import clinic_library, resolve, unlock
from tracker.cli.output import emit, say, table
from tracker.cli.parser import EXIT_OK, EXIT_PROBLEMS, parse_item_values
from tracker.core.db.engine import DB_NAME
from tracker.core.db.models import RaterRole, RatingMethod, VisitKind
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.errors import UsageError
from tracker.core.queries import listing, lookup
from tracker.core.queries import ratings as rating_rows
from tracker.core.services import erase, move, ratings, visits
from tracker.core.text import display_path, parse_id


def cmd_init(args: argparse.Namespace, root: Path) -> int:
    existed = (root / DB_NAME).exists()
    if args.encrypt:
        return unlock.init_encrypted(args, root)
    with unlock.open_library(args, root, create=True):
        pass
    emit(
        args,
        {"library": str(root), "created": not existed},
        f"{'Library already exists' if existed else 'Created a library'} at {root}",
    )
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, _root: Path) -> int:
    if clinic_library.is_address(args.dir):
        # start-up time: loaded for a sample made in a clinic library only
        from tracker.cli import into_server

        return into_server.demo_into(args, clinic_library.address(args.dir) or "")
    # start-up time: the sample's image making is loaded for this command only
    from tracker.core.demo.sample import create_demo

    summary = create_demo(Path(args.dir))
    emit(
        args,
        summary,
        f"Created a sample library at {summary['library']}: "
        f"{summary['visits']} visits, {summary['photos']} photos, {summary['ratings']} ratings.",
    )
    return EXIT_OK


def cmd_import(args: argparse.Namespace, root: Path) -> int:
    # start-up time: the import and its image decoders are loaded for this command only
    from tracker.core.services.import_report import cli_note
    from tracker.core.services.imports import import_files

    show_progress = not args.json and sys.stderr.isatty()

    def progress(done: int, total: int, _file: str) -> None:
        print(f"\rImporting {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

    with unlock.open_library(args, root, create=True) as lib:
        lib.require_writable()
        client = resolve.import_client(lib, args.client)
        area = resolve.import_area(lib, client, args.area)
        report = import_files(
            lib,
            args.files,
            area,
            view=args.view,
            date=args.date,
            kind=VisitKind(args.kind) if args.kind else None,
            progress=progress if show_progress else None,
        )
    lines = [
        f"Imported {len(report.imported)}, duplicates {len(report.duplicates)}, "
        f"rejected {len(report.rejected)}."
    ]
    lines += [
        f"  imported {display_path(i.file)} -> photo {i.photo_id} ({i.taken_at}, {i.width}x{i.height})"
        for i in report.imported
    ]
    lines += [f"  warning: {cli_note(i.file, n)}" for i in report.imported for n in i.notes]
    lines += [f"  warning: {w}" for w in report.capture_warnings]
    lines += [f"  duplicate {display_path(d.file)} = photo {d.photo_id}" for d in report.duplicates]
    lines += [f"  rejected: {r.error}" for r in report.rejected]
    emit(args, report.to_json(), "\n".join(lines))
    return EXIT_PROBLEMS if report.rejected else EXIT_OK


_LIST_COLUMNS = {
    "clients": ["id", "name"],
    "ratings": [
        "id",
        "client",
        "area",
        "date",
        "scale",
        "rater_role",
        "rater",
        "method",
        "summary",
    ],
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
    with unlock.open_library(args, root, allow_read_only=True) as lib:
        rows: list[dict[str, Any]]
        if args.kind == "clients":
            rows = listing.clients(lib)
        elif args.kind == "areas":
            rows = listing.areas(lib, resolve.optional_client(lib, args.client))
        elif args.kind == "visits":
            rows = listing.visits(lib, resolve.optional_client(lib, args.client))
        else:
            client_id = (
                resolve.client(lib, args.client)
                if args.client is not None or args.area is not None
                else None
            )
            area_id = (
                resolve.area(lib, client_id, args.area)
                if args.area is not None and client_id is not None
                else None
            )
            if args.kind == "ratings":
                rows = rating_rows.listing(lib, client_id, area_id)
            else:
                rows = listing.photos(lib, client_id, area_id)
        # A clinic login reading names, dates and kinds only: its fields are null, said once.
        withheld = listing.withheld(lib) if args.kind in listing.HIDDEN else None
    columns = _LIST_COLUMNS[args.kind]
    if withheld is None:
        emit(args, rows, table(rows, columns))
        return EXIT_OK
    shown = [c for c in columns if c not in listing.HIDDEN[args.kind]]
    emit(args, rows, f"{table(rows, shown)}\n{withheld}")
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
    ).given()
    with unlock.open_library(args, root, create=True) as lib:
        client_id = resolve.client(lib, args.client)
        area_id = resolve.area(lib, client_id, args.area) if args.area is not None else None
        result = visits.record_visit(
            lib,
            client_id,
            args.date,
            kind=VisitKind(args.kind) if args.kind else None,
            notes=args.notes,
            area_id=area_id,
            treatment=treatment,
        )
        client = lookup.client_name(lib, client_id)
    shown = {
        "id": result.visit_id,
        "client": client,
        "date": args.date.isoformat(),
        "kind": result.kind.value,
        "created": result.created,
        "treatment_record_id": result.treatment_record_id,
    }
    verb = "Added" if result.created else "Updated"
    emit(
        args,
        shown,
        f"{verb} the {shown['kind']} visit of {client} on {shown['date']} (visit {shown['id']}).",
    )
    return EXIT_OK


def cmd_rate(args: argparse.Namespace, root: Path) -> int:
    values = parse_item_values(args.values)
    with unlock.open_library(args, root) as lib:
        client_id = resolve.client(lib, args.client)
        area_id = resolve.area(lib, client_id, args.area)
        visit_id = resolve.visit(lib, client_id, args.date)
        change = ratings.rate(
            lib,
            visit_id,
            area_id,
            RaterRole(args.rater),
            dict(values),
            scale=args.scale,
            rater_name=args.rater_name,
            method=RatingMethod(args.method) if args.method else None,
        )
    result = {
        "id": change.rating_id,
        "client": change.client,
        "area": change.area,
        "visit_id": change.visit_id,
        "date": change.visit_date.isoformat(),
        "rater": change.role.value,
        "rater_name": change.rater_name,
        "scale": change.scale.key,
        "scale_version": change.scale.version,
        "method": change.method.value if change.method else None,
        "values": change.values,
    }
    shown = ", ".join(f"{k}={v:g}" for k, v in change.values.items())
    who = change.role.value + (f" {change.rater_name}" if change.rater_name else "")
    how = f", {change.method.value}" if change.method else ""
    emit(
        args,
        result,
        f"Rated {change.area} on {result['date']} ({change.scale.key}, {who}{how}): {shown}."
        if change.values
        else f"Removed the {change.scale.key} rating of {change.area} on {result['date']} ({who}).",
    )
    return EXIT_OK


def cmd_move(args: argparse.Namespace, root: Path) -> int:
    ids = resolve.photo_ids(args.photos)
    with unlock.open_library(args, root) as lib:
        area_id = None
        if args.area is not None:
            clients = lookup.photo_clients(lib, ids)
            if len(clients) != 1:
                raise UsageError(
                    "These photos are not all of one client; move them to an area one client "
                    "at a time."
                    if clients
                    else "None of these photos is in the library; 'tracker list photos' shows them."
                )
            area_id = resolve.area(lib, next(iter(clients)), args.area)
        done = move.move_photos(
            lib, ids, visit_id=args.visit, day=args.date, area_id=area_id, view=args.view
        )
        wanted = set(ids)
        rows = [p for p in listing.photos(lib) if p["id"] in wanted]
    moved = [
        {k: p[k] for k in ("id", "visit_id", "visit_date", "client", "area", "view")} for p in rows
    ]
    value = {"moved": moved, "made_visit": done.made_visit, "notes": list(done.notes)}
    lines = [f"Moved {len(moved)} photo{'s' if len(moved) != 1 else ''}."]
    lines += [
        f"  photo {p['id']} -> visit {p['visit_id']} ({p['visit_date']}), {p['area']}, {p['view']}"
        for p in moved
    ]
    if done.made_visit is not None:
        lines.append(f"  made visit {done.made_visit} for the new date")
    lines += list(done.notes)  # what became of the marks' regions drawn on a photo that left
    emit(args, value, "\n".join(lines))
    return EXIT_OK


_TARGETS = {
    "photo": erase.Target.PHOTO,
    "visit": erase.Target.VISIT,
    "area": erase.Target.AREA,
    "client": erase.Target.CLIENT,
}


def cmd_erase(args: argparse.Namespace, root: Path) -> int:
    target = _TARGETS[args.target]
    with unlock.open_library(args, root) as lib:
        lib.require_writable()
        if target in (erase.Target.PHOTO, erase.Target.VISIT):
            if args.client is not None:
                raise UsageError(f"A {args.target} is given by its id; --client is not needed.")
            try:
                ident = parse_id(args.which, f"a {args.target} id")
            except UsageError as exc:
                raise UsageError(f"{exc} 'tracker list {args.target}s' shows them.") from None
        elif target is erase.Target.AREA:
            ident = resolve.area(lib, resolve.client(lib, args.client), args.which)
        else:
            if args.client is not None:
                raise UsageError("Name the client to erase once, without --client.")
            ident = resolve.client(lib, args.which)
        plan = erase.plan(lib, target, ident)
        if not args.yes and not _confirmed(plan):
            return EXIT_PROBLEMS  # the person kept it
        done = erase.erase(lib, target, ident)
    value = {
        "erased": done.target.value,
        "id": done.ident,
        "clients": done.clients,
        "areas": done.areas,
        "visits": done.visits,
        "photos": done.photos,
        "ratings": done.ratings,
        "treatment_records": done.records,
        "snapshots": [str(p.resolve()) for p in done.snapshots],
        "archives": [str(p) for p in done.archives],
        "notes": list(done.notes),
    }
    text = "\n".join([f"Erased {done.what}: {done.summary()}.", *done.notes])
    note = done.backups_note()
    emit(args, value, text + (f"\n{note}" if note else ""))
    return EXIT_OK


def _confirmed(plan: erase.ErasePlan) -> bool:
    """Ask on the terminal; refuse (with the sentence) when there is no one to ask."""
    if not sys.stdin.isatty():
        raise UsageError(
            f"Erasing {plan.what} cannot be undone; say --yes to erase it without being asked "
            "(standard input is not a terminal, so there is no one to ask)."
        )
    say(f"This erases {plan.what} for good: {plan.summary()}.")
    note = plan.backups_note()
    if note:
        say(note)
    # The question goes to standard error, like the plan: standard output is the result's.
    sys.stderr.write("Type 'erase' to erase it, anything else to keep it: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if answer.strip().lower() != "erase":
        print("tracker: nothing was erased.", file=sys.stderr)
        return False
    return True
