"""The SIGKILL loop shared by the plain library's (``test_kills``) and the encrypted library's
(``test_kills_encrypted``): commands run as ``python -m tracker`` and are killed after a
random delay between nothing and their normal duration, in loops on libraries of their own
at once; after each kill the library is checked as ``tracker check`` checks it (in good order,
or only what that kill may leave, which its repair then mends), now and then by the command
line itself, and from the outside (``Scenario.outside``: the database whole, every photo's
original there with its sha256).

A ``Scenario`` says which commands run and how (``cli``), how the library is seen from the
outside, and what else a command's kill must leave whole (``extra``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.conftest import REPO
from tracker.core.care import repair
from tracker.core.care.check import CheckReport, Problem, check_library
from tracker.core.errors import DatabaseDamaged
from tracker.core.store.library import Library

if TYPE_CHECKING:
    from tracker.core.crypto.keys import Keys


@dataclasses.dataclass
class Loop:
    """One library and everything its commands need."""

    root: Path
    work: Path
    keep: Path  # every photo ever imported, as imported: what relink finds them in
    rng: random.Random
    archive: Path  # a backup made at the start, for restore
    keys: Keys | None = None  # an encrypted library's (its master key never changes)
    env: dict[str, str] = dataclasses.field(default_factory=dict)  # for its commands
    state: dict[str, Any] = dataclasses.field(default_factory=dict)  # the scenario's own
    kills: int = 0
    landed: int = 0  # the command was still running when it was killed
    cli_checks: int = 0
    repairs: int = 0
    batches: int = 0
    dest: Path | None = None  # where the last restore was asked to make a library
    durations: dict[str, float] = dataclasses.field(default_factory=dict)

    def open(self, root: Path | None = None, **options: Any) -> Library:
        return Library.open(root or self.root, keys=self.keys, **options)


Commands = Callable[[Loop, str], tuple[list[str], frozenset[str]]]


@dataclasses.dataclass(frozen=True)
class Scenario:
    commands: list[str]
    # The command line for a command's name (its setup done), and the kinds of problem a
    # kill of it may leave behind (each mended by a repair in ``mend``).
    cli: Commands
    # The library as seen without the app's checks; returns its photo count.
    outside: Callable[[Loop, Path], int]
    # Checks of what one command's kill must leave whole, beyond those of every command.
    extra: Callable[[Loop, str], None] = lambda _loop, _name: None
    fewest_photos: int = 5  # the library never holds fewer
    cli_every: int = 20  # kills between two runs of 'tracker check' itself
    unlock: tuple[str, ...] = ()  # the options that unlock the library (an encrypted one)


def start(loop: Loop, args: list[str], capture: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), **loop.env}
    env.pop("TRACKER_LIBRARY", None)
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", *args],
        cwd=REPO,
        env=env,
        stdout=out,
        stderr=out,
        text=True,
    )


def tracker_check(loop: Loop, root: Path | None = None) -> CheckReport:
    """What ``tracker check`` does (``cli.care.cmd_check``), without starting a process."""
    try:
        with loop.open(root, allow_read_only=True) as lib:
            return check_library(lib)
    except DatabaseDamaged as exc:
        return CheckReport(problems=[Problem("database", str(exc))])


def mend(loop: Loop, report: CheckReport, allowed: frozenset[str], what: str) -> None:
    """Only what the kill may leave, then mended by the repair the check suggests."""
    kinds = {p.kind for p in report.problems}
    assert kinds <= allowed, (what, report.problems)
    if not kinds:
        return
    loop.repairs += 1
    with loop.open() as lib:
        if "orphan_file" in kinds:
            repair.quarantine_orphans(lib)
        if "missing_original" in kinds:
            assert repair.relink(lib, loop.keep)["still_missing"] == 0
    after = tracker_check(loop)
    assert after.ok, (what, "after its repair", after.problems)


def cli_check(scenario: Scenario, loop: Loop, what: str) -> None:
    """``tracker check --json`` run as a user would, with the loop's environment."""
    args = [*scenario.unlock, "--library", str(loop.root), "check", "--json"]
    proc = start(loop, args, capture=True)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, (what, out, err)
    assert json.loads(out)["ok"]
    loop.cli_checks += 1


