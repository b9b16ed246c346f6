"""``tracker encrypt`` (issue 20): a plain library encrypted in place, every photo, rating and
note readable after and nothing of them readable in its folder; refused with a sentence, the
library untouched, when it cannot be done; killed at any moment, the library opens plain
with all its data or encrypted with all its data, and its check is clean."""

from __future__ import annotations

import datetime as dt
import io
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import REPO, run_cli
from tests.core.care.test_backup_consistency import jpegs
from tests.core.store.test_encrypted_library import CANARY, PASS, _leaks, _photos
from tests.helpers import add_visit, import_files, rate
from tracker.core.care import encrypt
from tracker.core.care.check import check_library
from tracker.core.care.encrypt import encrypt_library
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.crypto.layout import is_encrypted
from tracker.core.db.models import Photo, RaterRole, Rating
from tracker.core.domain.consent import Action
from tracker.core.errors import (
    DiskFull,
    FolderReadOnly,
    LibraryLocked,
    PassphraseNeeded,
    UsageError,
    ValidationError,
)
from tracker.core.queries import listing
from tracker.core.services import audit
from tracker.core.store import encrypted, encrypting
from tracker.core.store import library as opening
from tracker.core.store.library import Library

DAY = dt.date(2026, 11, 2)


def _plain(root: Path, photos: list[Path]) -> list[str]:
    """A plain library with ``photos``, a visit whose notes hold the canary, a rating, and
    every preview made; the photos' hashes."""
    with Library.open(root, create=True) as lib:
        report = import_files(lib, photos, area="Belly", client="Ana Ruiz")
        add_visit(lib, day=DAY, client="Ana Ruiz", notes=f"Redness {CANARY}", area="Belly")
        rate(
            lib,
            area="Belly",
            day=DAY,
            role=RaterRole.PATIENT,
            values={"colour": 3},
            client="Ana Ruiz",
        )
        shas = [i.sha256 for i in report.imported]
        lib.make_previews(shas)
    with Library.open(root) as lib:  # a snapshot of the plain database in backups/
        pass
    return shas


def _readable(lib: Library, shas: list[str]) -> None:
    """Everything the plain library held, read back."""
    assert listing.counts(lib)["photos"] == len(shas)
    assert CANARY in str(listing.visits(lib))
    with lib.session() as s:
        assert s.scalar(select(func.count()).select_from(Rating)) == 1
    for sha in shas:
        assert Image.open(io.BytesIO(lib.derived("previews", sha))).size[0] > 0
        assert Image.open(io.BytesIO(lib.derived("thumbs", sha))).size[0] > 0
    with lib.session() as s:
        stored = {sha: ext for sha, ext in s.execute(select(Photo.sha256, Photo.ext))}
    assert sorted(stored) == sorted(shas)
    assert all(lib.store.original_intact(sha, ext) for sha, ext in stored.items())
    assert check_library(lib).problems == []


def test_a_plain_library_is_encrypted_in_place(tmp_path: Path) -> None:
    photos = _photos(tmp_path)
    originals = [p.read_bytes() for p in photos]
    root = tmp_path / "lib"
    shas = _plain(root, photos)
    with Library.open(root) as lib:
        audit.record(lib, Action.OPENED)  # the plain library's anchor, unsealed
    # The search finds the plain photos and notes where they are: it can fail.
    assert _leaks(root, originals[:1])
    seen: list[tuple[int, int]] = []
    recovery = encrypt_library(root, PASS, lambda d, t: seen.append((d, t)), kdf=MIN_KDF)
    assert seen[-1][0] == seen[-1][1] == len(seen)
    assert is_encrypted(root)
    assert not (root / "tmp" / "encrypting").exists()
    assert _leaks(root, originals) == []
    with pytest.raises(PassphraseNeeded):
        Library.open(root)
    with Library.open(root, keys=encrypted.unlock(root, passphrase=PASS)) as lib:
        _readable(lib, shas)
        assert audit.verify(lib) == []  # the chain and its anchor, sealed by the new key
    with Library.open(root, keys=encrypted.unlock(root, recovery_key=recovery)) as lib:
        assert listing.counts(lib)["photos"] == 3
    assert _leaks(root, originals) == []  # nor after the snapshot its open made


