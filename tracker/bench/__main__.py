"""``python -m tracker.bench``: run the benchmarks and print each figure against its budget."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tracker.bench import ROWS
from tracker.bench.align import bench_align
from tracker.bench.align_window import bench_align_window
from tracker.bench.cli import bench_cli
from tracker.bench.clinic import bench_clinic
from tracker.bench.encrypted import _child_large_encrypted, bench_encrypted
from tracker.bench.imports import bench_card_import, bench_heic, bench_import
from tracker.bench.measure import bench_measure, bench_measure_sample
from tracker.bench.measure_window import bench_measure_window
from tracker.bench.window import _child_large, bench_compare_and_report, bench_large


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tracker.bench",
        description="Benchmarks of import, large libraries, comparing, reports and the command line.",
    )
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a first look")
    parser.add_argument(
        "--only",
        choices=[
            "import",
            "encrypted",
            "heic",
            "large",
            "compare",
            "cli",
            "align",
            "measure",
            "clinic",
        ],
        action="append",
        help="run only these benchmarks (may be given more than once)",
    )
    parser.add_argument("--child-large", nargs=2, metavar=("ROOT", "PREFS"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--child-large-encrypted", nargs=2, metavar=("ROOT", "PREFS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child_large:
        _child_large(Path(args.child_large[0]), Path(args.child_large[1]))
    if args.child_large_encrypted:
        _child_large_encrypted(*map(Path, args.child_large_encrypted))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    quick = args.quick
    only = set(
        args.only
        or ["import", "encrypted", "heic", "large", "compare", "cli", "align", "measure", "clinic"]
    )
    work = Path(tempfile.mkdtemp(prefix="tracker-bench-"))
    print(f"{'figure':<44} {'value':>9}     {'floor':>9} {'ratio':>6}  {'budget':<22}")
    try:
        if "import" in only:
            bench_import(work, 8 if quick else 24)
            bench_card_import(work, 4 if quick else 12)
        if "encrypted" in only:
            bench_encrypted(work, 8 if quick else 24, 50 if quick else 500, 40)
        if "heic" in only:
            bench_heic(work, 2 if quick else 4)
        if "large" in only:
            bench_large(work, 50 if quick else 500, 40)
        if "compare" in only:
            bench_compare_and_report(work)
        if "cli" in only:
            bench_cli(work)
        if "align" in only:
            bench_align(work, quick)
            bench_align_window(work, quick)
        if "measure" in only:
            bench_measure(work)
            bench_measure_sample(work)
            bench_measure_window(work, quick)
        if "clinic" in only:
            bench_clinic(work, 50 if quick else 500, 40, 50, 8 if quick else 24)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    budgeted = [r for r in ROWS if r.ok is not None]
    over = [r for r in budgeted if r.ok is False]
    print(f"\n{len(budgeted) - len(over)} of {len(budgeted)} figures within budget.", flush=True)
    sys.stdout.flush()
    os._exit(0)  # Qt's teardown at interpreter exit adds nothing to the figures


if __name__ == "__main__":
    sys.exit(main())
