"""Issue 16: the library writes only its own files, never through a link; the database file
alone holds every committed change once a command ends; a killed import leaves no pictures."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from tests import helpers as h
from tests.conftest import run_cli
from tracker.core.errors import StorageError
from tracker.core.store.library import Library
from tracker.core.store.photos import seal


def test_a_lock_linked_to_another_file_never_truncates_it(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    assert run_cli("--library", str(root), "init").returncode == 0
    victim = tmp_path / "victim.txt"
    victim.write_text("the owner's file")
    (root / "lock").unlink(missing_ok=True)
    (root / "lock").symlink_to(victim)
    result = run_cli("--library", str(root), "visit", "add", "--date", "2025-01-06")
    assert result.returncode == 2 and "is a link" in result.stderr
    assert victim.read_text() == "the owner's file"


@pytest.mark.parametrize("entry", ["cache", "tmp", "library.sqlite3-wal"])
@pytest.mark.folder_only(reason="links")
def test_a_library_whose_own_entries_are_links_is_not_opened(tmp_path: Path, entry: str) -> None:
    root = tmp_path / "lib"
    Library.open(root, create=True).close()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = root / entry
    if target.is_dir():
        shutil.rmtree(target)
    target.unlink(missing_ok=True)
    target.symlink_to(elsewhere)
    with pytest.raises(StorageError, match="is a link"):
        Library.open(root)


def test_the_database_file_alone_holds_what_a_command_committed(tmp_path: Path) -> None:
    """After a command, a copy of library.sqlite3 without its -wal (lost, or a folder copied
    file by file) still has every visit."""
    root = tmp_path / "lib"
    L = ("--library", str(root))
    for day in ("2025-01-06", "2025-02-03", "2025-03-03"):
        assert run_cli(*L, "visit", "add", "--date", day).returncode == 0
    wal = root / "library.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(root / "library.sqlite3", copy)
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT count(*) FROM visit").fetchone() == (3,)


@pytest.mark.folder_only(reason="files")
def test_pictures_a_killed_import_made_for_photos_it_never_recorded_are_swept(
    library: Library, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.jpg"
    Image.new("RGB", (64, 48), (200, 150, 140)).save(kept)
    h.import_files(library, [kept], area="Hips")
    stored = h.list_photos(library)[0]["sha256"]
    root = library.root
    library.close()
    # What an import killed before its commit leaves: a staged original and its pictures.
    ghost = "ab" * 32
    (root / "tmp" / f"{ghost}.jpg.staged").write_bytes(b"not committed")
    for kind in ("thumbs", "previews"):
        folder = root / "cache" / kind / ghost[:2]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{ghost}.jpg").write_bytes(seal(b"picture", ghost))
    reopened = Library.open(root)
    try:
        leftovers = [p.name for p in (root / "cache").rglob("*.jpg")]
        assert f"{ghost}.jpg" not in leftovers and f"{stored}.jpg" in leftovers
        assert not (root / "tmp" / f"{ghost}.jpg.staged").exists()
    finally:
        reopened.close()


@pytest.mark.folder_only(reason="permissions")
def test_a_read_only_folder_with_unapplied_changes_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lib"
    Library.open(root, create=True).close()
    db = root / "library.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("INSERT INTO client (name, notes, created_at) VALUES ('Ana', '', '2025-01-01')")
    conn.commit()
    pending = (root / "library.sqlite3-wal").read_bytes()  # committed, not yet in the file
    conn.close()
    (root / "library.sqlite3-wal").write_bytes(pending)
    monkeypatch.setattr("tracker.core.store.library._writable", lambda *_: False)
    lib = Library.open(root, allow_read_only=True)
    try:
        assert lib.read_only is not None and "latest changes" in lib.read_only
    finally:
        lib.close()


@pytest.mark.parametrize("folder", ["cache", "tmp"])
@pytest.mark.folder_only(reason="files")
def test_a_derived_folder_found_as_a_file_is_kept_aside_and_made_again(
    tmp_path: Path, folder: str
) -> None:
    root = tmp_path / "lib"
    Library.open(root, create=True).close()
    shutil.rmtree(root / folder)
    (root / folder).write_text("something")
    with Library.open(root):
        assert (root / folder).is_dir()
    kept = list((root / "quarantine").iterdir())
    assert len(kept) == 1 and kept[0].read_text() == "something"


@pytest.mark.folder_only(reason="files")
def test_an_originals_folder_found_as_a_file_is_a_sentence(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    Library.open(root, create=True).close()
    shutil.rmtree(root / "originals")
    (root / "originals").write_text("x")
    result = run_cli("--library", str(root), "list", "visits")
    assert (
        result.returncode == 2 and "is a file, not the library's folder of photos" in result.stderr
    )
