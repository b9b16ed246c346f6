"""`tracker` commands on an encrypted library enter "unlocked" in its audit trail, and each
wrong passphrase tried before as "failed to unlock" (issue 20)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.store import encrypted, unlock_log

PASS = "correct horse battery staple"


def test_a_wrong_passphrase_then_the_right_one_are_both_in_the_trail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRACKER_RECOVERY_KEY", raising=False)
    lib, _recovery = encrypted.create(tmp_path / "lib", PASS, MIN_KDF)
    lib.close()
    root = str(lib.root)
    monkeypatch.setenv("TRACKER_PASSPHRASE", "not it")
    assert run_cli("--library", root, "list", "clients").returncode == 2
    assert (lib.root / unlock_log.UNLOCK_LOG).exists()
    monkeypatch.setenv("TRACKER_PASSPHRASE", PASS)
    done = run_cli("--library", root, "--json", "audit")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    rows = rows["entries"] if isinstance(rows, dict) else rows
    actions = [r["action"] for r in rows]
    assert actions[:2] == ["unlock-failed", "unlocked"]
    assert rows[0]["actor"] == rows[1]["actor"] != ""
    assert not (lib.root / unlock_log.UNLOCK_LOG).exists()
