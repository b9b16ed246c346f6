"""Repairs that never destroy: putting a snapshot back is refused for the library's own files,
holds the writer lock, and cut short at any step leaves a library; a folder whose database is
lost is a damaged library, never a new one; leftovers are cleaned or reported; a check beside
an import reports no damage that is only work in flight."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import helpers as h
from tests.conftest import REPO, run_cli
from tests.core.care.test_backup_consistency import jpegs, original
from tracker.core.care import check as check_module
from tracker.core.care import repair
from tracker.core.db import snapshots
from tracker.core.db.engine import DB_NAME
from tracker.core.domain.consent import Action
from tracker.core.errors import DatabaseDamaged, LibraryLocked, UsageError
from tracker.core.queries import listing
from tracker.core.services import audit
from tracker.core.store import library as library_module
from tracker.core.store.library import Library
from tracker.core.store.lock import in_use
from tracker.core.store.photos import StoredOriginal


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A library of four photos with a snapshot of its database in backups/."""
    lib_root = tmp_path / "lib"
    with Library.open(lib_root, create=True) as lib:
        h.import_files(lib, jpegs(tmp_path / "in", 4, seed=11), area="Hips")
    with Library.open(lib_root):  # opened again: the day's snapshot
        pass
    assert snapshots.newest_snapshot(lib_root / "backups") is not None
    return lib_root


def visits(root: Path) -> int:
    with Library.open(root) as lib:
        return listing.counts(lib)["visits"]


# -- restore-snapshot: never the library's own files ---------------------------------------------


def test_the_live_database_is_refused_as_a_snapshot(root: Path, tmp_path: Path) -> None:
    before = (root / DB_NAME).read_bytes()
    os.link(root / DB_NAME, tmp_path / "hard-link.sqlite3")
    for given in (root / DB_NAME, tmp_path / "hard-link.sqlite3"):
        with pytest.raises(UsageError, match="is the library's own database, not a snapshot"):
            repair.restore_snapshot(root, given)
    result = run_cli("--library", str(root), "repair", "restore-snapshot", str(root / DB_NAME))
    assert result.returncode == 2 and "own database" in result.stderr
    assert (root / DB_NAME).read_bytes() == before
    assert not list((root / "backups").glob("damaged-*"))


def test_other_files_of_the_library_are_refused_as_snapshots(root: Path) -> None:
    snapshot = snapshots.newest_snapshot(root / "backups")
    assert snapshot is not None
    before = (root / DB_NAME).read_bytes()
    for where in ("quarantine/x.sqlite3", "tmp/x.sqlite3", "originals/x.sqlite3"):
        (root / where).parent.mkdir(exist_ok=True)
        shutil.copy(snapshot, root / where)
        with pytest.raises(UsageError, match="is a file of the library, not a database snapshot"):
            repair.restore_snapshot(root, root / where)
    with pytest.raises(UsageError, match="not a database snapshot"):
        repair.restore_snapshot(root, root / "lock")
    assert (root / DB_NAME).read_bytes() == before


def test_a_snapshot_outside_the_library_can_be_put_back(root: Path, tmp_path: Path) -> None:
    snapshot = snapshots.newest_snapshot(root / "backups")
    assert snapshot is not None
    shutil.copy(snapshot, tmp_path / "copy.sqlite3")
    h_visit(root, dt.date(2026, 3, 1))
    assert visits(root) == 5
    assert repair.restore_snapshot(root, tmp_path / "copy.sqlite3")["restored"] == "copy.sqlite3"
    assert visits(root) == 4


def test_a_snapshot_put_back_is_not_reported_as_a_cut_audit_trail(
    root: Path, tmp_path: Path
) -> None:
    snapshot = snapshots.newest_snapshot(root / "backups")
    assert snapshot is not None
    shutil.copy(snapshot, tmp_path / "copy.sqlite3")
    with Library.open(root) as lib:
        audit.record(lib, Action.OPENED)  # the anchor now names an entry the copy lacks
        audit.record(lib, Action.OPENED)
    repair.restore_snapshot(root, tmp_path / "copy.sqlite3")
    with Library.open(root) as lib:
        assert check_module.check_library(lib).ok  # put back on purpose: not a cut
        audit.record(lib, Action.OPENED)
        assert audit.verify(lib) == []  # anchored again from the copy's trail


