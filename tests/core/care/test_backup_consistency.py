"""A backup is one consistent moment of the library, whatever runs beside it, and it refuses
(or, forced, leaves out and names) what it cannot archive as imported: every archive it
writes restores. Links planted in the library are never followed."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests import helpers as h
from tests.conftest import REPO, run_cli
from tracker.core.care import backups, restore
from tracker.core.errors import LibraryChanged, OriginalsDamaged, UsageError
from tracker.core.queries import listing
from tracker.core.services import erase
from tracker.core.store.library import Library
from tracker.core.store.lock import claim, in_use
from tracker.core.store.photos import StoredOriginal


def jpegs(folder: Path, n: int, seed: int, size: tuple[int, int] = (96, 72)) -> list[Path]:
    """``n`` small JPEGs of different contents, each dated a day apart by EXIF."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2025:{1 + i % 12:02}:{1 + i % 28:02} 10:00:00"
        path = folder / f"IMG_{seed}_{i:03}.jpg"
        Image.effect_noise(size, rng.uniform(10, 90)).convert("RGB").save(path, exif=exif)
        out.append(path)
    return out


@pytest.fixture
def root(tmp_path: Path) -> Path:
    lib_root = tmp_path / "lib"
    with Library.open(lib_root, create=True) as lib:
        h.import_files(lib, jpegs(tmp_path / "in", 4, seed=1), area="Hips")
    return lib_root


def original(root: Path, sha: str) -> Path:
    return root / "originals" / sha[:2] / f"{sha}.jpg"


def restores(archive: Path, dest: Path) -> dict[str, int]:
    """Restore ``archive`` to ``dest`` (which proves it: every byte and the database's check);
    what it holds."""
    result = restore.restore(archive, dest)
    return {key: int(result[key]) for key in ("photos", "visits", "files")}


def names_in(archive: Path) -> set[str]:
    with zipfile.ZipFile(archive) as zf:
        return set(zf.namelist())


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith((".part", ".sqlite3")))


# -- a consistent moment -----------------------------------------------------------------------


def test_a_backup_between_an_imports_commit_and_its_move_restores(
    root: Path, tmp_path: Path
) -> None:
    """The import has committed the photo's row but its file is still staged in tmp/: the
    archive takes it from there (the window backs up while its own import runs)."""
    files = jpegs(tmp_path / "more", 3, seed=2)
    archives: list[Path] = []
    with Library.open(root) as lib:
        real = lib.store.commit_staged

        def commit_after_a_backup(staged: Path) -> StoredOriginal:
            out = tmp_path / f"during-{len(archives)}.zip"
            backups.backup(lib, out)
            archives.append(out)
            return real(staged)

        lib.store.commit_staged = commit_after_a_backup  # type: ignore[method-assign]
        h.import_files(lib, files, area="Hips", workers=1)
    assert len(archives) == 3
    for n, archive in enumerate(archives):
        held = restores(archive, tmp_path / f"restored-{n}")
        assert held["photos"] == 5 + n  # the photo being recorded is in it, with its file


