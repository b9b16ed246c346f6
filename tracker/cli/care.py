"""The commands that look after the library as a whole (check, back up, restore, repair) and
write files from it (exports)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from tracker.cli import clinic_library, resolve, unlock
from tracker.cli.output import emit
from tracker.cli.parser import EXIT_OK, EXIT_PROBLEMS
from tracker.core.care import backups, repair, restore
from tracker.core.care.check import CheckReport, Problem, check_library
from tracker.core.compare.render import CompareOptions
from tracker.core.compare.render import export as export_compare
from tracker.core.domain.consent import Action
from tracker.core.errors import DatabaseDamaged, OriginalsDamaged, UsageError
from tracker.core.exports import ratings_csv
from tracker.core.services import audit, consent
from tracker.core.store.library import Library


def cmd_check(args: argparse.Namespace, root: Path) -> int:
    try:
        with unlock.open_library(args, root, allow_read_only=True) as lib:
            report = check_library(lib) if lib.server is None else _check_server(lib)
    except DatabaseDamaged as exc:
        # Damage is what a check is for: reported as a problem (exit 1), not refused.
        report = CheckReport(problems=[Problem("database", str(exc))])
    if report.ok:
        text = f"The library is in good order ({report.photos_checked} photos checked)."
    else:
        text = "\n".join(
            [f"{len(report.problems)} problem(s) found:"]
            + [f"  [{p.kind}] {p.detail}" for p in report.problems]
        )
    emit(args, report.to_json(), text)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _check_server(lib: Library) -> CheckReport:
    # start-up time: the server's modules are loaded for a server library only
    from tracker.core.care.server_check import check_server
    from tracker.core.store.server_library import ServerLibrary

    assert isinstance(lib, ServerLibrary)
    return check_server(lib)


def cmd_export(args: argparse.Namespace, root: Path) -> int:
    if args.export_command == "csv":
        with unlock.open_library(args, root, allow_read_only=True) as lib:
            named = args.client is not None or args.area is not None
            client_id = resolve.client(lib, args.client) if named else None
            area_id = (
                resolve.area(lib, client_id, args.area)
                if args.area is not None and client_id is not None
                else None
            )
            clients = consent.clients_with_records(lib, client_id)
            consent.require(lib, args.purpose, client_ids=clients, identifiable=True)
            result = ratings_csv.export(lib, args.out, client_id, area_id)
            for who in clients:
                audit.record_export(lib, Action.EXPORTED, args.purpose, args.out, client_id=who)
        emit(args, result, f"Wrote {result['rows']} rating rows to {result['file']}.")
        return EXIT_OK
    if args.export_command == "report":
        return _export_report(args, root)
    *raw_ids, out = args.items
    if not raw_ids:
        raise UsageError("Give the photo ids to compare, then the output file, e.g. 3 17 out.png.")
    ids = resolve.photo_ids(raw_ids)
    options = CompareOptions(
        mode=args.mode,
        aligned=args.aligned,
        labels=not args.no_labels,
        ratings=args.ratings and not args.no_labels,
        caption=args.caption,
        max_side=args.size,
    )
    with unlock.open_library(args, root, allow_read_only=True) as lib:
        # a comparison carries no name: a de-identified consent covers it
        consent.require(lib, args.purpose, photo_ids=ids, identifiable=False)
        result = export_compare(lib, ids, Path(out), options)
        for who, theirs in consent.clients_of_photos(lib, ids).items():
            audit.record_export(
                lib, Action.EXPORTED, args.purpose, Path(out), photo_ids=theirs, client_id=who
            )
    emit(args, result, f"Wrote {result['file']} ({result['width']} × {result['height']}).")
    return EXIT_OK


def _export_report(args: argparse.Namespace, root: Path) -> int:
    """The PDF needs Qt's painter and charts: an offscreen application, no window."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Loaded here, not at the top: Qt costs every other command a quarter of a second to start.
    from PySide6.QtWidgets import QApplication

    from tracker.rendering.report import export_report  # Qt too: see above

    app = QApplication.instance() or QApplication(["tracker"])
    with unlock.open_library(args, root, allow_read_only=True) as lib:
        client_id = resolve.client(lib, args.client)
        area_id = resolve.area(lib, client_id, args.area) if args.area is not None else None
        shown = consent.photos_of(lib, client_id, area_id)
        consent.require(
            lib,
            args.purpose,
            photo_ids=shown,
            client_ids=[client_id],
            identifiable=True,
            action=Action.PRINTED,
        )
        result = export_report(lib, args.out, client_id=client_id, area_id=area_id, page=args.page)
        audit.record_export(lib, Action.PRINTED, args.purpose, args.out, client_id=client_id)
    del app
    emit(args, result, f"Wrote {result['file']}.")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace, root: Path) -> int:
    with unlock.open_library(args, root, allow_read_only=True) as lib:
        try:
            if lib.server is None:
                result = backups.backup(lib, args.out, force=args.force)
            else:
                result = _backup_server(lib, args.out, force=args.force)
        except OriginalsDamaged as exc:
            remedy = (
                "repair it first ('tracker check' says how), or back up what is there with "
                "'tracker backup --force', which leaves those out"
            )
            raise OriginalsDamaged(backups.refusal(exc.damage, remedy), exc.damage) from None
        audit.record(lib, Action.BACKED_UP, detail=Path(result["file"]).name)
    text = f"Wrote {result['file']} ({result['files']} files, checksums in its manifest)."
    left_out = backups.left_out_summary(result["left_out"])
    emit(args, result, f"{text} {left_out}" if left_out else text)
    return EXIT_OK