def h_visit(root: Path, day: dt.date) -> None:
    with Library.open(root) as lib:
        h.add_visit(lib, day=day)


def test_every_repair_is_refused_while_another_program_holds_the_library(
    root: Path, tmp_path: Path
) -> None:
    with Library.open(root):
        for args in (
            ("relink", str(tmp_path)),
            ("quarantine",),
            ("rebuild-cache",),
            ("restore-snapshot",),
        ):
            result = run_cli("--library", str(root), "repair", *args)
            assert result.returncode == 2, args
            assert "is open in another copy of the app (process" in result.stderr, args
        with pytest.raises(LibraryLocked):
            repair.restore_snapshot(root)
    assert not list((root / "backups").glob("damaged-*"))


# -- restore-snapshot: crash-safe ----------------------------------------------------------------

KILL_AT = """
import os, shutil, sys
from tracker.cli import main
limit, calls = int(sys.argv[2]), [0]

def counted(fn):
    def step(*args, **kwargs):
        calls[0] += 1
        if calls[0] == limit:
            os._exit(137)  # as SIGKILL: nothing is tidied up
        return fn(*args, **kwargs)
    return step

for name in ("open", "replace", "rename", "unlink", "link", "fsync", "chmod"):
    setattr(os, name, counted(getattr(os, name)))
shutil.copyfile = counted(shutil.copyfile)
sys.exit(main(["--library", sys.argv[1], "repair", "restore-snapshot"]))
"""


@pytest.fixture
def with_a_log(root: Path, tmp_path: Path) -> Iterator[Path]:
    """The library with a change since its snapshot still in its write-ahead log (a writer is
    holding the database open when the folder is copied): restoring must neither lose the log
    (until the snapshot is in) nor apply it to the snapshot."""
    h_visit(root, dt.date(2026, 3, 1))
    holder = sqlite3.connect(root / DB_NAME)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("UPDATE visit SET notes = 'kept in the log' WHERE date = '2026-03-01'")
    holder.commit()
    template = tmp_path / "template"
    shutil.copytree(root, template)
    holder.close()
    assert (template / f"{DB_NAME}-wal").stat().st_size > 0
    yield template


SNAPSHOT = [""] * 4  # the four visits the photos made
BEFORE = [*SNAPSHOT, "kept in the log"]  # and the one made since, its note only in the log


def _notes(root: Path) -> list[str | None]:
    conn = sqlite3.connect(f"{(root / DB_NAME).as_uri()}?mode=ro", uri=True)
    try:
        return [r[0] for r in conn.execute("SELECT notes FROM visit ORDER BY date")]
    finally:
        conn.close()


