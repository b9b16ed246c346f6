"""Killed at any moment, no command leaves a library that is not one.

Every command that writes (backup, restore, each repair, and edits: visit add, rate, import)
runs as ``python -m tracker`` and is killed with SIGKILL after a random delay between nothing
and its normal duration, about two hundred times in all, in two loops on two libraries at
once. After each kill the library is checked as ``tracker check`` checks it (it must be in good
order, or report only what that kill may leave, which its repair then mends; never "no
library", never a new empty database) and from the outside, with the sqlite3 module alone:
the database passes ``PRAGMA integrity_check`` and every photo's original is there, a regular
file, with its sha256.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

from tests import helpers as h
from tests.conftest import REPO, run_cli
from tests.core.care.test_backup_consistency import jpegs
from tracker.core.care import backups, repair
from tracker.core.care.check import CheckReport, Problem, check_library
from tracker.core.db.engine import DB_NAME
from tracker.core.errors import DatabaseDamaged
from tracker.core.store.library import Library

KILLS = int(os.environ.get("TRACKER_KILLS", "200"))
LOOPS = 2  # one per core: most of a loop's time is a command running, or being waited for


@dataclasses.dataclass
class Loop:
    """One library and everything its commands need."""

    root: Path
    work: Path
    keep: Path  # every photo ever imported, as imported: what relink finds them in
    rng: random.Random
    archive: Path  # a backup made at the start, for restore
    kills: int = 0
    landed: int = 0  # the command was still running when it was killed
    cli_checks: int = 0
    repairs: int = 0
    batches: int = 0
    dest: Path | None = None  # where the last restore was asked to make a library
    durations: dict[str, float] = dataclasses.field(default_factory=dict)


def _cli(loop: Loop, name: str) -> tuple[list[str], frozenset[str]]:
    """The command line to run for ``name`` (its setup done), and the kinds of problem a kill
    of it may leave behind (each mended by a repair below)."""
    lib = ["--library", str(loop.root)]
    day = f"2026-{loop.rng.randint(1, 12):02}-{loop.rng.randint(1, 28):02}"
    if name == "backup":
        return [*lib, "backup", str(loop.work / "out.zip")], frozenset()
    if name == "restore":
        loop.batches += 1
        loop.dest = loop.work / f"restored-{loop.batches}"
        return [*lib, "restore", str(loop.archive), str(loop.dest)], frozenset()
    if name == "relink":
        victim = next(loop.root.glob("originals/*/*.jpg"))
        os.chmod(victim, 0o600)
        victim.unlink()
        return [*lib, "repair", "relink", str(loop.keep)], frozenset({"missing_original"})
    if name == "quarantine":
        stray = loop.root / "originals" / "ff" / f"{loop.rng.randbytes(32).hex()}.jpg"
        stray.parent.mkdir(mode=0o700, exist_ok=True)
        stray.write_bytes(b"belongs to no photo")
        return [*lib, "repair", "quarantine"], frozenset({"orphan_file"})
    if name == "rebuild-cache":
        return [*lib, "repair", "rebuild-cache"], frozenset()
    if name == "restore-snapshot":
        # The snapshot is older than the photos imported since: those are its orphans.
        return [*lib, "repair", "restore-snapshot"], frozenset({"orphan_file"})
    if name == "visit":
        return [*lib, "visit", "add", "--date", day, "--notes", "n" * 40], frozenset()
    if name == "rate":
        score = str(loop.rng.randint(1, 10))
        args = ["--area", "Hips", "--date", "2025-01-01", "--rater", "patient"]
        return [*lib, "rate", *args, f"colour={score}"], frozenset()
    assert name == "import"
    loop.batches += 1
    files = jpegs(loop.work / f"batch-{loop.batches}", 3, seed=1000 * loop.batches + loop.kills)
    for f in files:
        shutil.copy(f, loop.keep / f.name)
    return [*lib, "import", *map(str, files), "--area", "Hips"], frozenset()


COMMANDS = [
    "backup",
    "restore",
    "relink",
    "quarantine",
    "rebuild-cache",
    "restore-snapshot",
    "visit",
    "rate",
    "import",
]


def _start(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def tracker_check(root: Path) -> CheckReport:
    """What ``tracker check`` does (``cli.care.cmd_check``), without starting a process."""
    try:
        with Library.open(root, allow_read_only=True) as lib:
            return check_library(lib)
    except DatabaseDamaged as exc:
        return CheckReport(problems=[Problem("database", str(exc))])


def from_outside(root: Path) -> int:
    """The library as the sqlite3 module and the file system see it; its photo count."""
    db = root / DB_NAME
    assert db.is_file() and db.stat().st_size > 0, "the database is gone"
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM client").fetchone()[0] >= 1
        rows = conn.execute("SELECT sha256, ext FROM photo").fetchall()
    finally:
        conn.close()
    for sha, ext in rows:
        path = root / "originals" / sha[:2] / f"{sha}.{ext}"
        assert stat.S_ISREG(os.lstat(path).st_mode), path
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha, path
    return len(rows)


def _mend(loop: Loop, report: CheckReport, allowed: frozenset[str], what: str) -> None:
    """Only what the kill may leave, then mended by the repair the check suggests."""
    kinds = {p.kind for p in report.problems}
    assert kinds <= allowed, (what, report.problems)
    if not kinds:
        return
    loop.repairs += 1
    with Library.open(loop.root) as lib:
        if "orphan_file" in kinds:
            repair.quarantine_orphans(lib)
        if "missing_original" in kinds:
            assert repair.relink(lib, loop.keep)["still_missing"] == 0
    after = tracker_check(loop.root)
    assert after.ok, (what, "after its repair", after.problems)


def _after_the_kill(loop: Loop, name: str, allowed: frozenset[str]) -> None:
    report = tracker_check(loop.root)  # NoLibrary here would fail the test
    _mend(loop, report, allowed, name)
    if loop.kills % 20 == 0:  # the command line itself, now and then
        result = run_cli("--library", str(loop.root), "check", "--json")
        assert result.returncode == 0, (name, result.stdout, result.stderr)
        assert json.loads(result.stdout)["ok"]
        loop.cli_checks += 1
    assert from_outside(loop.root) >= 5, "fewer photos than the library ever had"
    if name == "restore" and loop.dest is not None and loop.dest.exists():
        # Renamed into place whole, or not there at all.
        assert tracker_check(loop.dest).ok and from_outside(loop.dest) >= 5
    if name == "backup" and (loop.work / "out.zip").exists():
        with zipfile.ZipFile(loop.work / "out.zip") as zf:
            assert zf.testzip() is None  # an archive in place is always whole


def _measure(loop: Loop) -> None:
    """Each command's normal duration: one run left alone, with nothing else running."""
    for name in COMMANDS:
        args, _allowed = _cli(loop, name)
        started = time.monotonic()
        assert _start(args).wait(timeout=120) == 0, name
        loop.durations[name] = time.monotonic() - started
    assert tracker_check(loop.root).ok