def test_refusals_leave_the_library_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lib"
    _plain(root, jpegs(tmp_path / "in", 2, 1))
    with pytest.raises(ValidationError, match="too short"):
        encrypt_library(root, "short", kdf=MIN_KDF)
    with Library.open(root), pytest.raises(LibraryLocked, match="open in another copy"):
        encrypt_library(root, PASS, kdf=MIN_KDF)
    monkeypatch.setattr(
        encrypt.shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(1, 1, 1024)
    )
    with pytest.raises(DiskFull, match=r"^There is not enough free space to encrypt"):
        encrypt_library(root, PASS, kdf=MIN_KDF)
    monkeypatch.undo()
    monkeypatch.setattr(opening, "_writable", lambda _root, _db: False)  # (tests run as root)
    with pytest.raises(FolderReadOnly, match="cannot be written to"):
        encrypt_library(root, PASS, kdf=MIN_KDF)
    monkeypatch.undo()
    (root / "quarantine").mkdir()
    (root / "quarantine" / "stray.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(UsageError, match="quarantine/ holds 1 file"):
        encrypt_library(root, PASS, kdf=MIN_KDF)
    (root / "quarantine" / "stray.jpg").unlink()
    assert not is_encrypted(root)
    assert not (root / "tmp" / "encrypting").exists()
    with Library.open(root) as lib:
        assert listing.counts(lib)["photos"] == 2
        assert check_library(lib).problems == []
    encrypt_library(root, PASS, kdf=MIN_KDF)
    with pytest.raises(UsageError, match="is encrypted already; nothing was changed"):
        encrypt_library(root, PASS, kdf=MIN_KDF)


class _Killed(BaseException):
    """A kill, as far as the code running is concerned: nothing after it runs."""


def test_killed_at_each_step_of_moving_in_place_the_next_open_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After the commit the staged files are moved in place by renames: a kill before any of
    them leaves an encrypted library that the next open finishes."""
    template = tmp_path / "template"
    photos = jpegs(tmp_path / "in", 3, 2)
    originals = [p.read_bytes() for p in photos]
    shas = _plain(template, photos)
    real = os.replace
    step = 0
    while True:
        root = tmp_path / f"lib{step}"
        shutil.copytree(template, root)
        calls = [0]

        def replace(src: Any, dst: Any, _calls: list[int] = calls, _at: int = step) -> None:
            if _calls[0] == _at:
                raise _Killed
            _calls[0] += 1
            real(src, dst)

        def killed_midway(at: Path, _replace: Callable[[Any, Any], None] = replace) -> None:
            with monkeypatch.context() as m:
                m.setattr(os, "replace", _replace)
                encrypting.roll_forward(at)

        monkeypatch.setattr(encrypt, "roll_forward", killed_midway)
        try:
            encrypt_library(root, PASS, kdf=MIN_KDF)
            finished = True
        except _Killed:
            finished = False
        monkeypatch.undo()
        assert is_encrypted(root)
        with Library.open(root, keys=encrypted.unlock(root, passphrase=PASS)) as lib:
            _readable(lib, shas)
        assert not (root / "tmp" / "encrypting").exists()
        if finished or step == 0:  # (slow: every byte of every file is looked at)
            assert _leaks(root, originals) == []
        if finished:
            break
        step += 1
    assert step >= 4  # originals out and in, cache out and in, a snapshot, the database


_CHILD = """
import sys
from pathlib import Path
from tracker.core.care.encrypt import encrypt_library
from tracker.core.crypto.keys import MIN_KDF
import time
print("go", flush=True)
start = time.perf_counter()
encrypt_library(Path(sys.argv[1]), sys.argv[2], kdf=MIN_KDF)
print("done", time.perf_counter() - start, flush=True)
"""


def _run(root: Path, delay: Callable[[], float] | None) -> float | None:
    """Encrypt ``root`` in a child process, killed ``delay()`` seconds after it starts the
    work (None: not killed); how long the work took when it finished, else None."""
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(root), PASS],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "go"
    if delay is not None:
        time.sleep(delay())
        child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    rest = child.stdout.read()
    child.stdout.close()
    done = rest.split()
    return float(done[1]) if done[:1] == ["done"] else None


def test_killed_at_random_moments_it_opens_plain_or_encrypted_never_half(tmp_path: Path) -> None:
    template = tmp_path / "template"
    photos = jpegs(tmp_path / "in", 16, 3, size=(800, 600))
    shas = _plain(template, photos)
    runs = []
    for attempt in range(2):  # the faster of two: the first may start cold
        timed = tmp_path / f"timed{attempt}"
        shutil.copytree(template, timed)
        took = _run(timed, None)
        assert took is not None
        runs.append(took)
    took = min(runs)
    rng = random.Random(20)
    kills = 8
    outcomes: dict[str, int] = {}
    for n in range(kills):
        root = tmp_path / f"lib{n}"
        shutil.copytree(template, root)
        # One kill in each eighth of the run, somewhere in it: every phase is hit.
        _run(root, lambda n=n: 1.1 * took * (n + rng.random()) / kills)  # type: ignore[misc]
        staged = (root / "tmp" / "encrypting").exists()
        state = "encrypted" if is_encrypted(root) else "plain"
        outcome = f"{state}, {'staging left' if staged else 'nothing staged'}"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        keys = encrypted.unlock(root, passphrase=PASS) if state == "encrypted" else None
        with Library.open(root, keys=keys) as lib:
            _readable(lib, shas)
        assert not (root / "tmp" / "encrypting").exists()
        shutil.rmtree(root)
    print(f"{took:.2f} s to encrypt {len(shas)} photos in a child; kills: {outcomes}")
    assert outcomes.get("plain, staging left", 0) >= 2  # killed while the copy was being made


def test_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "lib"
    _plain(root, jpegs(tmp_path / "in", 2, 4))
    monkeypatch.setenv("TRACKER_NEW_PASSPHRASE", PASS)
    monkeypatch.setenv("TRACKER_PASSPHRASE", PASS)
    done = run_cli("--library", str(root), "--json", "encrypt")
    assert done.returncode == 0, done.stderr
    assert '"encrypted": true' in done.stdout and '"recovery_key": "' in done.stdout
    again = run_cli("--library", str(root), "encrypt")
    assert again.returncode == 2
    assert "is encrypted already; nothing was changed" in again.stderr
    check = run_cli("--library", str(root), "check")
    assert check.returncode == 0, check.stderr
