"""`tracker restore ARCHIVE.zip ADDRESS` and `tracker demo ADDRESS` (issue 21): a backup or the
sample library made in an empty clinic library, through a temporary folder that is removed
afterwards; a clinic library that is not empty, a login that is not its owner and a forced
backup missing originals are refused with a sentence and nothing written. Against a throwaway
PostgreSQL server (tests/postgres.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image

from tests import postgres
from tests.conftest import REPO, run_cli
from tracker.core.db import roles, server


@pytest.fixture
def clinic(pg_server: postgres.Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("TRACKER_LIBRARY", raising=False)
    with pg_server.clinic() as url:
        yield url


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The commands' temporary folder (TMPDIR), to see that nothing is left in it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def _ok(*args: str) -> Any:
    done = run_cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _backup(tmp_path: Path, photos: int = 3) -> tuple[Path, Path]:
    """A folder library of ``photos`` photos and its backup archive."""
    folder = tmp_path / "library"
    rng = np.random.default_rng(3)
    files = []
    for n in range(photos):
        path = tmp_path / f"belly{n}.jpg"
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(path)
        files.append(str(path))
    _ok("--library", str(folder), "import", *files, "--client", "Ana", "--area", "Belly")
    _ok("--library", str(folder), "rate", "--client", "Ana", "--area", "Belly", "--date",
        _ok("--library", str(folder), "list", "visits")[0]["date"], "--rater", "patient",
        "colour=4", "texture=3", "depth=2")  # fmt: skip
    archive = tmp_path / "backup.zip"
    _ok("--library", str(folder), "backup", str(archive))
    return folder, archive


def _rows(url: str) -> dict[str, int]:
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table: int(conn.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar() or 0)
                for table in ("client", "photo", "rating", "audit", "blob")
            }
    finally:
        engine.dispose()


def test_a_backup_is_restored_into_an_empty_clinic_library(
    clinic: str, tmp_path: Path, temp: Path
) -> None:
    folder, archive = _backup(tmp_path)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    left = temp / f"stria-move-in-{int(gone.stdout)}-x1y2" / "library"  # a killed one's
    left.mkdir(parents=True)
    (left / "library.sqlite3").write_bytes(b"names and notes")
    done = _ok("restore", str(archive), clinic)
    clients = len(_ok("--library", str(folder), "list", "clients"))
    assert (done["clients"], done["photos"], done["verified"]) == (clients, 3, 3)
    assert not list(temp.iterdir())  # the temporary library is gone
    there = ("--library", clinic)
    assert [p["original_name"] for p in _ok(*there, "list", "photos")] == [
        p["original_name"] for p in _ok("--library", str(folder), "list", "photos")
    ]
    assert len(_ok(*there, "list", "ratings")) == 1
    assert _ok(*there, "check") == {"ok": True, "photos_checked": 3, "problems": []}
    trail = _ok(*there, "audit")
    assert trail["entries"][-1]["action"] == "restored"
    assert trail["entries"][-1]["detail"] == "restored from the backup backup.zip"
    assert trail["problems"] == []


def test_a_restore_into_a_clinic_library_that_holds_records_is_refused_first(
    clinic: str, tmp_path: Path, temp: Path
) -> None:
    _folder, archive = _backup(tmp_path, photos=1)
    _ok("restore", str(archive), clinic)
    before = _rows(clinic)
    again = run_cli("restore", str(archive), clinic)
    assert again.returncode == 2 and again.stdout == ""
    assert "already holds" in again.stderr and "nothing was written" in again.stderr
    assert _rows(clinic) == before
    assert not list(temp.iterdir())


def test_only_the_clinic_librarys_owner_restores_into_it(
    clinic: str, pg_server: postgres.Server, tmp_path: Path, temp: Path
) -> None:
    _folder, archive = _backup(tmp_path, photos=1)
    name = f"admin_{uuid.uuid4().hex[:8]}"
    owner = server.make_pg_engine(clinic)
    try:
        roles.add_user(owner, name, roles.ADMIN, "not asked on this socket")
        before = _rows(clinic)
        refused = run_cli("restore", str(archive), clinic.replace("postgres@", f"{name}@"))
        assert refused.returncode == 2, refused.stderr
        assert f"{name} may not move a library into" in refused.stderr
        assert _rows(clinic) == before
        assert not list(temp.iterdir())
    finally:
        owner.dispose()
        pg_server.admin(f"DROP OWNED BY {name}")
        pg_server.admin(f"DROP ROLE {name}")


def test_a_forced_backup_missing_originals_is_not_restored_into_a_clinic_library(
    clinic: str, tmp_path: Path, temp: Path
) -> None:
    folder, _archive = _backup(tmp_path, photos=2)
    next((folder / "originals").rglob("*.jpg")).unlink()
    forced = tmp_path / "forced.zip"
    _ok("--library", str(folder), "backup", str(forced), "--force")
    before = _rows(clinic)
    refused = run_cli("restore", str(forced), clinic)
    assert refused.returncode == 2, refused.stderr
    assert "forced backup that left out 1 photo's original" in refused.stderr
    assert _rows(clinic) == before
    assert not list(temp.iterdir())


def test_the_sample_library_is_made_in_an_empty_clinic_library(
    clinic: str, tmp_path: Path, temp: Path
) -> None:
    made = run_cli("demo", clinic, "--json", timeout=300)
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert summary["library"].startswith(clinic.split("?")[0] + "?")
    assert not list(temp.iterdir())
    photos = _ok("--library", clinic, "list", "photos")
    assert len(photos) == summary["photos"] > 0
    assert _ok("--library", clinic, "check")["ok"] is True
    folder = run_cli("--library", str(tmp_path / "no"), "restore", str(tmp_path / "x.zip"),
                     str(tmp_path / "dest"), "--allow-unencrypted")  # fmt: skip
    assert folder.returncode == 2 and "--allow-unencrypted is for a restore into" in folder.stderr


def test_a_demo_stopped_by_sigterm_leaves_no_temporary_library(
    clinic: str, temp: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    demo = subprocess.Popen(
        [sys.executable, "-m", "tracker", "demo", clinic],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(temp.glob("stria-move-in-*/library/*")) and time.monotonic() < deadline:
            assert demo.poll() is None, demo.communicate()
            time.sleep(0.05)
        assert list(temp.glob("stria-move-in-*/library/*")), "the demo made no library"
        demo.send_signal(signal.SIGTERM)
        _out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 128 + signal.SIGTERM, err
    assert not list(temp.iterdir())  # removed, photos and database
    assert _rows(clinic)["photo"] == 0