def test_a_snapshot_restore_killed_at_any_step_leaves_a_library(
    with_a_log: Path, tmp_path: Path
) -> None:
    """Killed at each of its file operations in turn: the library opens, as it was (with what
    its log held) or as the snapshot, and is in good order; never without a database."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    outcomes = []
    for step in range(1, 60):
        lib_root = tmp_path / f"k{step}"
        shutil.copytree(with_a_log, lib_root)
        proc = subprocess.run(
            [sys.executable, "-c", KILL_AT, str(lib_root), str(step)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode in (0, 137), proc.stderr
        assert (lib_root / DB_NAME).stat().st_size > 0, f"no database after a kill at {step}"
        with Library.open(lib_root) as lib:
            report = h.check(lib)
            assert report.ok, (step, report.problems)
        notes = _notes(lib_root)
        assert notes in (SNAPSHOT, BEFORE), (step, notes)
        outcomes.append((proc.returncode, notes == BEFORE))
        if proc.returncode == 0:
            break
    assert outcomes[-1] == (0, False), "the restore never finished"
    killed = [before for code, before in outcomes if code == 137]
    assert len(killed) >= 5 and killed[0], outcomes
    # What was replaced is kept with its log, and still holds the change the log held.
    (kept,) = (tmp_path / f"k{len(outcomes)}" / "backups").glob("damaged-*.sqlite3")
    assert _notes_of(kept) == BEFORE
    assert kept.stat().st_mode & 0o777 == 0o600


def _notes_of(db: Path) -> list[str | None]:
    conn = sqlite3.connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT notes FROM visit ORDER BY date")]
    finally:
        conn.close()


def test_a_stale_log_beside_a_lost_database_is_not_applied_to_the_snapshot(
    with_a_log: Path,
) -> None:
    (with_a_log / DB_NAME).unlink()  # the database is gone; its log is still there
    with pytest.raises(DatabaseDamaged, match="database file is missing"):
        Library.open(with_a_log, create=True)
    result = repair.restore_snapshot(with_a_log)
    assert result["kept"] == ""
    assert _notes(with_a_log) == SNAPSHOT
    with Library.open(with_a_log) as lib:
        assert h.check(lib).ok and listing.counts(lib)["photos"] == 4


# -- a lost database is a damaged library ---------------------------------------------------------


@pytest.mark.parametrize("loss", ["emptied", "deleted"])
def test_a_lost_database_is_never_made_again_over_a_library(root: Path, loss: str) -> None:
    db = root / DB_NAME
    if loss == "emptied":
        db.write_bytes(b"")
    else:
        db.unlink()
    state = "empty (0 bytes)" if loss == "emptied" else "missing"
    snapshot = snapshots.newest_snapshot(root / "backups")
    assert snapshot is not None
    with pytest.raises(DatabaseDamaged) as caught:
        Library.open(root, create=True)
    message = str(caught.value)
    assert f"holds photos, but its database file is {state}" in message
    assert f"{snapshot.name} (made 20" in message and "'tracker repair restore-snapshot'" in message
    assert caught.value.snapshot == snapshot and caught.value.root == root
    for args in (("init",), ("visit", "add", "--date", "2026-04-01"), ("list", "clients")):
        result = run_cli("--library", str(root), *args)
        assert result.returncode == 2 and state in result.stderr, args
    checked = run_cli("--library", str(root), "check")
    assert checked.returncode == 1 and "[database]" in checked.stdout
    assert "There is no library" not in checked.stdout + checked.stderr
    assert (not db.exists()) if loss == "deleted" else db.stat().st_size == 0
    assert run_cli("--library", str(root), "repair", "restore-snapshot").returncode == 0
    assert run_cli("--library", str(root), "check").returncode == 0


def test_snapshots_alone_make_a_folder_a_library(root: Path) -> None:
    shutil.rmtree(root / "originals")
    shutil.rmtree(root / "cache")
    (root / DB_NAME).unlink()
    with pytest.raises(DatabaseDamaged, match="holds database snapshots"):
        Library.open(root, create=True)


def test_a_creation_cut_short_is_finished(tmp_path: Path) -> None:
    """Empty folders, a lock file and an empty database: what a creation killed at its start
    leaves. That is no library yet, and is made one."""
    folder = tmp_path / "new"
    for sub in ("originals", "cache", "tmp"):
        (folder / sub).mkdir(parents=True)
    (folder / "lock").write_bytes(b"")
    (folder / DB_NAME).write_bytes(b"")
    assert run_cli("--library", str(folder), "init").returncode == 0
    with Library.open(folder) as lib:
        assert listing.counts(lib)["clients"] == 1


# -- leftovers ------------------------------------------------------------------------------------


def test_half_written_database_copies_inside_the_library_are_removed_on_open(root: Path) -> None:
    part = root / f".{DB_NAME}.0badcafe.part"
    snap_part = root / "backups" / ".library-20260101-000000-auto.sqlite3.0badcafe.part"
    journal = root / "backups" / ".library-20260101-000000-auto.sqlite3.0badcafe.part-journal"
    for path in (part, snap_part, journal):
        path.write_bytes(b"half a database")
        os.chmod(path, 0o644)
    (root / "tmp" / "thumbs-x.part").write_bytes(b"half a thumbnail")
    # A reader that cannot clean reports them (the folder cannot be written, nobody holds it).
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(library_module, "_writable", lambda root, db: False)
        with Library.open(root, allow_read_only=True) as lib:
            assert lib.read_only is not None and not in_use(root)
            temp = sorted(p.detail.split(" ")[0] for p in h.check(lib).problems)
    assert temp == sorted(
        [f"backups/{snap_part.name}", f"backups/{journal.name}", part.name, "tmp/thumbs-x.part"]
    )
    with Library.open(root) as lib:
        assert h.check(lib).ok
    assert not part.exists() and not snap_part.exists() and not journal.exists()


def test_rolling_snapshots_are_private_and_whole(root: Path) -> None:
    for snapshot in snapshots.snapshots(root / "backups"):
        assert snapshot.stat().st_mode & 0o777 == 0o600
    assert not [p for p in (root / "backups").iterdir() if p.name.startswith(".")]
    made = snapshots.rolling_snapshot(
        root / DB_NAME, root / "backups", dt.datetime.now() + dt.timedelta(days=2)
    )
    assert made is not None and made.stat().st_mode & 0o777 == 0o600
    conn = sqlite3.connect(f"{made.as_uri()}?immutable=1", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


# -- a check beside an import ---------------------------------------------------------------------


def test_a_check_between_an_imports_commit_and_its_move_finds_nothing(
    root: Path, tmp_path: Path
) -> None:
    reports = []
    with Library.open(root) as writer:
        real = writer.store.commit_staged

        def check_then_commit(staged: Path) -> StoredOriginal:
            with Library.open(root, allow_read_only=True) as reader:  # held: reads only
                assert reader.read_only is not None
                reports.append(h.check(reader))
            return real(staged)

        writer.store.commit_staged = check_then_commit  # type: ignore[method-assign]
        h.import_files(writer, jpegs(tmp_path / "more", 3, seed=12), area="Hips", workers=1)
    assert len(reports) == 3 and all(r.ok for r in reports), [r.problems for r in reports]


def test_a_photo_that_arrives_while_the_check_reads_is_no_orphan(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check has read the photos' rows; then an import records and moves in a new one
    before the check lists the originals folder."""
    files = jpegs(tmp_path / "late", 2, seed=13)
    with Library.open(root) as writer, Library.open(root, allow_read_only=True) as reader:
        real = check_module.scan_originals

        def import_first(at: Path) -> Iterator[tuple[str, check_module.Refusal | None]]:
            h.import_files(writer, files, area="Hips")
            return real(at)

        monkeypatch.setattr(check_module, "scan_originals", import_first)
        report = h.check(reader)
    assert report.ok, report.problems
    assert report.photos_checked == 4


