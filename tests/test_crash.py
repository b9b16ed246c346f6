"""Killed at any instant, an import leaves each photo either fully imported or absent.

A real ``tracker import`` process is killed with SIGKILL at random moments, again and again,
and after each kill the library is reopened (which finishes or undoes the interrupted photo)
and checked from the outside: database rows, files on disk and their hashes must agree.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from tests import helpers as h
from tests.conftest import REPO
from tracker.core.errors import LibraryError
from tracker.core.queries import browse, listing
from tracker.core.services import clients
from tracker.core.store.library import Library
from tracker.core.store.photos import RecoveryReport

KILLS = int(os.environ.get("TRACKER_CRASH_KILLS", "15"))
BATCH = 24  # photos per import: enough that the import, not the start-up, is most of a run


def _photos(folder: Path, count: int, seed: int) -> list[Path]:
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    paths = []
    for i in range(count):
        im = Image.effect_noise((640, 480), rng.uniform(20, 80)).convert("RGB")
        im = Image.merge(
            "RGB",
            [
                c.point(lambda v, k=k: (v + k) % 256)
                for c, k in zip(im.split(), (rng.randrange(256), 0, 40), strict=True)
            ],
        )
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2025:0{1 + i % 9}:1{i % 10} 10:00:00"
        path = folder / f"IMG_{seed}_{i:03}.jpg"
        im.save(path, quality=92, exif=exif)
        paths.append(path)
    return paths


def _start_import(lib: Path, files: list[Path]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tracker",
            "--library",
            str(lib),
            "import",
            *map(str, files),
            "--area",
            "Lower abdomen",
            "--json",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def assert_consistent(root: Path) -> int:
    """Reopen the library and check rows and files agree exactly; returns the photo count."""
    with Library.open(root) as lib:
        report = h.check(lib)
        assert report.ok, report.problems
        rows = {p["sha256"] for p in h.list_photos(lib)}
    on_disk = {}
    for path in (root / "originals").rglob("*"):
        if path.is_file():
            on_disk[path.name.split(".")[0]] = hashlib.sha256(path.read_bytes()).hexdigest()
            assert not os.access(path, os.W_OK) or os.geteuid() == 0
            assert path.stat().st_mode & 0o222 == 0
    assert set(on_disk) == rows
    assert all(name == digest for name, digest in on_disk.items())
    assert list((root / "tmp").iterdir()) == []
    return len(rows)


def test_sigkill_at_random_moments_never_leaves_half_an_import(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    rng = random.Random(20261124)
    # One uninterrupted run tells how long an import takes here, and a run given no files how
    # long the program takes to start: the kills are spread over the time in between, when
    # photos are being imported (the import itself is the short part: about 0.3 s of 0.7 s).
    files = _photos(tmp_path / "warmup", BATCH, seed=0)
    started = time.monotonic()
    proc = _start_import(root, files)
    assert proc.wait(timeout=120) == 0
    duration = time.monotonic() - started
    expected = assert_consistent(root)
    assert expected == BATCH
    started = time.monotonic()
    _start_import(root, []).wait(timeout=120)  # refused at once: no files given
    startup = min(time.monotonic() - started, duration / 2)

    killed_midway = 0
    for round_no in range(1, KILLS + 1):
        files = _photos(tmp_path / f"batch{round_no}", BATCH, seed=round_no)
        proc = _start_import(root, files)
        time.sleep(
            rng.uniform(startup, duration)
        )  # the moment of the kill is the point of the test
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        count = assert_consistent(root)
        assert expected <= count <= expected + BATCH
        killed_midway += expected < count < expected + BATCH
        expected = count
    # The kills must really land during imports, not only before or after them.
    assert killed_midway >= 1


def test_a_crash_between_commit_and_move_is_rolled_forward(tmp_path: Path) -> None:
    """The narrowest window: the row is committed but the original is still staged."""
    root = tmp_path / "lib"
    src = _photos(tmp_path / "src", 1, seed=7)[0]
    with Library.open(root, create=True) as lib:
        real_commit = lib.store.commit_staged
        lib.store.commit_staged = lambda staged: (_ for _ in ()).throw(KeyboardInterrupt())  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            h.import_files(lib, [src], area="Thigh")
        lib.store.commit_staged = real_commit  # type: ignore[method-assign]
        # The process dies here: it does not get to tidy up when the library is closed.
        lib.store.recover = lambda is_committed: RecoveryReport()  # type: ignore[method-assign]
    staged = list((root / "tmp").iterdir())
    assert len(staged) == 1 and staged[0].name.endswith(".staged")
    assert assert_consistent(root) == 1
    with Library.open(root) as lib:
        (photo,) = h.list_photos(lib)
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    assert photo["sha256"] == digest
    assert (root / "originals" / digest[:2] / f"{digest}.jpg").read_bytes() == src.read_bytes()


def test_a_failed_transaction_leaves_the_library_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tracker.core.services import imports as importer

    root = tmp_path / "lib"
    src = _photos(tmp_path / "src", 1, seed=8)[0]

    def fail(*_args: object) -> None:
        raise OSError("simulated I/O error")

    monkeypatch.setattr(importer._Batch, "_visit_for", fail)
    with Library.open(root, create=True) as lib:
        # Something unforeseen with one file refuses that file; the batch would go on.
        report = h.import_files(lib, [src], area="Thigh")
        assert [r.file for r in report.rejected] == [str(src)]
        assert "something unexpected went wrong with it (OSError)" in report.rejected[0].error
        assert h.list_photos(lib) == []
        assert listing.areas(lib) == []  # the area made for the photo was rolled back too
    assert list((root / "tmp").iterdir()) == []
    assert list((root / "originals").rglob("*.jpg")) == []


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (errno.ENOSPC, "The disk holding the library is full."),
        (errno.EIO, "Writing to the library failed"),
    ],
)
def test_a_full_disk_or_io_error_during_import_stops_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str
) -> None:
    """The third photo cannot be written: the two before it stay, nothing else is left."""
    root = tmp_path / "lib"
    files = _photos(tmp_path / "src", 5, seed=9)
    with Library.open(root, create=True) as lib:
        real_write = os.write
        target = hashlib.sha256(files[2].read_bytes()).hexdigest()

        def failing_write(fd: int, data: object) -> int:
            if target in os.readlink(f"/proc/self/fd/{fd}"):
                raise OSError(code, os.strerror(code))
            return real_write(fd, data)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "write", failing_write)
        with pytest.raises(LibraryError) as caught:
            h.import_files(lib, files, area="Thigh", workers=1)
        monkeypatch.undo()
        message = str(caught.value)
        assert (
            words in message
            and "The import stopped at IMG_9_002.jpg: 2 photos before it were imported" in message
        )
        assert len(h.list_photos(lib)) == 2
    assert assert_consistent(root) == 2


EDITS = """
import datetime as dt, random, sys
from tracker.core.errors import LibraryError
from tracker.core.store.library import Library
from tracker.core.db.models import RaterRole, VisitKind
from tracker.core.queries import browse
from tracker.core.services import ratings, visits
lib = Library.open(sys.argv[1])
me = browse.clients(lib)[0].id
area = browse.areas(lib, me)[0].id
rng = random.Random(int(sys.argv[2]))
print("ready", flush=True)
day = dt.date(2020, 1, 1)
while True:
    day += dt.timedelta(days=1)
    vid = visits.add_visit(lib, me, day, VisitKind.CHECK_IN, "note " * rng.randint(1, 50))
    visits.set_treatment(lib, vid, area, {"device": "pen", "passes": rng.randint(1, 20)})
    ratings.rate(lib, vid, area, RaterRole.PATIENT, {"colour": rng.randint(1, 10), "depth": 5})
    if rng.random() < 0.3:
        visits.remove_visit(lib, vid)
"""


def test_sigkill_during_edits_never_leaves_half_an_edit(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    with Library.open(root, create=True) as lib:
        clients.add_area(lib, browse.clients(lib)[0].id, "Hips")
    rng = random.Random(5)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for round_no in range(KILLS // 2 + 3):
        proc = subprocess.Popen(
            [sys.executable, "-c", EDITS, str(root), str(round_no)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.01, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()
        with Library.open(root) as lib:
            assert h.check(lib).ok
            with lib.engine.connect() as conn:
                # Every visit the loop made has its treatment record and its rating, or is gone whole.
                visits = conn.exec_driver_sql("SELECT count(*) FROM visit").scalar()
                records = conn.exec_driver_sql("SELECT count(*) FROM treatment_record").scalar()
                ratings = conn.exec_driver_sql("SELECT count(*) FROM rating").scalar()
                items = conn.exec_driver_sql("SELECT count(*) FROM rating_item").scalar()
        assert records is not None and ratings is not None and visits is not None
        assert visits - 1 <= records <= visits and visits - 1 <= ratings <= records
        assert items == 2 * ratings  # a rating is never stored with half its items
