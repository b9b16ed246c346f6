"""Restore refuses what a stranger could put in an archive (issue 15): duplicate names, a
database that carries code or tables we do not make, bombs, fields of the wrong type, encrypted
or oddly compressed entries, links and escaping names; a full disk is called full. Every
refusal names the archive and the destination, never the hidden work folder, and leaves
nothing at the destination or beside it. Every archive here is made in code."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NamedTuple

import pytest
from alembic import command
from PIL import Image

from tests import helpers as h
from tests.conftest import run_cli
from tracker.core.care import backups, restore, unpack
from tracker.core.care.backups import MANIFEST
from tracker.core.db import engine as db_engine
from tracker.core.db.engine import DB_NAME
from tracker.core.db.models import RaterRole
from tracker.core.errors import DiskFull, ForeignSchema, LibraryError, UsageError
from tracker.core.store.library import Library


class Entry(NamedTuple):
    name: str
    data: bytes
    method: int = zipfile.ZIP_STORED


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real backup of a library with three photos and a rating."""
    folder = tmp_path_factory.mktemp("genuine")
    photos = []
    for i in range(3):
        path = folder / f"p{i}.jpg"
        Image.effect_noise((96, 64), 20 + 7 * i).convert("RGB").save(path)
        photos.append(path)
    with Library.open(folder / "lib", create=True) as lib:
        h.import_files(lib, photos, area="Hips", date=dt.date(2025, 1, 10))
        h.rate(
            lib,
            client=None,
            area="Hips",
            day=dt.date(2025, 1, 10),
            role=RaterRole.PATIENT,
            values={"colour": 6},
        )
        backups.backup(lib, folder / "genuine.zip")
    return folder / "genuine.zip"


@pytest.fixture
def place(tmp_path: Path) -> Path:
    """The folder the destination is in: it must hold nothing after a refusal."""
    folder = tmp_path / "place"
    folder.mkdir()
    return folder


def _parts(archive: Path) -> tuple[dict[str, Any], list[Entry]]:
    with zipfile.ZipFile(archive) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        entries = [
            Entry(i.filename, zf.read(i), i.compress_type)
            for i in zf.infolist()
            if i.filename != MANIFEST
        ]
    return manifest, entries


def _write(out: Path, entries: list[Entry], manifest: dict[str, Any] | bytes | None) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name: wanted here
        with zipfile.ZipFile(out, "w") as zf:
            for entry in entries:
                info = zipfile.ZipInfo(entry.name, (2025, 1, 1, 0, 0, 0))
                info.compress_type = entry.method
                zf.writestr(info, entry.data)
            if manifest is not None:
                data = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
                zf.writestr(MANIFEST, data)
    return out


