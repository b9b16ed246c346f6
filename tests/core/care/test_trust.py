"""The library's promises: one writer, read-only access, damage found and never silently fixed,
repairs that delete nothing, backups proven by restoring them, and hostile text kept exactly."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest
from PIL import Image

from tests import helpers as h
from tests.conftest import REPO, run_cli
from tracker.core.care import backups, repair, restore
from tracker.core.db import engine as db_engine
from tracker.core.db import snapshots
from tracker.core.db.engine import DB_NAME
from tracker.core.db.models import RaterRole, VisitKind
from tracker.core.errors import (
    DatabaseBusy,
    DatabaseDamaged,
    DiskFull,
    LibraryError,
    LibraryLocked,
    ReadOnlyLibrary,
    StorageError,
    UsageError,
)
from tracker.core.queries import browse, listing
from tracker.core.services import clients, visits
from tracker.core.store import library as library_module
from tracker.core.store.library import Library

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

HOSTILE = "Robert'); DROP TABLE client;-- <b>&amp;</b> \u202eevil\u202c \u05e9\u05dc\u05d5\u05dd 😀"


def _photos(folder: Path, n: int) -> list[Path]:
    folder.mkdir(exist_ok=True)
    out = []
    for i in range(n):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2025:0{1 + i}:10 10:00:00"
        path = folder / f"p{i}.jpg"
        Image.effect_noise((160, 120), 20 + 7 * i).convert("RGB").save(path, exif=exif)
        out.append(path)
    return out


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    with Library.open(root, create=True) as lib:
        h.import_files(lib, _photos(tmp_path / "in", 3), area="Hips")
        h.rate(
            lib,
            client=None,
            area="Hips",
            day=dt.date(2025, 1, 10),
            role=RaterRole.PATIENT,
            values={"colour": 6},
        )
    return root


# -- one writer ----------------------------------------------------------------------------------


def test_a_second_writer_is_refused_with_the_owner_named(filled: Path) -> None:
    with Library.open(filled):
        with pytest.raises(
            LibraryLocked, match=r"open in another copy of the app \(process \d+ on "
        ):
            Library.open(filled)
        # Reading is still possible, and says why it is read-only.
        with Library.open(filled, allow_read_only=True) as reader:
            assert reader.read_only is not None and "another copy" in reader.read_only
            assert len(h.list_photos(reader)) == 3
            with pytest.raises(ReadOnlyLibrary, match="Nothing can be changed"):
                h.add_visit(reader, client=None, day=dt.date(2025, 6, 1))
            with pytest.raises(ReadOnlyLibrary, match="Nothing can be changed"):
                h.import_files(reader, [], area="Hips")
    with Library.open(filled):  # released on close
        pass


def test_the_command_line_reads_while_the_window_writes(filled: Path) -> None:
    with Library.open(filled):
        assert run_cli("--library", str(filled), "list", "photos").returncode == 0
        assert run_cli("--library", str(filled), "check").returncode == 0
        result = run_cli("--library", str(filled), "visit", "add", "--date", "2025-06-01")
        assert result.returncode == 2 and "open in another copy of the app" in result.stderr


def test_a_lock_left_by_a_killed_process_is_taken_over(filled: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from tracker.core.store.library import Library; "
            f"lib = Library.open({str(filled)!r}); print('held', flush=True); time.sleep(60)",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(LibraryError, match=f"process {holder.pid} on"):
        Library.open(filled)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    with Library.open(filled) as lib:  # the dead process's lock is gone with it
        assert lib.read_only is None


def test_a_read_only_folder_opens_for_reading_or_is_refused(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests may run as root, who can write anywhere: simulate the missing permission.
    monkeypatch.setattr(library_module, "_writable", lambda root, db: False)
    with pytest.raises(LibraryError, match="cannot be written to"):
        Library.open(filled)
    with Library.open(filled, allow_read_only=True) as lib:
        assert "cannot be written to" in (lib.read_only or "")
        assert listing.counts(lib)["photos"] == 3
        assert h.check(lib).ok


# -- damage -------------------------------------------------------------------------------------


def _damage_database(root: Path) -> None:
    data = bytearray((root / DB_NAME).read_bytes())
    for offset in range(4096, len(data), 4096):  # wreck every page after the first
        data[offset + 8 : offset + 200] = os.urandom(192)
    (root / DB_NAME).write_bytes(bytes(data))


def test_a_damaged_database_is_refused_naming_the_snapshot_and_can_be_restored(
    filled: Path,
) -> None:
    with Library.open(filled) as lib:
        photos = listing.counts(lib)["photos"]
    snapshot = snapshots.newest_snapshot(filled / "backups")
    assert snapshot is not None  # made when it was opened again
    _damage_database(filled)
    with pytest.raises(DatabaseDamaged, match=f"is damaged.*{snapshot.name}.*restore-snapshot"):
        Library.open(filled)
    result = run_cli("--library", str(filled), "repair", "restore-snapshot")
    assert result.returncode == 0, result.stderr
    with Library.open(filled) as lib:
        assert listing.counts(lib)["photos"] == photos and h.check(lib).ok
    assert list((filled / "backups").glob("damaged-*.sqlite3"))  # the damaged file is kept


def test_check_reports_and_repairs_delete_nothing(filled: Path, tmp_path: Path) -> None:
    with Library.open(filled) as lib:
        rows = h.list_photos(lib)
        missing = filled / lib.store.original_relpath(rows[0]["sha256"], "jpg")
        keep = tmp_path / "elsewhere"
        keep.mkdir()
        shutil.copy(missing, keep / "renamed.jpg")
        os.chmod(missing, 0o600)
        missing.unlink()
        stray = filled / "originals" / "ab" / ("ab" + "0" * 62 + ".jpg")
        stray.parent.mkdir(exist_ok=True)
        stray.write_bytes(b"not ours")
        shutil.rmtree(filled / "cache")
        kinds = sorted(p.kind for p in h.check(lib).problems)
        assert kinds == ["missing_original", "orphan_file"]
        result = repair.relink(lib, keep)
        assert (result["relinked"], result["still_missing"], result["replaced"]) == (1, 0, 0)
        moved = repair.quarantine_orphans(lib)
        assert (
            moved["moved"] == 1
            and Path(str(moved["folder"]), "originals/ab", stray.name).read_bytes() == b"not ours"
        )
        assert repair.rebuild_cache(lib) == {"rebuilt": 3, "failed": 0}
        assert h.check(lib).ok
        assert (keep / "renamed.jpg").exists()  # the source of a relink is copied, not moved


def test_a_changed_original_is_put_back_from_a_folder_and_the_changed_file_kept(
    filled: Path, tmp_path: Path
) -> None:
    with Library.open(filled) as lib:
        rows = h.list_photos(lib)
        good, other = rows[0]["sha256"], rows[1]["sha256"]
        path = filled / lib.store.original_relpath(good, "jpg")
        keep = tmp_path / "phone export"
        keep.mkdir()
        shutil.copy(path, keep / "IMG_0001.jpg")
        as_imported = path.read_bytes()
        os.chmod(path, 0o600)
        path.write_bytes(as_imported[:-200] + b"\0" * 200)  # bit rot at the end of the file
        problems = h.check(lib).problems
        assert [(p.kind, p.sha256) for p in problems] == [("changed_original", good)]
        assert "relink it from a folder" in problems[0].detail
        # The intact photo named too is left alone; the changed one is replaced, and kept.
        result = repair.relink(lib, keep, [good, other])
        assert (result["replaced"], result["still_changed"], result["relinked"]) == (1, 0, 0)
        assert path.read_bytes() == as_imported
        kept = Path(str(result["quarantine"])) / lib.store.original_relpath(good, "jpg")
        assert kept.read_bytes().endswith(b"\0" * 200)
        assert h.check(lib).ok  # quarantine/ is outside what a check looks at


def test_relink_makes_the_pictures_of_a_put_back_original_again(
    filled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A preview made from the changed file must not outlive it; and a drive without hard
    links gets a copy in quarantine instead."""
    with Library.open(filled) as lib:
        sha = h.list_photos(lib)[0]["sha256"]
        path = filled / lib.store.original_relpath(sha, "jpg")
        keep = tmp_path / "keep"
        keep.mkdir()
        shutil.copy(path, keep / "copy.jpg")
        good_thumb = lib.derived("thumbs", sha)
        os.chmod(path, 0o600)
        red = tmp_path / "red.jpg"
        Image.new("RGB", (160, 120), (250, 0, 0)).save(red)
        path.write_bytes(red.read_bytes())
        shutil.rmtree(filled / "cache")
        lib.derived("previews", sha)  # a first view of the changed file, cached
        with Image.open(io.BytesIO(lib.derived("thumbs", sha))) as shown:
            assert cast(tuple[int, ...], shown.getpixel((80, 60)))[0] > 200  # red

        def no_links(*_args: object) -> None:
            raise OSError(1, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_links)
        result = repair.relink(lib, keep, [sha])
        assert result["replaced"] == 1
        kept = Path(str(result["quarantine"])) / lib.store.original_relpath(sha, "jpg")
        assert kept.read_bytes() == red.read_bytes()  # copied, since it could not be linked
        assert lib.derived("thumbs", sha) == good_thumb  # made again from the good original


