"""Photos of one patch of skin taken again and again (tests/core/imaging/synthetic.py's skin
and camera), each turned, scaled and shifted a little, for aligning a whole view: the window's
tests and the benchmark's background row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from PIL import Image

from tests.core.imaging import synthetic as syn


def series(seed: int, n: int, size: tuple[int, int] = (480, 360)) -> list[Image.Image]:
    """``n`` photos of one skin; the first sees the middle of it squarely, the others are
    turned up to ±8°, scaled ±10 % and shifted ±5 %, in another light."""
    rng = np.random.default_rng(7000 + seed)
    w, h = size
    scene = syn.skin(seed, (2 * w, 2 * h), max(w, h) / 1000)
    middle = syn.translate(-w / 2, -h / 2)
    photos = []
    for i in range(n):
        move = np.eye(3)
        if i:
            turn = syn.similarity(
                float(rng.uniform(-8, 8)), float(rng.uniform(0.9, 1.1)), (w / 2, h / 2)
            )
            shift = syn.translate(
                float(rng.uniform(-0.05, 0.05) * w), float(rng.uniform(-0.05, 0.05) * h)
            )
            move = shift @ turn
        shot = syn.Shot(move @ middle, size, exposure=float(rng.uniform(0.85, 1.15)), seed=i)
        photos.append(syn.photograph(scene, shot))
    return photos


def write_series(folder: Path, photos: list[Image.Image], first: dt.date) -> list[Path]:
    """The photos as JPEGs taken a month apart from ``first``, so each is its own visit."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(photos):
        day = first + dt.timedelta(days=30 * i)
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"{day:%Y:%m:%d} 10:00:00"
        path = folder / f"IMG_{i:03}.jpg"
        image.save(path, "JPEG", quality=92, exif=exif)
        paths.append(path)
    return paths
