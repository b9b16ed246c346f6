"""`tracker clinic migrate-from FOLDER` of an encrypted library folder (issue 21): unlocked with
its own passphrase ($TRACKER_FOLDER_PASSPHRASE or typed; --folder-recovery-key), its originals
and signed forms decrypted on the workstation, checked by their SHA-256 and stored as the
clinic library stores them: encrypted with the clinic's key when it is encrypted; into a plain
clinic library only with --allow-unencrypted. A wrong passphrase, a tampered file and a plain
clinic library without the flag are refused with one sentence, nothing written on the server
and the folder's database unchanged. Against a throwaway server (tests/postgres.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select, text

from tests import postgres
from tests.conftest import run_cli
from tracker.core.crypto import keys as crypto_keys
from tracker.core.crypto.cipher import FileCipher
from tracker.core.db import server
from tracker.core.db.models import Consent, Photo
from tracker.core.store import server_keys, unlock_log
from tracker.core.store.photos import PhotoStore
from tracker.core.store.server_library import ServerLibrary

FOLDER_PASS = "Grüße aus Köln, 東京 🌸 ünïcode"
CLINIC_PASS = "the clinic's own passphrase, çà et là"
CHEAP = crypto_keys.MIN_KDF  # the weakest allowed: fast


@pytest.fixture(autouse=True)
def _no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TRACKER_LIBRARY",
        "TRACKER_CLINIC_PASSWORD",
        "TRACKER_PASSPHRASE",
        "TRACKER_RECOVERY_KEY",
        "TRACKER_NEW_PASSPHRASE",
        "TRACKER_FOLDER_PASSPHRASE",
        "TRACKER_FOLDER_RECOVERY_KEY",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def plain_clinic(pg_server: postgres.Server) -> Iterator[str]:
    with pg_server.clinic() as url:
        yield url


@pytest.fixture
def locked_clinic(pg_server: postgres.Server) -> Iterator[str]:
    with pg_server.clinic() as url:
        engine = server.make_pg_engine(url)
        try:
            server_keys.encrypt_new(engine, CLINIC_PASS, CHEAP)
        finally:
            engine.dispose()
        yield url


def _ok(*args: str) -> Any:
    done = run_cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _refused(*args: str) -> str:
    done = run_cli(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    """An encrypted library folder of two photos and a consent with a signed form, made
    through the command line; its recovery key."""
    root = tmp_path / "locked"
    rng = np.random.default_rng(21)
    shots = []
    for n in range(2):
        shot = tmp_path / f"thigh{n}.jpg"
        Image.fromarray(rng.integers(0, 255, (90, 120, 3), dtype=np.uint8)).save(shot)
        shots.append(str(shot))
    form = tmp_path / "signed.png"
    Image.fromarray(rng.integers(0, 255, (40, 30, 3), dtype=np.uint8)).save(form)
    monkeypatch.setenv("TRACKER_NEW_PASSPHRASE", FOLDER_PASS)
    made = _ok("--library", str(root), "init", "--encrypt")
    monkeypatch.delenv("TRACKER_NEW_PASSPHRASE")
    monkeypatch.setenv("TRACKER_PASSPHRASE", FOLDER_PASS)
    lib = ("--library", str(root))
    _ok(*lib, "import", *shots, "--area", "Thighs", "--date", "2026-09-14")
    _ok(*lib, "consent", "add", "care", "--form", str(form))
    monkeypatch.delenv("TRACKER_PASSPHRASE")
    (root / unlock_log.UNLOCK_LOG).unlink(missing_ok=True)  # entered by those commands
    return root, str(made["recovery_key"])


def _plain_files(root: Path) -> dict[str, bytes]:
    """The folder's originals and forms, decrypted: sha256 -> bytes."""
    store = PhotoStore(root, FileCipher(crypto_keys.unlock(root, FOLDER_PASS)))
    out = {}
    for path in (root / "originals").glob("*/*"):
        sha, _, ext = path.name.partition(".")
        out[sha] = store.read_original(sha, ext)
    return out


def _server_files(url: str, passphrase: str | None) -> dict[str, bytes]:
    lib = ServerLibrary.open_server(url, passphrase=passphrase)
    try:
        with lib.session() as s:
            shas = [*s.scalars(select(Photo.sha256)), *s.scalars(select(Consent.form_sha256))]
            return {str(sha): lib.blobs.read(s, "original", str(sha)) for sha in shas if sha}
    finally:
        lib.close()


def _stored_chunks(url: str) -> bytes:
    """Every stored chunk as the server holds it."""
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            return b"".join(bytes(d) for d in conn.scalars(text("SELECT data FROM blob_chunk")))
    finally:
        engine.dispose()


def _digest(root: Path) -> str:
    return hashlib.sha256((root / "library.sqlite3").read_bytes()).hexdigest()