def test_relink_changed_on_the_command_line(filled: Path, tmp_path: Path) -> None:
    with Library.open(filled) as lib:
        path = filled / lib.store.original_relpath(h.list_photos(lib)[0]["sha256"], "jpg")
    keep = tmp_path / "keep"
    keep.mkdir()
    shutil.copy(path, keep / "copy.jpg")
    os.chmod(path, 0o600)
    path.write_bytes(b"\xff\xd8" + b"x" * 100)
    plain = run_cli("--library", str(filled), "repair", "relink", str(keep))
    assert plain.returncode == 0 and "Relinked 0 missing" in plain.stdout
    assert path.read_bytes().startswith(b"\xff\xd8x")  # without --changed, left alone
    fixed = run_cli("--library", str(filled), "repair", "relink", "--changed", str(keep))
    assert fixed.returncode == 0, fixed.stderr
    assert "Put back 1 changed original(s); 0 still changed." in fixed.stdout
    assert path.read_bytes() == (keep / "copy.jpg").read_bytes()
    assert run_cli("--library", str(filled), "check").returncode == 0


def test_a_changed_original_with_no_copy_in_the_folder_is_left_as_it_is(
    filled: Path, tmp_path: Path
) -> None:
    with Library.open(filled) as lib:
        sha = h.list_photos(lib)[0]["sha256"]
        path = filled / lib.store.original_relpath(sha, "jpg")
        os.chmod(path, 0o600)
        path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
        empty = tmp_path / "empty"
        empty.mkdir()
        result = repair.relink(lib, empty, [sha])
        assert (result["replaced"], result["still_changed"], result["quarantine"]) == (0, 1, "")
        assert path.read_bytes().endswith(b"0123456789")
        assert not (filled / "quarantine").exists()


