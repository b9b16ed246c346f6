"""`tracker clinic migrate-from FOLDER [--url URL]` and `tracker --library postgresql://… backup`
(issue 21): the sample library moved into a clinic library, checked, its trail holding, every
photo's bytes the folder's; backed up from the server, restored as a folder that passes its
check and moves back in; a damaged original, a clinic library that is not empty and an
encrypted folder going into a plain clinic library refused with one sentence and nothing
written (an encrypted folder moved in: test_cli_clinic_encrypted_migrate.py). Against a throwaway server
(tests/postgres.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from tests import postgres
from tests.conftest import run_cli
from tracker.core.db.models import Photo
from tracker.core.store.server_library import ServerLibrary


@pytest.fixture
def clinic(pg_server: postgres.Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("TRACKER_LIBRARY", raising=False)
    monkeypatch.delenv("TRACKER_CLINIC_PASSWORD", raising=False)
    with pg_server.clinic() as url:
        yield url


def _ok(*args: str) -> Any:
    done = run_cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _refused(*args: str) -> str:
    done = run_cli(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def _small_folder(tmp_path: Path) -> Path:
    """A library of two photos, made through the command line."""
    folder = tmp_path / "lib"
    rng = np.random.default_rng(8)
    shots = []
    for n in range(2):
        shot = tmp_path / f"belly{n}.jpg"
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(shot)
        shots.append(str(shot))
    lib = ("--library", str(folder))
    _ok(*lib, "init")
    _ok(*lib, "import", *shots, "--area", "Belly", "--date", "2026-10-01")
    return folder


def _photo_bytes(url: str) -> dict[str, bytes]:
    lib = ServerLibrary.open_server(url)
    try:
        with lib.session() as s:
            shas = list(s.scalars(select(Photo.sha256)))
            return {sha: lib.blobs.read(s, "original", sha) for sha in shas}
    finally:
        lib.close()


def _originals(folder: Path) -> dict[str, bytes]:
    return {
        p.name.partition(".")[0]: p.read_bytes()
        for p in (folder / "originals").glob("*/*")
        if ".form." not in p.name
    }


def test_the_sample_library_moves_in_backs_up_restores_and_moves_back_in(
    clinic: str, pg_server: postgres.Server, tmp_path: Path
) -> None:
    folder = tmp_path / "sample"
    made = _ok("demo", str(folder))
    done = _ok("clinic", "migrate-from", str(folder), "--url", clinic)
    expected_bytes = sum(len(b) for b in _originals(folder).values())
    assert done == {
        "clients": made["clients"],
        "visits": made["visits"],
        "photos": made["photos"],
        "bytes": expected_bytes,
        "verified": made["photos"],
    }
    said = run_cli("clinic", "migrate-from", str(folder), "--url", clinic)
    assert said.returncode == 2 and "already holds 1 client" in said.stderr  # once only
    lib = ("--library", clinic)
    assert _ok(*lib, "check") == {"ok": True, "photos_checked": made["photos"], "problems": []}
    trail = _ok(*lib, "audit")
    assert trail["problems"] == []
    assert trail["entries"][-1]["action"] == "restored"
    assert trail["entries"][-1]["detail"] == "moved in from the library folder sample"
    assert len(_ok(*lib, "list", "photos")) == made["photos"]
    assert len(_ok(*lib, "list", "visits")) == made["visits"]
    assert _photo_bytes(clinic) == _originals(folder)

    archive = tmp_path / "clinic.zip"
    backed = _ok(*lib, "backup", str(archive))
    assert backed["files"] == 1 + made["photos"] and backed["left_out"] == []
    assert _ok(*lib, "audit")["entries"][-1]["action"] == "backed-up"
    back = tmp_path / "back"
    restored = _ok("restore", str(archive), str(back))
    assert restored["photos"] == made["photos"] and restored["audit"] == []
    assert _ok("--library", str(back), "check")["ok"] is True
    assert _ok("--library", str(back), "audit")["problems"] == []
    assert _originals(back) == _originals(folder)

    with pg_server.clinic() as again:
        moved = _ok("clinic", "migrate-from", str(back), "--url", again)
        assert {k: moved[k] for k in ("clients", "visits", "photos")} == {
            k: made[k] for k in ("clients", "visits", "photos")
        }
        assert _ok("--library", again, "check")["ok"] is True
        assert _ok("--library", again, "audit")["problems"] == []
        assert _photo_bytes(again) == _originals(folder)


def test_a_damaged_original_is_refused_naming_it_and_the_server_stays_empty(
    clinic: str, tmp_path: Path
) -> None:
    folder = _small_folder(tmp_path)
    photos = _ok("--library", str(folder), "list", "photos")
    victim = max(photos, key=lambda p: p["id"])
    (path,) = folder.glob(f"originals/*/{victim['sha256']}.*")
    path.chmod(0o600)
    path.write_bytes(path.read_bytes()[:-10])
    said = _refused("clinic", "migrate-from", str(folder), "--url", clinic)
    relpath = path.relative_to(folder).as_posix()
    assert f"photo {victim['id']}'s original {relpath} has changed" in said
    assert _ok("--library", clinic, "list", "clients") == []
    assert _photo_bytes(clinic) == {}


def test_a_clinic_library_with_clients_is_refused_and_left_as_it_was(
    clinic: str, tmp_path: Path
) -> None:
    folder = _small_folder(tmp_path)
    shot = tmp_path / "other.jpg"
    Image.new("RGB", (64, 48), (200, 120, 90)).save(shot)
    _ok("--library", clinic, "import", str(shot), "--area", "Hips")
    before = _photo_bytes(clinic)
    said = _refused("clinic", "migrate-from", str(folder), "--url", clinic)
    assert "already holds 1 client" in said and "nothing was written" in said
    assert _photo_bytes(clinic) == before
    assert [c["name"] for c in _ok("--library", clinic, "list", "clients")] == ["Me"]


def test_an_encrypted_folder_or_no_address_is_refused_with_a_sentence(
    clinic: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said = _refused("clinic", "migrate-from", str(tmp_path))
    assert "--url postgresql://" in said
    folder = tmp_path / "locked"
    monkeypatch.setenv("TRACKER_NEW_PASSPHRASE", "a passphrase for the test 41")
    made = run_cli("--library", str(folder), "init", "--encrypt")
    assert made.returncode == 0, made.stderr
    before = hashlib.sha256((folder / "library.sqlite3").read_bytes()).hexdigest()
    said = _refused("clinic", "migrate-from", str(folder), "--url", clinic)
    assert "is encrypted and the clinic library" in said and "--allow-unencrypted" in said
    assert hashlib.sha256((folder / "library.sqlite3").read_bytes()).hexdigest() == before
    assert _ok("--library", clinic, "list", "clients") == []