def test_an_encrypted_folder_moves_into_an_encrypted_clinic_sealed_with_the_clinics_key(
    folder: tuple[Path, str], locked_clinic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _recovery = folder
    before = _digest(root)
    expected = _plain_files(root)
    assert len(expected) == 3  # two photos and the signed form
    monkeypatch.setenv("TRACKER_FOLDER_PASSPHRASE", FOLDER_PASS)
    monkeypatch.setenv("TRACKER_PASSPHRASE", CLINIC_PASS)
    done = run_cli("clinic", "migrate-from", str(root), "--url", locked_clinic)
    assert done.returncode == 0, done.stderr
    assert "3 files" in done.stdout and "encrypted with the clinic library's key" in done.stdout
    assert FOLDER_PASS not in done.stdout + done.stderr
    assert _server_files(locked_clinic, CLINIC_PASS) == expected
    stored = _stored_chunks(locked_clinic)
    for data in expected.values():
        assert data[:64] not in stored  # the server holds none of them in plain
    lib = ("--library", locked_clinic)
    assert _ok(*lib, "check")["ok"] is True
    trail = _ok(*lib, "audit")
    assert trail["problems"] == []
    moved = [e for e in trail["entries"] if e["action"] == "restored"]
    assert moved[-1]["detail"] == "moved in from the encrypted library folder locked"
    assert [p["area"] for p in _ok(*lib, "list", "photos")] == ["Thighs", "Thighs"]
    assert _digest(root) == before  # the folder's database was only read
    noted = (root / unlock_log.UNLOCK_LOG).read_text("ascii").split()
    assert noted[0] == unlock_log.UNLOCKED  # for the folder's own trail, as every unlock


def test_an_encrypted_folder_into_a_plain_clinic_is_refused_unless_allowed(
    folder: tuple[Path, str], plain_clinic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _recovery = folder
    before = _digest(root)
    # Refused before the folder's passphrase is asked (none is set, and there is no terminal).
    said = _refused("clinic", "migrate-from", str(root), "--url", plain_clinic)
    assert f"The library at {root} is encrypted and the clinic library" in said
    assert "--allow-unencrypted" in said and "nothing was written" in said
    assert not (root / unlock_log.UNLOCK_LOG).exists()
    assert _ok("--library", plain_clinic, "list", "clients") == []
    # Allowed, but its passphrase is still needed: without one, refused by a sentence.
    said = _refused(
        "clinic", "migrate-from", str(root), "--url", plain_clinic, "--allow-unencrypted"
    )
    assert "TRACKER_FOLDER_PASSPHRASE" in said
    monkeypatch.setenv("TRACKER_FOLDER_PASSPHRASE", FOLDER_PASS)
    done = run_cli(
        "clinic", "migrate-from", str(root), "--url", plain_clinic, "--allow-unencrypted"
    )
    assert done.returncode == 0, done.stderr
    assert "kept in plain" in done.stdout
    assert _server_files(plain_clinic, None) == _plain_files(root)
    assert _ok("--library", plain_clinic, "check")["ok"] is True
    assert _digest(root) == before


def test_a_wrong_passphrase_is_refused_and_noted_then_the_recovery_key_opens_it(
    folder: tuple[Path, str], plain_clinic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, recovery = folder
    args = ("clinic", "migrate-from", str(root), "--url", plain_clinic, "--allow-unencrypted")
    # The clinic's variable is not the folder's: it is never tried on the folder.
    monkeypatch.setenv("TRACKER_PASSPHRASE", FOLDER_PASS)
    assert "TRACKER_FOLDER_PASSPHRASE" in _refused(*args)
    monkeypatch.setenv("TRACKER_FOLDER_PASSPHRASE", "Grüße aus Köln, not it")
    said = _refused(*args)
    assert "The passphrase is wrong; the library stays locked." in said
    assert (root / unlock_log.UNLOCK_LOG).read_text("ascii").split()[0] == unlock_log.FAILED
    assert _ok("--library", plain_clinic, "list", "clients") == []
    monkeypatch.delenv("TRACKER_FOLDER_PASSPHRASE")
    monkeypatch.setenv("TRACKER_FOLDER_RECOVERY_KEY", recovery)
    moved = _ok(*args, "--folder-recovery-key")
    assert moved["photos"] == 2 and moved["verified"] == 3
    # The failed attempt and this unlock wait in the folder for its own audit trail.
    monkeypatch.setenv("TRACKER_PASSPHRASE", FOLDER_PASS)
    actions = [e["action"] for e in _ok("--library", str(root), "audit")["entries"]]
    assert actions[-3:] == ["unlock-failed", "unlocked", "unlocked"]  # the last: this one


def test_a_tampered_encrypted_original_is_refused_naming_it(
    folder: tuple[Path, str], locked_clinic: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, _recovery = folder
    monkeypatch.setenv("TRACKER_PASSPHRASE", FOLDER_PASS)
    photos = _ok("--library", str(root), "list", "photos")
    monkeypatch.setenv("TRACKER_PASSPHRASE", CLINIC_PASS)
    victim = max(photos, key=lambda p: p["id"])
    (path,) = root.glob(f"originals/*/{victim['sha256']}.*")
    data = bytearray(path.read_bytes())
    data[-40] ^= 0x01  # one bit of its ciphertext
    path.chmod(0o600)
    path.write_bytes(bytes(data))
    monkeypatch.setenv("TRACKER_FOLDER_PASSPHRASE", FOLDER_PASS)
    said = _refused("clinic", "migrate-from", str(root), "--url", locked_clinic)
    relpath = path.relative_to(root).as_posix()
    assert f"photo {victim['id']}'s original {relpath} has changed" in said
    assert _server_files(locked_clinic, CLINIC_PASS) == {}