# -- backups ------------------------------------------------------------------------------------


def test_backup_and_restore_round_trip_with_hostile_text(filled: Path, tmp_path: Path) -> None:
    with Library.open(filled) as lib:
        me = browse.clients(lib)[0].id
        clients.update_client(lib, me, name=HOSTILE)
        big_notes = ("x\u202e<script>\0'; -- " * 70_000)[:1_000_000]
        visit = visits.add_visit(lib, me, dt.date(2025, 5, 1), VisitKind.CHECK_IN, big_notes)
        out = tmp_path / "backup.zip"
        result = backups.backup(lib, out)
        assert result["files"] == 4  # the database and three originals
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for entry in manifest["files"]:
            assert hashlib.sha256(zf.read(entry["path"])).hexdigest() == entry["sha256"]
    restored = restore.restore(out, tmp_path / "restored")
    assert restored["photos"] == 3
    with Library.open(tmp_path / "restored") as lib:
        assert browse.clients(lib)[0].name == HOSTILE
        assert browse.visit_detail(lib, visit).notes == big_notes
        assert h.check(lib).ok
    assert stat_mode(tmp_path / "restored") == 0o700


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.parametrize("damage", ["truncate", "flip", "extra", "traversal", "no-manifest"])
def test_a_damaged_archive_is_refused_and_leaves_nothing(
    filled: Path, tmp_path: Path, damage: str
) -> None:
    with Library.open(filled) as lib:
        out = tmp_path / "backup.zip"
        backups.backup(lib, out)
    data = out.read_bytes()
    bad = tmp_path / "bad.zip"
    if damage == "truncate":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        with zipfile.ZipFile(out) as src, zipfile.ZipFile(bad, "w") as dst:
            for item in src.infolist():
                content = src.read(item)
                if item.filename.startswith("originals/"):
                    content = content[:-10] + b"0123456789"
                dst.writestr(item, content)
    else:
        with zipfile.ZipFile(out) as src, zipfile.ZipFile(bad, "w") as dst:
            # Read before copying: writestr() rewrites the offsets of the infos it is given.
            manifest = json.loads(src.read("manifest.json"))
            for item in src.infolist():
                if damage in ("no-manifest", "traversal") and item.filename == "manifest.json":
                    continue
                dst.writestr(item, src.read(item))
            if damage == "extra":
                dst.writestr("originals/zz/evil.jpg", b"x")
            if damage == "traversal":
                manifest["files"].append({"path": "../escape.txt", "sha256": "0" * 64, "size": 1})
                dst.writestr("../escape.txt", b"x")
                dst.writestr("manifest.json", json.dumps(manifest))  # lists the escaping file too
    dest = tmp_path / "restored"
    with pytest.raises(LibraryError) as caught:
        restore.restore(bad, dest)
    assert str(caught.value).endswith(".") and "bad.zip" in str(caught.value)
    assert not dest.exists()
    assert not any(p.name.startswith(".restored") for p in tmp_path.iterdir())
    assert not (tmp_path.parent / "escape.txt").exists()