def _listed(data: bytes, path: str) -> dict[str, Any]:
    return {"path": path, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def _with_database(genuine: Path, out: Path, *sql: str) -> Path:
    """The genuine archive with its database changed by ``sql`` (and its manifest to match)."""
    manifest, entries = _parts(genuine)
    db = out.with_suffix(".sqlite3")
    db.write_bytes(next(e.data for e in entries if e.name == DB_NAME))
    conn = sqlite3.connect(db)
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    data = db.read_bytes()
    entries = [Entry(e.name, data, e.method) if e.name == DB_NAME else e for e in entries]
    manifest["files"] = [
        _listed(data, DB_NAME) if f["path"] == DB_NAME else f for f in manifest["files"]
    ]
    return _write(out, entries, manifest)


def _patch_directory(
    archive: Path,
    name: str,
    *,
    flags: int | None = None,
    method: int | None = None,
    size: int | None = None,
) -> None:
    """Change an entry's record in the zip's central directory, as a hand-made archive could."""
    data = bytearray(archive.read_bytes())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name.encode():
            if flags is not None:
                struct.pack_into("<H", data, at + 8, flags)
            if method is not None:
                struct.pack_into("<H", data, at + 10, method)
            if size is not None:
                struct.pack_into("<L", data, at + 24, size)
            archive.write_bytes(bytes(data))
            return
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{name} is not in {archive}")


def _refused(
    archive: Path, place: Path, error: type[Exception] = LibraryError, match: str = ""
) -> str:
    """Restore ``archive`` into ``place/restored``; it must be refused with one sentence naming
    the archive and not the hidden folder, and leave ``place`` empty."""
    with pytest.raises(error) as caught:
        restore.restore(archive, place / "restored")
    message = str(caught.value)
    assert archive.name in message, message
    assert ".restoring" not in message and "\n" not in message and message.endswith("."), message
    assert match in message, message
    assert list(place.iterdir()) == []
    return message


def _original(entries: list[Entry]) -> Entry:
    return next(e for e in entries if e.name.startswith("originals/"))


# -- duplicates -----------------------------------------------------------------------------------


def test_an_archive_holding_its_database_twice_is_refused(
    genuine: Path, tmp_path: Path, place: Path
) -> None:
    manifest, entries = _parts(genuine)
    forged = _with_database(
        genuine,
        tmp_path / "forged.zip",
        "INSERT INTO client (name, notes, created_at) VALUES ('Forged', '', '2025-01-01')",
    )
    forged_db = next(e for e in _parts(forged)[1] if e.name == DB_NAME)
    bad = _write(tmp_path / "twice.zip", [*entries, forged_db], manifest)
    _refused(bad, place, match="holds 'library.sqlite3' twice")
    result = run_cli("restore", str(bad), str(place / "restored"))
    assert result.returncode == 2 and "twice" in result.stderr
    assert list(place.iterdir()) == []


def test_an_original_held_twice_or_listed_twice_is_refused(
    genuine: Path, tmp_path: Path, place: Path
) -> None:
    manifest, entries = _parts(genuine)
    photo = _original(entries)
    _refused(_write(tmp_path / "a.zip", [*entries, photo], manifest), place, match="twice")
    listed = next(f for f in manifest["files"] if f["path"] == photo.name)
    again = {**manifest, "files": [*manifest["files"], listed]}
    _refused(_write(tmp_path / "b.zip", entries, again), place, match="lists 'originals/")


def test_a_manifest_giving_a_key_twice_is_refused(
    genuine: Path, tmp_path: Path, place: Path
) -> None:
    manifest, entries = _parts(genuine)
    text = json.dumps(manifest)
    doubled = text.replace('"files": ', '"files": [], "files": ', 1).encode()
    _refused(_write(tmp_path / "keys.zip", entries, doubled), place, match="manifest")


# -- a database that carries code -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        (
            "CREATE TRIGGER wipe AFTER INSERT ON rating_item BEGIN "
            "DELETE FROM rating_item WHERE id <> new.id; END",
            "holds a trigger named 'wipe' on the table rating_item that this app does not make",
        ),
        ("CREATE VIEW everyone AS SELECT * FROM client", "holds a view named 'everyone'"),
        ("CREATE TABLE notes (x)", "holds a table named 'notes'"),
        ("CREATE INDEX ix_sneaky ON client (notes)", "holds an index named 'ix_sneaky'"),
        (
            "ALTER TABLE client ADD COLUMN extra TEXT",
            "holds a table named 'client' defined differently from the one this app makes",
        ),
        ("DROP INDEX ix_visit_client_id", "lacks the index named 'ix_visit_client_id'"),
    ],
)
def test_an_archive_whose_database_is_not_ours_is_refused(
    genuine: Path, tmp_path: Path, place: Path, sql: str, named: str
) -> None:
    bad = _with_database(genuine, tmp_path / "code.zip", sql)
    message = _refused(bad, place, ForeignSchema, match=named)
    assert message.startswith("The database in code.zip ") and message.endswith(
        "; it was not restored."
    )


def test_a_trigger_in_an_archive_is_refused_from_the_command_line(
    genuine: Path, tmp_path: Path, place: Path
) -> None:
    bad = _with_database(
        genuine,
        tmp_path / "code.zip",
        "CREATE TRIGGER wipe AFTER INSERT ON rating_item BEGIN DELETE FROM rating_item; END",
    )
    result = run_cli("restore", str(bad), str(place / "restored"))
    assert result.returncode == 2
    assert "trigger named 'wipe'" in result.stderr and ".restoring" not in result.stderr
    assert list(place.iterdir()) == []