def test_checks_while_another_process_imports_report_no_damage(root: Path, tmp_path: Path) -> None:
    files = jpegs(tmp_path / "batch", 60, seed=14, size=(320, 240))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tracker", "--library", str(root), "import"]
        + [str(f) for f in files]
        + ["--area", "Hips"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    reports = []
    try:
        while not in_use(root):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.01)
            assert proc.returncode is None, "the import ended before it was seen"
        while proc.poll() is None:
            with Library.open(root, allow_read_only=True) as lib:
                reports.append((h.check(lib), lib.read_only is not None))
    finally:
        assert proc.wait(timeout=120) == 0
    assert any(during for _, during in reports)
    assert [r.problems for r, _ in reports if not r.ok] == []
    with Library.open(root) as lib:
        assert h.check(lib).ok and listing.counts(lib)["photos"] == 64


# -- links and planted code -------------------------------------------------------------------------


def test_quarantine_moves_links_out_and_relink_puts_the_originals_back(
    root: Path, tmp_path: Path
) -> None:
    keep = tmp_path / "keep"
    keep.mkdir()
    with Library.open(root) as lib:
        photo = h.list_photos(lib)[0]
        path = original(root, photo["sha256"])
        shutil.copy(path, keep / "as-imported.jpg")
        os.chmod(path, 0o600)
        path.unlink()
        path.symlink_to(keep / "as-imported.jpg")
        (root / "originals" / "zz").symlink_to("/etc")
        assert sorted(p.kind for p in h.check(lib).problems) == ["link", "link"]
        moved = repair.quarantine_orphans(lib)
        assert moved["moved"] == 2
        assert [p.kind for p in h.check(lib).problems] == ["missing_original"]
        assert repair.relink(lib, keep)["relinked"] == 1
        assert h.check(lib).ok
    assert Path("/etc").is_dir()  # the link was moved, never what it points to
    assert (Path(moved["folder"]) / "originals" / "zz").is_symlink()


def test_check_reports_a_trigger_planted_in_the_database(root: Path) -> None:
    conn = sqlite3.connect(root / DB_NAME)
    conn.execute("CREATE TRIGGER planted AFTER INSERT ON rating BEGIN DELETE FROM rating; END")
    conn.commit()
    conn.close()
    result = run_cli("--library", str(root), "check")
    assert result.returncode == 1
    assert "trigger named 'planted'" in result.stdout and "[database]" in result.stdout