def _one_kill(loop: Loop) -> None:
    name = COMMANDS[loop.kills % len(COMMANDS)]
    args, allowed = _cli(loop, name)
    proc = _start(args)
    try:
        # The moment of the kill is the point of the test: a wait that the kill ends.
        proc.wait(timeout=loop.rng.uniform(0, loop.durations[name]))
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        loop.landed += 1
    proc.wait(timeout=60)
    loop.kills += 1
    _after_the_kill(loop, name, allowed)


def _make(base: Path, seed: int) -> Loop:
    root, work, keep = base / "lib", base / "work", base / "keep"
    work.mkdir(parents=True)
    keep.mkdir()
    first = jpegs(work / "first", 5, seed=seed)
    for f in first:
        shutil.copy(f, keep / f.name)
    with Library.open(root, create=True) as lib:
        h.import_files(lib, first, area="Hips")
    with Library.open(root):  # opened again: the snapshot restore-snapshot puts back
        pass
    archive = work / "start.zip"
    with Library.open(root) as lib:
        backups.backup(lib, archive)
    return Loop(root, work, keep, random.Random(seed), archive)


def _run(loop: Loop, kills: int, failures: list[BaseException]) -> None:
    try:
        while loop.kills < kills and not failures:
            _one_kill(loop)
    except BaseException as exc:  # reported by the test's own thread
        failures.append(exc)


def test_sigkill_at_random_moments_never_leaves_a_library_that_is_not_one(
    tmp_path: Path,
) -> None:
    loops = [_make(tmp_path / f"loop{n}", seed=20261201 + n) for n in range(LOOPS)]
    _measure(loops[0])
    for loop in loops[1:]:
        loop.durations = loops[0].durations
    failures: list[BaseException] = []
    started = time.monotonic()
    share = -(-KILLS // LOOPS)
    threads = [threading.Thread(target=_run, args=(loop, share, failures)) for loop in loops]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    took = time.monotonic() - started
    kills = sum(loop.kills for loop in loops)
    landed = sum(loop.landed for loop in loops)
    print(  # the figures, for whoever runs it with -s
        f"\n{kills} kills ({landed} while the command ran) in {took:.0f} s; "
        f"{sum(loop.repairs for loop in loops)} mended by a repair, "
        f"{sum(loop.cli_checks for loop in loops)} checked by 'tracker check' too; "
        f"normal durations {_durations(loops)}"
    )
    assert kills >= KILLS
    assert landed >= kills // 2, "most kills must land while the command runs"
    for loop in loops:
        # The next backup to the same name removes what the killed ones left beside it.
        assert (
            run_cli("--library", str(loop.root), "backup", str(loop.work / "out.zip")).returncode
            == 0
        )
        assert not [p for p in loop.work.iterdir() if p.name.startswith(".out.zip.")]
        # The library folder holds no half-written copy of the database.
        with Library.open(loop.root):
            pass
        assert not _copies(loop.root)


def _copies(root: Path) -> list[str]:
    """Temporary copies of the database in the library folder or its backups/."""
    return [
        p.name
        for folder in (root, root / "backups")
        for p in folder.iterdir()
        if p.name.startswith(".") and ".sqlite3" in p.name
    ]


def _durations(loops: list[Loop]) -> str:
    names = sorted({n for loop in loops for n in loop.durations})
    return ", ".join(
        f"{n} {max(loop.durations.get(n, 0.0) for loop in loops):.2f} s" for n in names
    )