def test_a_database_naming_photos_the_archive_does_not_hold_is_refused_before_they_are_written(
    genuine: Path, tmp_path: Path, place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest, entries = _parts(genuine)
    photo = _original(entries)
    fewer = {**manifest, "files": [f for f in manifest["files"] if f["path"] != photo.name]}
    bad = _write(tmp_path / "fewer.zip", [e for e in entries if e != photo], fewer)
    written: list[str] = []
    real = restore._extract

    def spy(zf: zipfile.ZipFile, file: unpack.ArchiveFile, *args: Any) -> None:
        written.append(file.path)
        real(zf, file, *args)

    monkeypatch.setattr(restore, "_extract", spy)
    _refused(bad, place, match="its database names a photo it does not hold")
    assert written == [DB_NAME]


def test_a_forced_backups_left_out_photos_are_restored_without_their_originals(
    genuine: Path, tmp_path: Path, place: Path
) -> None:
    manifest, entries = _parts(genuine)
    photo = _original(entries)
    manifest["files"] = [f for f in manifest["files"] if f["path"] != photo.name]
    manifest["left_out"] = [{"photo_id": 1, "path": photo.name, "why": "missing"}]
    archive = _write(tmp_path / "forced.zip", [e for e in entries if e != photo], manifest)
    result = restore.restore(archive, place / "restored")
    assert result["left_out"] == [photo.name] and result["photos"] == 3
    with Library.open(place / "restored") as lib:
        problems = h.check(lib).problems
    assert [p.kind for p in problems] == ["missing_original"]


# -- bombs ----------------------------------------------------------------------------------------


def test_copying_stops_at_the_first_byte_past_what_was_promised() -> None:
    out = io.BytesIO()
    with pytest.raises(unpack.Overflow):
        unpack.copy(io.BytesIO(b"x" * 5_000_000), out, 1000)
    assert len(out.getvalue()) <= 1000
    out = io.BytesIO()
    assert unpack.copy(io.BytesIO(b"abc"), out, 3) == (hashlib.sha256(b"abc").hexdigest(), 3)
    # A file that is not a database is refused at its first bytes, before any is written.
    out = io.BytesIO()
    with pytest.raises(unpack.Unreadable):
        unpack.copy(io.BytesIO(b"\0" * 3_000_000), out, 3_000_000, restore._database_head)
    assert out.getvalue() == b""


def test_an_entry_longer_than_promised_is_refused(
    genuine: Path, tmp_path: Path, place: Path
) -> None:
    manifest, entries = _parts(genuine)
    photo = _original(entries)
    lying = {
        **manifest,
        "files": [{**f, "size": 100} if f["path"] == photo.name else f for f in manifest["files"]],
    }
    bad = _write(tmp_path / "long.zip", entries, lying)
    _refused(bad, place, match="is not the size its manifest says")
    # Both the manifest and the zip's directory lie: the read stops where they say.
    _patch_directory(bad, photo.name, size=100)
    _refused(bad, place, match="damaged or was not made by this app")


def test_a_huge_database_is_refused_before_it_is_written(
    genuine: Path, tmp_path: Path, place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest, entries = _parts(genuine)
    huge = 2 << 30
    manifest["files"] = [
        {**f, "size": huge} if f["path"] == DB_NAME else f for f in manifest["files"]
    ]
    bad = _write(tmp_path / "huge.zip", entries, manifest)
    _patch_directory(bad, DB_NAME, size=huge)
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(restore.shutil, "disk_usage", lambda _p: usage._replace(free=1 << 30))
    message = _refused(bad, place, DiskFull, match="needs 4.3 GB")
    assert str(place) in message and "1.1 GB free" in message
    # With room for it, its header (which gives the database's true size) refuses it.
    monkeypatch.setattr(restore.shutil, "disk_usage", lambda _p: usage._replace(free=1 << 40))
    _refused(bad, place, match="library.sqlite3 cannot be read")


def test_a_huge_manifest_is_refused_without_being_read(
    genuine: Path, tmp_path: Path, place: Path
) -> None:
    manifest, entries = _parts(genuine)
    padded = json.dumps(manifest).encode() + b" " * (unpack.MAX_MANIFEST + (1 << 20))
    bad = tmp_path / "padded.zip"
    with zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as zf:
        for entry in entries:
            zf.writestr(entry.name, entry.data)
        zf.writestr(MANIFEST, padded)
    del padded
    tracemalloc.start()
    try:
        _refused(bad, place, match="its manifest is larger than any this app writes")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak / 1e6:.1f} MB"
    # Its directory says it is small: it is read no further than that.
    _patch_directory(bad, MANIFEST, size=1000)
    tracemalloc.start()
    try:
        _refused(bad, place, match="its manifest cannot be read")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"{peak / 1e6:.1f} MB"


def test_an_archive_with_more_entries_than_any_backup_is_refused_before_it_is_opened(
    genuine: Path, place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backups, "MAX_FILES", 2)

    def never(*_args: object) -> None:
        raise AssertionError("the zip's directory was read")

    monkeypatch.setattr(unpack.zipfile, "ZipFile", never)
    _refused(genuine, place, match="holds more files than this app puts in one archive")


def test_free_space_is_checked_first(
    genuine: Path, place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = shutil.disk_usage(place)
    monkeypatch.setattr(restore.shutil, "disk_usage", lambda _p: usage._replace(free=5000))
    _refused(genuine, place, DiskFull, match="5.0 kB free; nothing was restored")


def test_a_genuine_archive_onto_a_full_disk_says_the_disk_is_full(
    genuine: Path, place: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = restore.copy
    calls: list[int] = []

    def filling(src: IO[bytes], out: IO[bytes], limit: int, head: Any = None) -> tuple[str, int]:
        calls.append(limit)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, out, limit, head)

    monkeypatch.setattr(restore, "copy", filling)
    message = _refused(genuine, place, DiskFull, match="is full")
    assert "damaged" not in message and str(place) in message


# -- entries of the wrong kind ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        lambda f: {**f, "size": str(f["size"])},
        lambda f: {**f, "size": True},
        lambda f: {**f, "size": -1},
        lambda f: {**f, "path": 5},
        lambda f: {**f, "sha256": None},
        lambda f: {**f, "sha256": f["sha256"].upper()},
        lambda f: [f["path"], f["sha256"], f["size"]],
        lambda f: f["path"],
    ],
    ids=[
        "size-text",
        "size-bool",
        "size-negative",
        "path-number",
        "sha-null",
        "sha-upper",
        "entry-list",
        "entry-text",
    ],
)
def test_a_manifest_entry_of_the_wrong_type_is_refused(
    genuine: Path, tmp_path: Path, place: Path, change: Callable[[dict[str, Any]], object]
) -> None:
    manifest, entries = _parts(genuine)
    manifest["files"] = [change(f) for f in manifest["files"]]
    bad = _write(tmp_path / "types.zip", entries, manifest)
    _refused(bad, place, match="is damaged or was not made by this app")


