"""Benchmarks: ``python -m tracker.bench [--quick]``. Not part of the test suite, and not
installed with the app (``pyproject.toml`` leaves this package out of the wheel).

Each figure is printed beside a floor measured in the same run on the same machine, as a ratio,
with the budget it is held to. Inputs are generated here (no files are downloaded).

Qt, the window and the library are imported inside the benchmarks that use them: the import
benchmarks run without Qt loaded, and the large-library figures are measured in a child
process that starts from a clean interpreter.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter

from tracker.core.queries import lookup
from tracker.core.services.imports import ImportReport, NewArea, import_files
from tracker.core.store.library import Library

ROWS: list[Row] = []


@dataclass
class Row:
    name: str
    value: float
    unit: str
    floor: float | None
    budget: str
    ok: bool | None

    def show(self) -> str:
        ratio = f"{self.value / self.floor:5.2f}x" if self.floor else "   -  "
        floor = f"{self.floor:9.1f}" if self.floor is not None else " " * 9
        verdict = {True: "ok", False: "OVER", None: ""}[self.ok]
        return f"{self.name:<44} {self.value:9.1f} {self.unit:<3} {floor} {ratio}  {self.budget:<22} {verdict}"


def record(
    name: str, value: float, unit: str, floor: float | None, budget: str, ok: bool | None
) -> None:
    row = Row(name, value, unit, floor, budget, ok)
    ROWS.append(row)
    print(row.show(), flush=True)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


# -- inputs -----------------------------------------------------------------------------------


def skin_photo(seed: int, size: tuple[int, int] = (4000, 3000)) -> Image.Image:
    """A 12 MP photo with the texture of skin, so that JPEG sizes are realistic (~3 MB)."""
    from tracker.core.demo.images import render_area_photo

    base = render_area_photo(
        seed=seed,
        visit_index=seed % 6,
        n_visits=6,
        view="close-up",
        stage="rubra",
        size=(1600, 1200),
    )
    big = base.resize(size, Image.Resampling.BICUBIC)
    grain = Image.effect_noise(size, 40).convert("RGB").filter(ImageFilter.GaussianBlur(0.5))
    return Image.blend(big, grain, 0.22)


def write_jpegs(
    folder: Path, n: int, size: tuple[int, int] = (4000, 3000), first_seed: int = 0
) -> list[Path]:
    """``n`` skin photos of ``size`` as camera JPEGs with a date taken, seeds from
    ``first_seed`` (another series of photos, not duplicates of the first)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"2025:0{1 + i % 9}:1{i % 10} 10:00:00"
        path = folder / f"IMG_{i:04}.jpg"
        skin_photo(first_seed + i, size).save(path, quality=94, exif=exif)
        paths.append(path)
    return paths


def import_into(lib: Library, paths: list[Path], area: str, **options: Any) -> ImportReport:
    """Import into the area named ``area`` of the library's only client (made with the first
    photo when it does not exist yet), as ``tracker import --area AREA`` does."""
    client = lookup.client_ids(lib, limit=1)[0]
    ident = lookup.area_named(lib, client, area)
    target = ident if ident is not None else NewArea(area, client)
    return import_files(lib, paths, target, **options)
