"""The audit trail's anchor travels in a backup's manifest (issue 20): a library restored from
a backup of a cut trail reports the cut; a snapshot put back on purpose is no cut."""

from __future__ import annotations

import json
import sqlite3
import zipfile
from pathlib import Path

import pytest

from tracker.core.care import backups, repair, restore
from tracker.core.care.archived import ANCHOR_KEY
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.db import snapshots
from tracker.core.domain.consent import Action
from tracker.core.errors import LibraryError
from tracker.core.services import audit
from tracker.core.store import encrypted
from tracker.core.store.library import Library
from tracker.core.store.unlock_log import AUDIT_ANCHOR

PASS = "a passphrase for the anchor"
_TRIGGERS = (
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
)


def _trail(root: Path, entries: int = 4) -> None:
    with Library.open(root, create=True) as lib:
        for n in range(entries):
            audit.record(lib, Action.VIEWED, client_id=1, detail=f"look {n}")
        assert audit.verify(lib) == []


def _cut(root: Path, keep: int) -> None:
    """Delete the newest entries around the triggers, as a tool writing the file could."""
    conn = sqlite3.connect(root / "library.sqlite3")
    conn.executescript(
        "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
        f"DELETE FROM audit WHERE id > {keep};" + _TRIGGERS
    )
    conn.close()


def _manifest(archive: Path) -> dict[str, object]:
    with zipfile.ZipFile(archive) as zf:
        loaded: dict[str, object] = json.loads(zf.read("manifest.json"))
    return loaded


def test_the_manifest_carries_the_anchor_and_a_whole_trail_restores_whole(
    tmp_path: Path,
) -> None:
    root = tmp_path / "lib"
    _trail(root)
    on_disk = json.loads((root / AUDIT_ANCHOR).read_text())
    with Library.open(root) as lib:
        backups.backup(lib, tmp_path / "b.zip")
    assert (
        _manifest(tmp_path / "b.zip")[ANCHOR_KEY]
        == on_disk
        == {"entries": 4, "hash": on_disk["hash"]}
    )
    done = restore.restore(tmp_path / "b.zip", tmp_path / "back")
    assert done["audit"] == []
    with Library.open(tmp_path / "back") as back:
        assert audit.verify(back) == []
        assert json.loads((tmp_path / "back" / AUDIT_ANCHOR).read_text())["entries"] == 5


def test_a_backup_of_a_cut_trail_is_reported_when_restored_and_after(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    _trail(root, 5)
    _cut(root, 3)
    with Library.open(root) as lib:
        backups.backup(lib, tmp_path / "b.zip")
    done = restore.restore(tmp_path / "b.zip", tmp_path / "back")
    (said,) = done["audit"]
    assert "The audit trail ends at entry 3, but it had 5 entries" in said
    with Library.open(tmp_path / "back") as back:
        (problem,) = audit.verify(back)
    assert "entry 4" in problem and "cut off" in problem  # the restore's entry did not hide it


def test_without_the_manifests_anchor_the_same_cut_would_go_unseen(tmp_path: Path) -> None:
    """What the anchor in the manifest is for: the archive without it restores a trail that
    looks whole."""
    root = tmp_path / "lib"
    _trail(root, 5)
    _cut(root, 3)
    with Library.open(root) as lib:
        backups.backup(lib, tmp_path / "b.zip")
    bare = tmp_path / "bare.zip"
    with zipfile.ZipFile(tmp_path / "b.zip") as src, zipfile.ZipFile(bare, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                del manifest[ANCHOR_KEY]
                data = json.dumps(manifest).encode()
            dst.writestr(info, data)
    assert restore.restore(bare, tmp_path / "back")["audit"] == []


def test_an_anchor_this_app_would_not_write_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    _trail(root)
    with Library.open(root) as lib:
        backups.backup(lib, tmp_path / "b.zip")
    forged = tmp_path / "forged.zip"
    with zipfile.ZipFile(tmp_path / "b.zip") as src, zipfile.ZipFile(forged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.json":
                manifest = json.loads(data)
                manifest[ANCHOR_KEY] = {"entries": "4", "hash": "x", "path": "/etc/passwd"}
                data = json.dumps(manifest).encode()
            dst.writestr(info, data)
    with pytest.raises(LibraryError, match="gives the audit trail's anchor as this app does not"):
        restore.restore(forged, tmp_path / "back")
    assert not (tmp_path / "back").exists()


def test_a_snapshot_put_back_on_purpose_makes_a_backup_without_a_cut(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    _trail(root, 2)
    snapshot = snapshots.private_copy(root / "library.sqlite3", root / "backups" / "two.sqlite3")
    with Library.open(root) as lib:
        for n in range(3):
            audit.record(lib, Action.VIEWED, detail=f"later {n}")
    repair.restore_snapshot(root, snapshot)
    assert not (root / AUDIT_ANCHOR).exists()  # as restore-snapshot leaves it
    with Library.open(root) as lib:
        backups.backup(lib, tmp_path / "b.zip")
        assert ANCHOR_KEY not in _manifest(tmp_path / "b.zip")
    assert restore.restore(tmp_path / "b.zip", tmp_path / "back")["audit"] == []


def test_an_encrypted_librarys_sealed_anchor_is_carried_and_holds(tmp_path: Path) -> None:
    lib, _recovery = encrypted.create(tmp_path / "lib", PASS, MIN_KDF)
    try:
        for n in range(3):
            audit.record(lib, Action.VIEWED, detail=f"look {n}")
        backups.backup(lib, tmp_path / "b.zip")
    finally:
        lib.close()
    carried = _manifest(tmp_path / "b.zip")[ANCHOR_KEY]
    assert isinstance(carried, dict) and len(str(carried["seal"])) == 64
    back = tmp_path / "back"
    unlock = lambda f: encrypted.unlock(f, passphrase=PASS)  # noqa: E731
    assert restore.restore(tmp_path / "b.zip", back, unlock=unlock)["audit"] == []
    with Library.open(back, keys=unlock(back)) as restored:
        assert audit.verify(restored) == []