@pytest.mark.parametrize(
    "manifest",
    [b"[1, 2]", b'{"format": true, "files": []}', b'{"format": "1"}', b"[" * 100_000, b"\xff"],
    ids=["list", "format-bool", "format-text", "deep", "not-utf8"],
)
def test_a_manifest_that_is_not_ours_is_refused(
    genuine: Path, tmp_path: Path, place: Path, manifest: bytes
) -> None:
    _, entries = _parts(genuine)
    _refused(_write(tmp_path / "odd.zip", entries, manifest), place)


def test_the_wrong_types_are_exit_status_2_on_the_command_line(
    genuine: Path, tmp_path: Path, place: Path
) -> None:
    manifest, entries = _parts(genuine)
    manifest["files"] = [{**f, "size": str(f["size"])} for f in manifest["files"]]
    result = run_cli(
        "restore", str(_write(tmp_path / "t.zip", entries, manifest)), str(place / "r")
    )
    assert result.returncode == 2
    assert "t.zip is damaged or was not made by this app" in result.stderr


@pytest.mark.parametrize(
    ("patch", "said"),
    [
        ({"flags": 0x1}, "is encrypted"),
        ({"method": 9}, "is compressed in a way this app does not use"),  # deflate64
        ({"method": 12}, "is compressed in a way this app does not use"),  # bzip2
    ],
)
def test_encrypted_or_oddly_compressed_entries_are_refused(
    genuine: Path, tmp_path: Path, place: Path, patch: dict[str, int], said: str
) -> None:
    manifest, entries = _parts(genuine)
    for name in (_original(entries).name, MANIFEST):
        bad = _write(tmp_path / "odd.zip", entries, manifest)
        _patch_directory(bad, name, **patch)
        _refused(bad, place, match=said)
    result = run_cli("restore", str(bad), str(place / "restored"))
    assert result.returncode == 2 and said in result.stderr


