"""An encrypted library on the command line (docs/CLI.md): `init --encrypt`, every command
unlocking it from TRACKER_PASSPHRASE, `--recovery-key`, `passphrase change`, a wrong one
refused with one sentence and exit 2, and `check` reporting a damaged encrypted original."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.conftest import run_cli
from tracker.cli.unlock import new_passphrase
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.errors import UsageError
from tracker.core.store import encrypted

PASS = "correct horse battery staple"


def _env(monkeypatch: pytest.MonkeyPatch, **values: str) -> None:
    for name in ("TRACKER_PASSPHRASE", "TRACKER_RECOVERY_KEY", "TRACKER_NEW_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


def _photo(folder: Path) -> Path:
    path = folder / "belly.jpg"
    pixels = np.random.default_rng(3).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return path


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """An encrypted library made as `init --encrypt` makes one, with the cheapest key
    derivation a key file may name (every command below derives the key again)."""
    _env(monkeypatch, TRACKER_PASSPHRASE=PASS)
    lib, recovery = encrypted.create(tmp_path / "lib", PASS, MIN_KDF)
    lib.close()
    return lib.root, recovery


def test_init_encrypt_makes_it_and_shows_the_recovery_key_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, TRACKER_PASSPHRASE=PASS)
    done = run_cli("--library", str(tmp_path / "lib"), "init", "--encrypt")
    assert done.returncode == 0, done.stderr
    assert "recovery key, shown only this once" in done.stdout
    key = re.search(r"([A-Z2-7]{4}-){7}[A-Z2-7]{4}", done.stdout)
    assert key is not None
    text = (tmp_path / "lib" / "library.key").read_text()
    assert key.group(0) not in text and PASS not in text
    assert json.loads(text)["kdf"]["memory_kib"] == 65536
    listed = run_cli("--library", str(tmp_path / "lib"), "list", "clients", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)[0]["name"] == "Me"


def test_every_command_works_on_it_with_the_passphrase(
    library: tuple[Path, str], tmp_path: Path
) -> None:
    lib, _ = library
    base = ("--library", str(lib))
    imported = run_cli(*base, "import", str(_photo(tmp_path)), "--area", "Belly")
    assert imported.returncode == 0, imported.stderr
    visit = run_cli(*base, "visit", "add", "--date", "2026-11-20", "--notes", "itchy")
    assert visit.returncode == 0, visit.stderr
    agreed = run_cli(*base, "consent", "add", "care")  # exports ask for it (issue 20)
    assert agreed.returncode == 0, agreed.stderr
    listed = run_cli(*base, "list", "photos", "--json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1
    checked = run_cli(*base, "check")
    assert checked.returncode == 0, checked.stdout
    out = tmp_path / "out"
    out.mkdir()
    for command in (
        ("export", "csv", str(out / "r.csv")),
        ("export", "compare", "1", "1", str(out / "c.png")),
        ("backup", str(out / "b.zip")),
        ("restore", str(out / "b.zip"), str(tmp_path / "restored")),
        ("repair", "rebuild-cache"),
    ):
        done = run_cli(*base, *command)
        assert done.returncode == 0, (command, done.stderr)
    again = run_cli("--library", str(tmp_path / "restored"), "list", "photos", "--json")
    assert again.returncode == 0 and len(json.loads(again.stdout)) == 1


def test_a_wrong_or_missing_passphrase_is_one_sentence_and_exit_2(
    library: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, _ = library
    _env(monkeypatch, TRACKER_PASSPHRASE="not the passphrase")
    done = run_cli("--library", str(lib), "list", "clients")
    assert done.returncode == 2
    assert done.stderr == "tracker: The passphrase is wrong; the library stays locked.\n"
    _env(monkeypatch)  # no variable, and no terminal to type it in (standard input is a pipe)
    done = run_cli("--library", str(lib), "list", "clients")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "TRACKER_PASSPHRASE" in done.stderr


def test_the_recovery_key_unlocks_and_the_passphrase_changes(
    library: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lib, recovery = library
    base = ("--library", str(lib))
    _env(monkeypatch, TRACKER_RECOVERY_KEY=recovery.lower())
    assert run_cli(*base, "--recovery-key", "list", "clients").returncode == 0
    _env(monkeypatch, TRACKER_RECOVERY_KEY="AAAA-BBBB")
    wrong = run_cli(*base, "--recovery-key", "list", "clients")
    assert wrong.returncode == 2 and "not a recovery key" in wrong.stderr
    # (The new passphrase is wrapped with the app's own parameters: this command is slower.)
    _env(monkeypatch, TRACKER_PASSPHRASE=PASS, TRACKER_NEW_PASSPHRASE="a brand new passphrase")
    changed = run_cli(*base, "passphrase", "change")
    assert changed.returncode == 0, changed.stderr
    assert "recovery key stays" in changed.stdout
    assert run_cli(*base, "list", "clients").returncode == 2
    _env(monkeypatch, TRACKER_PASSPHRASE="a brand new passphrase")
    assert run_cli(*base, "list", "clients").returncode == 0
    _env(monkeypatch, TRACKER_PASSPHRASE="a brand new passphrase", TRACKER_NEW_PASSPHRASE="short")
    short = run_cli(*base, "passphrase", "change")
    assert short.returncode == 2 and "too short" in short.stderr


def test_check_reports_a_damaged_encrypted_original(
    library: tuple[Path, str], tmp_path: Path
) -> None:
    lib, _ = library
    base = ("--library", str(lib))
    assert run_cli(*base, "import", str(_photo(tmp_path)), "--area", "Belly").returncode == 0
    stored = next((lib / "originals").glob("*/*"))
    stored.chmod(0o600)
    data = bytearray(stored.read_bytes())
    data[-5] ^= 1
    stored.write_bytes(bytes(data))
    done = run_cli(*base, "check")
    assert done.returncode == 1
    assert "is damaged, cut short, or is another photo's file put in its place" in done.stdout


def test_a_plain_library_has_no_passphrase(tmp_path: Path) -> None:
    lib = tmp_path / "plain"
    assert run_cli("--library", str(lib), "init").returncode == 0
    done = run_cli("--library", str(lib), "passphrase", "change")
    assert done.returncode == 2 and "is not encrypted" in done.stderr
    assert not os.path.exists(lib / "library.key")


def test_a_snapshot_of_it_is_put_back_with_its_key(library: tuple[Path, str]) -> None:
    lib, _ = library
    base = ("--library", str(lib))
    assert run_cli(*base, "list", "clients").returncode == 0  # the day's snapshot, on open
    snapshot = next((lib / "backups").glob("library-*-auto.sqlite3"))
    assert b"SQLite format 3" not in snapshot.read_bytes()
    assert run_cli(*base, "visit", "add", "--date", "2026-11-20").returncode == 0
    done = run_cli(*base, "repair", "restore-snapshot")
    assert done.returncode == 0, done.stderr
    visits = run_cli(*base, "list", "visits", "--json")
    assert visits.returncode == 0 and json.loads(visits.stdout) == []


def test_one_name_for_a_new_passphrase_and_the_old_one_still_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name every command reads a new passphrase from (init --encrypt read only the other).
    _env(monkeypatch, TRACKER_NEW_PASSPHRASE=PASS)
    made = run_cli("--library", str(tmp_path / "new"), "--json", "init", "--encrypt")
    assert made.returncode == 0, made.stderr
    assert encrypted.unlock(tmp_path / "new", passphrase=PASS).library_id
    _env(monkeypatch, TRACKER_NEW_PASSPHRASE="new", TRACKER_PASSPHRASE="old one")
    assert new_passphrase(first=True) == "new" == new_passphrase(first=False)
    # Where a library has no passphrase yet, the older name is read when the new one is unset;
    # where it has one, that name holds the current passphrase, never the new one.
    _env(monkeypatch, TRACKER_PASSPHRASE="old one")
    assert new_passphrase(first=True) == "old one"
    with pytest.raises(
        UsageError, match=r"no terminal to type it in; .* set TRACKER_NEW_PASSPHRASE"
    ):
        new_passphrase(first=False)