def test_a_photo_erased_while_the_backup_copies_is_not_half_in_the_archive(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database was copied, then a photo it names was erased before its file was read:
    the backup starts again from a new copy, and the archive restores without the photo."""
    with Library.open(root) as lib:
        victim = h.list_photos(lib)[0]
        real = backups.database_image
        calls: list[int] = []

        def copy_then_erase(db_path: Path) -> bytes:
            image = real(db_path)
            if not calls:
                erase.erase(lib, erase.Target.PHOTO, int(victim["id"]))
            calls.append(1)
            return image

        monkeypatch.setattr(backups, "database_image", copy_then_erase)
        result = backups.backup(lib, tmp_path / "b.zip")
    assert len(calls) == 2  # a second, fresh copy
    assert result["left_out"] == []
    assert restores(tmp_path / "b.zip", tmp_path / "restored")["photos"] == 3
    assert f"originals/{victim['sha256'][:2]}/{victim['sha256']}.jpg" not in names_in(
        tmp_path / "b.zip"
    )


def test_a_photo_moved_aside_by_an_erase_in_progress_is_read_from_where_it_is(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An erase (or an undo) moves the files aside before its rows go: a copy made in
    between still names the photo, and its file is archived from tmp/undone/."""
    with Library.open(root) as lib:
        sha = h.list_photos(lib)[1]["sha256"]
        real = backups.database_image

        def copy_then_hold(db_path: Path) -> bytes:
            image = real(db_path)
            if lib.store.has_original(sha, "jpg"):
                lib.store.hold_original(sha, "jpg")
            return image

        monkeypatch.setattr(backups, "database_image", copy_then_hold)
        backups.backup(lib, tmp_path / "b.zip")
        lib.store.release_held(sha, "jpg")
    assert restores(tmp_path / "b.zip", tmp_path / "restored")["photos"] == 4


def test_a_library_that_keeps_changing_is_refused_with_a_sentence(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Library.open(root) as lib:
        real = backups.database_image

        def copy_then_erase_one(db_path: Path) -> bytes:
            image = real(db_path)
            erase.erase(lib, erase.Target.PHOTO, int(h.list_photos(lib)[0]["id"]))
            return image

        monkeypatch.setattr(backups, "database_image", copy_then_erase_one)
        with pytest.raises(LibraryChanged, match=r"changed during the backup.*; try again\.$"):
            backups.backup(lib, tmp_path / "b.zip")
    assert not (tmp_path / "b.zip").exists()
    assert leftovers(tmp_path) == []


def _import_in_a_process(root: Path, files: list[Path]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", "--library", str(root), "import"]
        + [str(f) for f in files]
        + ["--area", "Hips", "--json"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_backups_taken_while_another_process_imports_always_restore(
    root: Path, tmp_path: Path
) -> None:
    """The command line's backup beside the command line's import (it holds the library:
    the backup reads it read-only), again and again while the import runs."""
    files = jpegs(tmp_path / "batch", 60, seed=3, size=(320, 240))
    proc = _import_in_a_process(root, files)
    archives: list[tuple[Path, bool]] = []
    try:
        while not in_use(root):  # the import holds the library first (else it is refused)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.01)
            assert proc.returncode is None, "the import ended before it was seen"
        while proc.poll() is None and len(archives) < 12:
            out = tmp_path / f"b{len(archives)}.zip"
            with Library.open(root, allow_read_only=True) as lib:
                backups.backup(lib, out)
                during = lib.read_only is not None and proc.poll() is None
            archives.append((out, during))
    finally:
        assert proc.wait(timeout=120) == 0
    assert any(during for _, during in archives), "no backup ran while the import did"
    counts = [restores(a, tmp_path / f"r{n}")["photos"] for n, (a, _) in enumerate(archives)]
    assert counts == sorted(counts) and counts[0] >= 4 and counts[-1] <= 64
    assert leftovers(tmp_path) == []


def test_backups_in_the_window_beside_its_own_import_always_restore(
    root: Path, tmp_path: Path
) -> None:
    """The window holds the library: its backup runs on a worker thread, beside its import."""
    files = jpegs(tmp_path / "batch", 30, seed=4)
    with Library.open(root) as lib:
        errors: list[BaseException] = []

        def importing() -> None:
            try:
                h.import_files(lib, files, area="Hips", workers=1)
            except BaseException as exc:  # reported below, in the test's thread
                errors.append(exc)

        worker = threading.Thread(target=importing)
        worker.start()
        archives: list[Path] = []
        while worker.is_alive() and len(archives) < 8:
            out = tmp_path / f"w{len(archives)}.zip"
            backups.backup(lib, out)
            archives.append(out)
        worker.join()
    assert not errors and archives
    for n, archive in enumerate(archives):
        assert 4 <= restores(archive, tmp_path / f"r{n}")["photos"] <= 34


# -- damage is named, and a forced backup leaves it out --------------------------------------------


def _flip_a_byte(path: Path) -> None:
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))


@pytest.fixture
def damages() -> dict[str, Callable[[Path, str], None]]:
    def changed(root: Path, sha: str) -> None:
        _flip_a_byte(original(root, sha))

    def missing(root: Path, sha: str) -> None:
        original(root, sha).unlink()

    return {"changed": changed, "missing": missing}


@pytest.mark.parametrize(
    ("damage", "words"),
    [("changed", "has changed since it was imported"), ("missing", "is missing")],
)
def test_a_damaged_original_is_named_and_no_archive_is_written(
    root: Path,
    tmp_path: Path,
    damages: dict[str, Callable[[Path, str], None]],
    damage: str,
    words: str,
) -> None:
    with Library.open(root) as lib:
        photo = h.list_photos(lib)[2]
        damages[damage](root, photo["sha256"])
        with pytest.raises(OriginalsDamaged) as caught:
            backups.backup(lib, tmp_path / "b.zip")
    message = str(caught.value)
    assert message.startswith("The library is damaged (") and message.endswith(".")
    assert f"photo {photo['id']}'s original originals/" in message and words in message
    assert message.count(". ") == 0  # one sentence
    assert not (tmp_path / "b.zip").exists() and leftovers(tmp_path) == []
    # The command line refuses with exit 2 and says how to go on; --force backs up the rest.
    result = run_cli("--library", str(root), "backup", str(tmp_path / "c.zip"))
    assert result.returncode == 2 and words in result.stderr and "--force" in result.stderr
    assert not (tmp_path / "c.zip").exists()
    result = run_cli("--library", str(root), "backup", str(tmp_path / "c.zip"), "--force", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["files"] == 4 and [d["photo_id"] for d in out["left_out"]] == [photo["id"]]
    assert out["left_out"][0]["why"] == damage
    with zipfile.ZipFile(tmp_path / "c.zip") as zf:
        manifest = json.loads(zf.read(backups.MANIFEST))
        assert manifest["left_out"] == out["left_out"]
        assert {f["path"] for f in manifest["files"]} == set(zf.namelist()) - {backups.MANIFEST}
        assert out["left_out"][0]["path"] not in zf.namelist()
        for entry in manifest["files"][1:]:  # what is in it is exactly as imported
            assert Path(entry["path"]).stem == entry["sha256"]
    text = run_cli("--library", str(root), "backup", str(tmp_path / "d.zip"), "--force")
    assert "Left out 1 damaged original(s) (originals/" in text.stdout
    # The forced archive restores: the photo left out comes without its file, to be relinked.
    restored = restore.restore(tmp_path / "c.zip", tmp_path / "restored")
    assert restored["photos"] == 4 and restored["left_out"] == [out["left_out"][0]["path"]]
    said = run_cli("restore", str(tmp_path / "c.zip"), str(tmp_path / "again"))
    assert said.returncode == 0 and "1 photo came back without its original" in said.stdout


def test_a_library_without_its_originals_folder_is_not_backed_up(
    root: Path, tmp_path: Path
) -> None:
    shutil.rmtree(root / "originals")
    with Library.open(root) as lib, pytest.raises(OriginalsDamaged, match=r"and 1 more\), so"):
        backups.backup(lib, tmp_path / "b.zip")
    result = run_cli("--library", str(root), "backup", str(tmp_path / "b.zip"), "--force")
    assert result.returncode == 0 and "Left out 4 damaged original(s)" in result.stdout


# -- links are never followed ------------------------------------------------------------------------


def test_a_link_planted_in_the_originals_is_not_followed(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "shadow"
    secret.write_bytes(b"root:$6$secret-hash:19000:0:99999:7:::\n")
    planted = root / "originals" / "ab" / ("ab" * 32 + ".jpg")
    planted.parent.mkdir(exist_ok=True)
    planted.symlink_to(secret)
    with Library.open(root) as lib:
        result = backups.backup(lib, tmp_path / "b.zip")  # not a photo's: not archived
        kinds = [p.kind for p in h.check(lib).problems]
    assert kinds == ["link"] and result["left_out"] == []
    assert b"secret-hash" not in (tmp_path / "b.zip").read_bytes()
    check = run_cli("--library", str(root), "check")
    assert check.returncode == 1 and f"is a link (to {secret})" in check.stdout


def test_a_photos_original_replaced_by_a_link_is_refused_even_to_the_same_bytes(
    root: Path, tmp_path: Path
) -> None:
    """The link points to a file with exactly the photo's bytes: it is still not followed,
    since what a link points to can change at any moment."""
    with Library.open(root) as lib:
        photo = h.list_photos(lib)[0]
        path = original(root, photo["sha256"])
        copy = tmp_path / "elsewhere.jpg"
        copy.write_bytes(path.read_bytes())
        os.chmod(path, 0o600)
        path.unlink()
        path.symlink_to(copy)
        with pytest.raises(OriginalsDamaged, match="reached through a link out of the library"):
            backups.backup(lib, tmp_path / "b.zip")
        problems = h.check(lib).problems
    assert [(p.kind, p.sha256) for p in problems] == [("link", photo["sha256"])]
    assert "is a link to somewhere else" in problems[0].detail


def test_an_originals_folder_that_is_a_link_is_not_followed(root: Path, tmp_path: Path) -> None:
    away = tmp_path / "away"
    (root / "originals").rename(away)
    (root / "originals").symlink_to(away)
    with Library.open(root) as lib:
        with pytest.raises(OriginalsDamaged, match="reached through a link"):
            backups.backup(lib, tmp_path / "b.zip")
        problems = h.check(lib).problems
    assert [p.kind for p in problems] == ["link"]
    assert "the originals of 4 photo(s) behind it were not read" in problems[0].detail


# -- temporary files ----------------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def held_part(tmp_path: Path) -> Iterator[Path]:
    """A temporary archive a backup still at work holds (this process, another descriptor)."""
    path = tmp_path / f".b.zip.{os.getpid()}-0000beef.part"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    claim(fd)
    yield path
    os.close(fd)


def test_the_next_backup_removes_what_a_killed_one_left_and_only_that(
    root: Path, tmp_path: Path, held_part: Path
) -> None:
    dead = tmp_path / f".b.zip.{_dead_pid()}-12345678.part"
    older = tmp_path / ".b.zip.0badcafe.part.sqlite3"  # a database copy, from before
    other = tmp_path / f".c.zip.{_dead_pid()}-12345678.part"  # another archive's
    for path in (dead, older, other):
        path.write_bytes(b"half")
        os.chmod(path, 0o644)
    seen: list[tuple[str, int]] = []

    def look(_done: int, _total: int, _what: str) -> None:
        seen.extend(
            (p.name, p.stat().st_mode & 0o777)
            for p in tmp_path.iterdir()
            if p.name.startswith(".b.zip") and p != held_part
        )

    with Library.open(root) as lib:
        backups.backup(lib, tmp_path / "b.zip", progress=look)
    assert not dead.exists() and not older.exists()
    assert held_part.exists() and other.exists()
    # While it ran, the only file it had beside the archive was its own, readable by its owner.
    assert {mode for _, mode in seen} == {0o600}
    assert len({name for name, _ in seen}) == 1
    assert (tmp_path / "b.zip").stat().st_mode & 0o777 == 0o600


def test_a_cancelled_backup_leaves_nothing(root: Path, tmp_path: Path) -> None:
    with Library.open(root) as lib, pytest.raises(UsageError, match="cancelled"):
        backups.backup(lib, tmp_path / "b.zip", cancel=lambda: True)
    assert leftovers(tmp_path) == [] and not (tmp_path / "b.zip").exists()
    with Library.open(root) as lib:
        assert listing.counts(lib)["photos"] == 4


def test_a_library_larger_than_an_archive_restore_reads_is_refused_before_writing(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every archive backup makes can be restored: restore reads at most MAX_FILES photos, so
    backup refuses more (found in review, when restore's bound was below a large clinic's)."""
    monkeypatch.setattr(backups, "MAX_FILES", 3)
    out = tmp_path / "big.zip"
    with Library.open(root) as lib, pytest.raises(UsageError, match="more than one archive holds"):
        backups.backup(lib, out)
    assert not out.exists() and not list(tmp_path.glob(".big.zip.*"))