@pytest.mark.parametrize(
    "name",
    ["../escape.txt", "/tmp/escape.txt", "originals\\..\\..\\escape.txt", "originals/ab/../../x"],
)
def test_names_that_would_leave_the_library_are_refused(
    genuine: Path, tmp_path: Path, place: Path, name: str
) -> None:
    manifest, entries = _parts(genuine)
    manifest["files"].append(_listed(b"x", name))
    bad = _write(tmp_path / "escape.zip", [*entries, Entry(name, b"x")], manifest)
    _refused(bad, place, match="holds an unexpected file")
    assert not (tmp_path / "escape.txt").exists() and not Path("/tmp/escape.txt").exists()


# -- where it goes ----------------------------------------------------------------------------------


def test_a_destination_that_is_a_link_is_refused(genuine: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    link = tmp_path / "restored"
    link.symlink_to(target)
    with pytest.raises(UsageError, match="is a link"):
        restore.restore(genuine, link)
    assert list(target.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "restored"]


def test_a_work_folder_left_by_a_killed_restore_is_removed_quietly(
    genuine: Path, place: Path
) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(gone.stdout)
    stale = [
        place / ".restored.restoring-0badc0de",
        place / f".restored.restoring-{dead_pid}-0badc0de",
    ]
    kept = [
        place / ".restored.restoring-xyz",  # not the pattern
        place / ".other.restoring-0badc0de",  # another destination's
        place / f".restored.restoring-{os.getpid()}-feedf00d",  # at work: its lock is held
    ]
    for folder in stale + kept:
        (folder / "originals").mkdir(parents=True)
        (folder / DB_NAME).write_bytes(b"partial")
    fcntl = pytest.importorskip("fcntl")  # where there are no OS locks, age decides instead
    holder = os.open(kept[-1], os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = run_cli("restore", str(genuine), str(place / "restored"))
    finally:
        os.close(holder)
    assert result.returncode == 0, result.stderr
    assert "restoring" not in result.stdout + result.stderr
    assert sorted(p.name for p in place.iterdir()) == sorted(["restored", *(p.name for p in kept)])


def test_an_archive_of_an_older_schema_is_checked_at_its_revision_and_upgraded(
    genuine: Path, tmp_path: Path, place: Path
) -> None:
    manifest, entries = _parts(genuine)
    db = tmp_path / "old.sqlite3"
    db.write_bytes(next(e.data for e in entries if e.name == DB_NAME))
    engine = db_engine.make_engine(db, foreign_keys=False)
    with engine.begin() as conn:
        cfg = db_engine.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    engine.dispose()
    raw = sqlite3.connect(db)
    raw.execute("PRAGMA journal_mode=DELETE")
    raw.close()
    data = db.read_bytes()
    entries = [Entry(e.name, data, e.method) if e.name == DB_NAME else e for e in entries]
    manifest["files"] = [
        _listed(data, DB_NAME) if f["path"] == DB_NAME else f for f in manifest["files"]
    ]
    old = _write(tmp_path / "old.zip", entries, manifest)
    assert restore.restore(old, place / "restored")["photos"] == 3
    assert db_engine.read_revision(place / "restored" / DB_NAME) == db_engine.head_revision()


def test_a_normal_restore_names_no_hidden_folder_and_leaves_nothing_beside_it(
    genuine: Path, place: Path
) -> None:
    progress: list[tuple[int, int, str]] = []
    result = restore.restore(genuine, place / "restored", progress=lambda *a: progress.append(a))
    assert result["photos"] == 3 and result["left_out"] == [] and result["files"] == 4
    assert [p[0] for p in progress] == [1, 2, 3, 4] and progress[0][2] == DB_NAME
    assert [p.name for p in place.iterdir()] == ["restored"]
    assert not (place / "restored" / "lock").exists()
