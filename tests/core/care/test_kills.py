"""Killed at any moment, no command leaves a library that is not one.

Every command that writes (backup, restore, each repair, and edits: visit add, rate, import)
runs as ``python -m tracker`` and is killed with SIGKILL after a random delay between nothing
and its normal duration, about two hundred times in all, in two loops on two libraries at
once. After each kill the library is checked as ``tracker check`` checks it (it must be in good
order, or report only what that kill may leave, which its repair then mends; never "no
library", never a new empty database) and from the outside, with the sqlite3 module alone:
the database passes ``PRAGMA integrity_check`` and every photo's original is there, a regular
file, with its sha256. The loop itself is ``kill_loop``'s, shared with the encrypted
library's (``test_kills_encrypted``).
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import stat
from pathlib import Path

from tests import helpers as h
from tests.core.care import kill_loop
from tests.core.care.kill_loop import Loop, Scenario
from tests.core.care.test_backup_consistency import jpegs
from tracker.core.care import backups
from tracker.core.db.engine import DB_NAME
from tracker.core.store.library import Library

KILLS = int(os.environ.get("TRACKER_KILLS", "200"))
LOOPS = 2  # one per core: most of a loop's time is a command running, or being waited for


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


def from_outside(_loop: Loop, root: Path) -> int:
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


PLAIN = Scenario(COMMANDS, _cli, from_outside)


def test_sigkill_at_random_moments_never_leaves_a_library_that_is_not_one(
    tmp_path: Path,
) -> None:
    loops = [_make(tmp_path / f"loop{n}", seed=20261201 + n) for n in range(LOOPS)]
    summary = kill_loop.run_loops(PLAIN, loops, KILLS)
    print(f"\n{summary}")  # the figures, for whoever runs it with -s
    for loop in loops:
        kill_loop.final_checks(PLAIN, loop)