def test_restore_refuses_a_folder_that_is_not_empty(filled: Path, tmp_path: Path) -> None:
    with Library.open(filled) as lib:
        backups.backup(lib, tmp_path / "b.zip")
    with pytest.raises(UsageError, match="not empty"):
        restore.restore(tmp_path / "b.zip", filled)


def test_backup_and_restore_from_the_command_line(filled: Path, tmp_path: Path) -> None:
    result = run_cli("--library", str(filled), "backup", str(tmp_path / "b.zip"), "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["files"] == 4
    result = run_cli("restore", str(tmp_path / "b.zip"), str(tmp_path / "again"), "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["photos"] == 3
    result = run_cli("restore", str(tmp_path / "missing.zip"), str(tmp_path / "x"))
    assert result.returncode == 2 and "There is no backup archive" in result.stderr


def test_rolling_snapshots_keep_the_last_ten(filled: Path) -> None:
    folder = filled / "backups"
    start = dt.datetime(2025, 1, 1)
    for day in range(14):
        snapshots.rolling_snapshot(filled / DB_NAME, folder, now=start + dt.timedelta(days=day))
        for p in folder.glob("library-*-auto.sqlite3"):  # make file times follow the fake clock
            stamp = dt.datetime.strptime(p.name.split("-auto")[0][8:], "%Y%m%d-%H%M%S").timestamp()
            os.utime(p, (stamp, stamp))
    autos = sorted(folder.glob("library-2025*-auto.sqlite3"))
    assert len(autos) == 10 and autos[-1].name.startswith("library-20250114")


# -- privacy ------------------------------------------------------------------------------------


def test_no_network_connection_is_ever_opened(tmp_path: Path) -> None:
    """Import, export and report under an audit hook that fails on any socket use."""
    script = f"""
import sys
def hook(event, args):
    if event.startswith("socket.") :
        raise SystemExit("network use: " + event)
sys.addaudithook(hook)
import os
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from tracker.cli import main
lib = {str(tmp_path / "lib")!r}
assert main(["--library", lib, "demo", lib + "-demo"]) == 0
assert main(["--library", lib + "-demo", "consent", "add", "care"]) == 0
assert main(["--library", lib + "-demo", "export", "compare", "1", "6", {str(tmp_path / "c.jpg")!r}]) == 0
assert main(["--library", lib + "-demo", "export", "csv", {str(tmp_path / "r.csv")!r}]) == 0
assert main(["--library", lib + "-demo", "export", "report", {str(tmp_path / "r.pdf")!r}]) == 0
assert main(["--library", lib + "-demo", "backup", {str(tmp_path / "b.zip")!r}]) == 0
assert "PySide6.QtNetwork" not in sys.modules
print("clean")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("clean")


def test_logs_name_no_notes_or_photo_contents(
    filled: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with Library.open(filled) as lib:
        visits.add_visit(
            lib,
            browse.clients(lib)[0].id,
            dt.date(2025, 7, 1),
            VisitKind.CHECK_IN,
            "PRIVATE-NOTE-42",
        )
        h.import_files(lib, _photos(tmp_path / "more", 1), area="Hips")
    assert "PRIVATE-NOTE-42" not in caplog.text


def test_hostile_names_round_trip_through_csv_and_pdf(
    qapp: QApplication, filled: Path, tmp_path: Path
) -> None:
    import csv
    import io

    import pypdf

    from tracker.core.exports import ratings_csv as export_csv
    from tracker.rendering.report import export_report

    with Library.open(filled) as lib:
        me = browse.clients(lib)[0].id
        clients.update_client(lib, me, name=HOSTILE)
        area = browse.areas(lib, me)[0].id
        clients.update_area(lib, area, name="=cmd|' /C calc'!A0 <i>x</i>")
        export_csv.export(lib, tmp_path / "r.csv")
        export_report(lib, tmp_path / "r.pdf", client_id=me)
        with pytest.raises(Exception, match="200"):
            clients.update_client(lib, me, name="x" * 1_000_000)
    row = next(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text("utf-8"))))
    assert row["client"] == HOSTILE
    assert row["area"] == "'=cmd|' /C calc'!A0 <i>x</i>"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(str(tmp_path / "r.pdf")).pages)
    flat = "".join(text.split())
    assert "Robert');DROPTABLEclient;--<b>&amp;</b>" in flat
    assert "=cmd|'/Ccalc'!A0<i>x</i>" in flat


def test_a_check_without_rehash_still_finds_missing_files(filled: Path) -> None:
    with Library.open(filled) as lib:
        photo = h.list_photos(lib)[0]
        path = filled / lib.store.original_relpath(photo["sha256"], "jpg")
        os.chmod(path, 0o600)
        path.write_bytes(b"changed")  # a changed file goes unseen without rehashing...
        assert h.check(lib, rehash=False).ok
        assert [p.kind for p in h.check(lib).problems] == ["changed_original"]
        path.unlink()  # ...but a missing one does not
        assert [p.kind for p in h.check(lib, rehash=False).problems] == ["missing_original"]


# -- what a review found (each reproduced before it was fixed) ---------------------------------


def test_restoring_a_snapshot_is_refused_while_the_library_is_open(filled: Path) -> None:
    """The window would go on writing to the database moved aside: its changes would be lost."""
    with Library.open(filled):
        assert snapshots.newest_snapshot(filled / "backups") is not None
        with pytest.raises(LibraryLocked):
            repair.restore_snapshot(filled)
        result = run_cli("--library", str(filled), "repair", "restore-snapshot")
        assert result.returncode == 2 and "open in another copy" in result.stderr
    assert not list((filled / "backups").glob("damaged-*"))  # nothing was moved


def test_a_snapshot_restore_cut_short_leaves_the_library_as_it_was(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Library.open(filled):  # opened again, it makes a snapshot
        pass
    before = (filled / DB_NAME).read_bytes()

    def full(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", full)
    with pytest.raises(DiskFull):
        repair.restore_snapshot(filled)
    monkeypatch.undo()
    assert (filled / DB_NAME).read_bytes() == before
    assert not list(filled.glob(".*.part"))
    with Library.open(filled) as lib:
        assert listing.counts(lib)["photos"] == 3


def test_a_library_whose_database_is_gone_is_not_made_again_over_its_photos(
    filled: Path,
) -> None:
    """A new, empty database would orphan every photo: it is reported as damage instead,
    with the newest snapshot to restore."""
    with Library.open(filled):  # opened again, it makes a snapshot
        pass
    (filled / DB_NAME).unlink()
    with pytest.raises(DatabaseDamaged, match="database file is missing") as caught:
        Library.open(filled, create=True)
    assert caught.value.snapshot is not None
    assert not (filled / DB_NAME).exists()
    repair.restore_snapshot(filled)
    with Library.open(filled) as lib:
        assert listing.counts(lib)["photos"] == 3 and h.check(lib).ok


def test_a_busy_database_is_busy_not_damaged(filled: Path) -> None:
    holder = sqlite3.connect(filled / DB_NAME)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code = db_engine.sqlite_code
        with pytest.raises(DatabaseBusy):
            db_engine.read_revision(filled / DB_NAME)
        assert code(sqlite3.OperationalError()) is None  # no code: not SQLite's verdict
    finally:
        holder.rollback()
        holder.close()


def test_a_failure_after_the_lock_is_taken_releases_it(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(_store: object) -> None:
        raise StorageError("The library's folders cannot be made (a test).")

    # A tmp/ found as a file is put aside and made again now, so the failure is made up.
    monkeypatch.setattr("tracker.core.store.photos.PhotoStore.ensure_folders", fail)
    with pytest.raises(StorageError):
        Library.open(filled)
    monkeypatch.undo()
    with Library.open(filled) as lib:  # not "open in another copy" (this very process)
        assert lib.read_only is None