def _backup_server(lib: Library, out: Path, *, force: bool) -> dict[str, Any]:
    # start-up time: the server's modules are loaded for a server library only
    from tracker.core.care.server_backup import backup_server
    from tracker.core.store.server_library import ServerLibrary

    assert isinstance(lib, ServerLibrary)
    return backup_server(lib, out, force=force)


def cmd_restore(args: argparse.Namespace, _root: Path) -> int:
    if clinic_library.is_address(args.dest):
        # start-up time: loaded for a restore into a clinic library only
        from tracker.cli import into_server

        return into_server.restore_into(args, clinic_library.address(args.dest) or "")
    if args.allow_unencrypted:
        raise UsageError("--allow-unencrypted is for a restore into a clinic library's address.")
    dest = Path(args.dest)
    result = restore.restore(
        args.archive, dest, unlock=lambda folder: unlock.keys_for_folder(args, folder)
    )
    text = (
        f"Restored a library at {result['library']}: {result['photos']} photos, every file checked."
    )
    missing = len(result["left_out"])
    if missing:  # a forced backup could not hold them: say so, as check will
        text += (
            f" {missing} photo{'s' if missing != 1 else ''} came back without {'their' if missing != 1 else 'its'} "
            "original (the backup was forced and left them out); 'tracker check' lists them."
        )
    trail = result.get("audit", [])
    if trail:  # the backup's anchor says its trail was cut before it was made
        text += " Its audit trail does not hold: " + " ".join(trail)
    emit(args, result, text)
    return EXIT_OK if not trail else EXIT_PROBLEMS


def cmd_repair(args: argparse.Namespace, root: Path) -> int:
    if clinic_library.is_served(args):
        return _repair_server(args)
    if args.repair_command == "restore-snapshot":
        snapshot = args.snapshot
        if snapshot is not None and not snapshot.is_absolute() and not snapshot.exists():
            snapshot = root / "backups" / snapshot
        keys = unlock.keys_for(args, root)
        key = None if keys is None else keys.database_key()
        result: dict[str, object] = dict(repair.restore_snapshot(root, snapshot, key))
        kept = (
            f"the previous database is kept as backups/{result['kept']}"
            if result["kept"]
            else "there was no database to keep"
        )
        text = f"Restored {result['restored']}; {kept}."
    else:
        with unlock.open_library(args, root) as lib:
            if args.repair_command == "relink":
                changed = []
                if args.changed:
                    problems = check_library(lib).problems
                    changed = [p.sha256 for p in problems if p.kind == "changed_original"]
                result = repair.relink(lib, args.folder, changed)
                text = repair.relink_summary(result, args.changed)
            elif args.repair_command == "quarantine":
                result = repair.quarantine_orphans(lib)
                text = f"Moved {result['moved']} file(s) that belong to no photo to {result['folder']}."
            else:
                result = repair.rebuild_cache(lib)
                text = f"Rebuilt thumbnails and previews of {result['rebuilt']} photo(s)."
    emit(args, result, text)
    return EXIT_OK


def _repair_server(args: argparse.Namespace) -> int:
    """``repair`` of a clinic library (``core.care.server_repair``): a snapshot is refused
    before anything is opened."""
    # start-up time: the server's modules are loaded for a server library only
    from tracker.core.care import server_repair
    from tracker.core.care.server_check import check_server

    if args.repair_command == "restore-snapshot":
        raise UsageError(server_repair.snapshot_refusal(clinic_library.shown(args.server_url)))
    lib = clinic_library.open_server(args)
    try:
        if args.repair_command == "relink":
            changed = []
            if args.changed:
                kinds = ("changed_original", "changed_form")
                changed = [p.sha256 for p in check_server(lib).problems if p.kind in kinds]
            result = server_repair.relink(lib, args.folder, changed)
            text = server_repair.relink_summary(result, args.changed)
        elif args.repair_command == "quarantine":
            result = server_repair.quarantine_orphans(lib)
            text = server_repair.quarantine_summary(result)
        else:
            result = server_repair.rebuild_cache(lib)
            text = server_repair.rebuild_summary(
                result, "'tracker check'", "'tracker repair rebuild-cache'"
            )
    finally:
        lib.close()
    emit(args, result, text)
    return EXIT_OK