def after_the_kill(scenario: Scenario, loop: Loop, name: str, allowed: frozenset[str]) -> None:
    report = tracker_check(loop)  # NoLibrary here would fail the test
    mend(loop, report, allowed, name)
    if loop.kills % scenario.cli_every == 0:  # the command line itself, now and then
        cli_check(scenario, loop, name)
    assert scenario.outside(loop, loop.root) >= scenario.fewest_photos, (
        "fewer photos than the library ever had"
    )
    if name == "restore" and loop.dest is not None and loop.dest.exists():
        # Renamed into place whole, or not there at all.
        assert tracker_check(loop, loop.dest).ok
        assert scenario.outside(loop, loop.dest) >= scenario.fewest_photos
    if name == "backup" and (loop.work / "out.zip").exists():
        with zipfile.ZipFile(loop.work / "out.zip") as zf:
            assert zf.testzip() is None  # an archive in place is always whole
    scenario.extra(loop, name)


def measure(scenario: Scenario, loop: Loop) -> None:
    """Each command's normal duration: one run left alone, with nothing else running."""
    for name in scenario.commands:
        args, allowed = scenario.cli(loop, name)
        started = time.monotonic()
        assert start(loop, args).wait(timeout=120) == 0, name
        loop.durations[name] = time.monotonic() - started
        # What the command leaves by design (a snapshot's orphans), mended.
        mend(loop, tracker_check(loop), allowed, name)
        scenario.extra(loop, name)
    report = tracker_check(loop)
    assert report.ok, report.problems


def one_kill(scenario: Scenario, loop: Loop) -> None:
    name = scenario.commands[loop.kills % len(scenario.commands)]
    args, allowed = scenario.cli(loop, name)
    proc = start(loop, args)
    try:
        # The moment of the kill is the point of the test: a wait that the kill ends.
        proc.wait(timeout=loop.rng.uniform(0, loop.durations[name]))
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        loop.landed += 1
    proc.wait(timeout=60)
    loop.kills += 1
    after_the_kill(scenario, loop, name, allowed)


def _run(scenario: Scenario, loop: Loop, kills: int, failures: list[BaseException]) -> None:
    try:
        while loop.kills < kills and not failures:
            one_kill(scenario, loop)
    except BaseException as exc:  # reported by the test's own thread
        failures.append(exc)


def run_loops(scenario: Scenario, loops: list[Loop], kills: int) -> str:
    """``kills`` kills shared among ``loops``, run at once (one thread each), after the
    commands' durations were measured on the first; what happened, in a sentence."""
    measure(scenario, loops[0])
    for loop in loops[1:]:
        loop.durations = loops[0].durations
    failures: list[BaseException] = []
    started = time.monotonic()
    share = -(-kills // len(loops))
    threads = [
        threading.Thread(target=_run, args=(scenario, loop, share, failures)) for loop in loops
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    took = time.monotonic() - started
    done = sum(loop.kills for loop in loops)
    landed = sum(loop.landed for loop in loops)
    assert done >= kills
    assert landed >= done // 2, "most kills must land while the command runs"
    return (
        f"{done} kills ({landed} while the command ran) in {took:.0f} s; "
        f"{sum(loop.repairs for loop in loops)} mended by a repair, "
        f"{sum(loop.cli_checks for loop in loops)} checked by 'tracker check' too; "
        f"normal durations {durations(loops)}"
    )


def final_checks(scenario: Scenario, loop: Loop) -> None:
    """After the loop: a backup to the same name removes what the killed ones left beside
    it, and the library folder holds no half-written copy of the database."""
    args = [*scenario.unlock, "--library", str(loop.root), "backup", str(loop.work / "out.zip")]
    assert start(loop, args).wait(timeout=120) == 0
    assert not [p for p in loop.work.iterdir() if p.name.startswith(".out.zip.")]
    with loop.open():
        pass
    assert not copies(loop.root)


def copies(root: Path) -> list[str]:
    """Temporary copies of the database in the library folder or its backups/."""
    return [
        p.name
        for folder in (root, root / "backups")
        for p in folder.iterdir()
        if p.name.startswith(".") and ".sqlite3" in p.name
    ]


def durations(loops: list[Loop]) -> str:
    names = sorted({n for loop in loops for n in loop.durations})
    return ", ".join(
        f"{n} {max(loop.durations.get(n, 0.0) for loop in loops):.2f} s" for n in names
    )
