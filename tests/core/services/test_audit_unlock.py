"""Unlocking an encrypted library enters the audit trail: "unlocked", and each wrong
passphrase before it as "failed to unlock" with its time (issue 20)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.domain.consent import Action
from tracker.core.errors import WrongPassphrase
from tracker.core.services import audit
from tracker.core.store import encrypted, unlock_log
from tracker.core.store.library import Library

PASS = "correct horse battery"


def _made(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    lib, _recovery = encrypted.create(root, PASS, MIN_KDF)
    lib.close()
    return root


def test_failed_attempts_wait_outside_then_enter_the_trail(tmp_path: Path) -> None:
    root = _made(tmp_path)
    for wrong in ("nope", "still wrong"):
        with pytest.raises(WrongPassphrase):
            encrypted.unlock(root, passphrase=wrong)
    text = (root / unlock_log.UNLOCK_LOG).read_text("ascii")
    assert text.count("failed ") == 2 and "nope" not in text and "wrong" not in text
    keys = encrypted.unlock(root, passphrase=PASS)
    with Library.open(root, keys=keys) as lib:
        assert audit.settle(lib) == 3
        got = audit.entries(lib)
        assert [e.action for e in got] == [Action.UNLOCK_FAILED] * 2 + [Action.UNLOCKED]
        assert got[0].words == "failed to unlock"
        assert got[0].at <= got[1].at <= got[2].at
        assert got[0].actor == audit.current_actor()
        assert audit.verify(lib) == []
        assert audit.settle(lib) == 0  # entered once only
    assert not (root / unlock_log.UNLOCK_LOG).exists()
    assert not list(root.glob("unlock-attempts*"))


def test_any_entry_written_takes_the_attempts_first(tmp_path: Path) -> None:
    root = _made(tmp_path)
    with pytest.raises(WrongPassphrase):
        encrypted.unlock(root, passphrase="nope")
    with Library.open(root, keys=encrypted.unlock(root, passphrase=PASS)) as lib:
        audit.record(lib, Action.OPENED)  # what the window writes when it shows a library
        actions = [e.action for e in audit.entries(lib)]
    assert actions == [Action.UNLOCK_FAILED, Action.UNLOCKED, Action.OPENED]


def test_a_read_only_library_keeps_the_attempts_waiting(tmp_path: Path) -> None:
    root = _made(tmp_path)
    keys = encrypted.unlock(root, passphrase=PASS)
    with Library.open(root, keys=keys, read_only=True) as lib:
        assert audit.settle(lib) == 0
    assert (root / unlock_log.UNLOCK_LOG).exists()


def test_a_plain_library_notes_nothing(tmp_path: Path) -> None:
    with Library.open(tmp_path / "plain", create=True) as lib:
        assert audit.settle(lib) == 0
        audit.record(lib, Action.OPENED)
        assert [e.action for e in audit.entries(lib)] == [Action.OPENED]


_TRIGGER = (
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
)


def _cut_newest(root: Path, count: int = 1) -> None:
    """Delete the newest entries around the trigger, as a tool writing the file could."""
    conn = sqlite3.connect(root / "library.sqlite3")
    conn.executescript(
        "DROP TRIGGER audit_no_delete;"
        f"DELETE FROM audit WHERE id > (SELECT MAX(id) - {count} FROM audit);" + _TRIGGER
    )
    conn.close()


@pytest.mark.folder_only(reason="anchor")
def test_entries_cut_off_the_end_are_found_by_the_anchor(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    with Library.open(root, create=True) as lib:
        for _ in range(4):
            audit.record(lib, Action.OPENED)
        assert audit.verify(lib) == []
    _cut_newest(root, 2)
    with Library.open(root) as lib:
        (problem,) = audit.verify(lib)
    assert problem == (
        "The audit trail ends at entry 2, but it had 4 entries: the newest 2 entries were cut "
        "off (or an older copy of the database was put back)."
    )
    report = run_cli("--library", str(root), "check")
    assert "the newest 2 entries were cut off" in report.stdout + report.stderr


def test_an_encrypted_librarys_anchor_is_sealed(tmp_path: Path) -> None:
    root = _made(tmp_path)
    keys = encrypted.unlock(root, passphrase=PASS)
    with Library.open(root, keys=keys) as lib:
        audit.record(lib, Action.OPENED)
        assert audit.verify(lib) == []
    anchor = root / unlock_log.AUDIT_ANCHOR
    doc = json.loads(anchor.read_text("ascii"))
    doc["entries"] -= 1  # a careful cut: the anchor moved back with it, but not its seal
    anchor.write_text(json.dumps(doc), "ascii")
    with Library.open(root, keys=keys) as lib:
        (problem,) = audit.verify(lib)
    assert "its seal is wrong" in problem


@pytest.mark.folder_only(reason="anchor")
def test_a_library_without_an_anchor_checks_the_chain_only(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    with Library.open(root, create=True) as lib:
        audit.record(lib, Action.OPENED)
    (root / unlock_log.AUDIT_ANCHOR).unlink()
    with Library.open(root) as lib:
        assert audit.verify(lib) == []


def test_opening_again_does_not_move_a_disagreeing_anchor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _made(tmp_path)
    with Library.open(root, keys=encrypted.unlock(root, passphrase=PASS)) as lib:
        for _ in range(3):
            audit.record(lib, Action.OPENED)  # entries 1 (unlocked) to 4
    with Library.open(root, keys=encrypted.unlock(root, passphrase=PASS)) as lib:
        conn = lib.engine.raw_connection()  # with the key, around the trigger
        conn.driver_connection.executescript(  # type: ignore[union-attr]
            "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id > 2;" + _TRIGGER
        )
        conn.close()
    monkeypatch.setenv("TRACKER_PASSPHRASE", PASS)
    report = run_cli("--library", str(root), "check")  # unlocking enters a new entry first
    assert "Audit entry 4 is not the entry 4 that was written: entries were cut off" in (
        report.stdout
    )  # entries 3 and 4 are the two unlocks since
