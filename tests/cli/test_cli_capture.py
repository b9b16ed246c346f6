"""The capture checks and the calibration card on the command line (docs/CLI.md): `tracker
import --json` gives each photo's `quality` and `px_per_mm`, its text names each warning's
file, and `tracker list photos --json` gives `alignment`, `px_per_mm` and `quality`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.core.imaging import synthetic as syn
from tracker.cli import main

SIZE = (1000, 750)


def _jpeg(path: Path, image: Image.Image, day: str) -> str:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = f"{day.replace('-', ':')} 10:00:00"
    image.save(path, "JPEG", quality=92, exif=exif)
    return str(path)


def _skin(seed: int, blur: float = 0.0) -> Image.Image:
    return syn.photograph(syn.skin(3, SIZE), syn.Shot(np.eye(3), SIZE, blur=blur, seed=seed))


def test_import_and_list_photos_carry_the_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lib = ["--library", str(tmp_path / "lib")]
    files = [
        _jpeg(tmp_path / "first.jpg", _skin(1), "2026-01-05"),
        _jpeg(tmp_path / "soft.jpg", _skin(2, blur=3.0), "2026-02-02"),
        _jpeg(
            tmp_path / "card.jpg", syn.card_photo(1, 8.0, frame=(1600, 1200)).image, "2026-03-02"
        ),
    ]
    assert main([*lib, "import", *files, "--area", "Belly", "--json"]) == 0
    imported = json.loads(capsys.readouterr().out)["imported"]
    first, soft, card = imported
    for entry in imported:
        assert {"quality", "px_per_mm", "warnings"} <= set(entry)
        assert [c["check"] for c in entry["quality"]["checks"]][:3] == [
            "sharpness",
            "highlights",
            "shadows",
        ]
    assert first["quality"]["reference_id"] is None and first["px_per_mm"] is None
    assert soft["quality"]["reference_id"] == first["photo_id"]
    (sharpness,) = [c for c in soft["quality"]["checks"] if c["warned"]]
    assert sharpness["check"] == "sharpness" and sharpness["message"]
    assert soft["warnings"] == [f"{files[1]}: {sharpness['message']}"]
    assert card["px_per_mm"] == pytest.approx(8.0, rel=0.05)
    assert card["quality"]["checks"][-1]["check"] == "cast"

    assert main([*lib, "list", "photos", "--json"]) == 0
    rows = {r["original_name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["first.jpg"]["quality"] == first["quality"]
    assert rows["card.jpg"]["px_per_mm"] == card["px_per_mm"]
    assert all(r["alignment"] is None for r in rows.values())
    assert rows["soft.jpg"]["px_per_mm"] is None

    # The text says each warning as a sentence naming the file.
    again = _jpeg(tmp_path / "again.jpg", _skin(3, blur=3.5), "2026-04-06")
    assert main([*lib, "import", again, "--area", "Belly"]) == 0
    out = capsys.readouterr().out
    assert f"  warning: {again}: This photo is " in out and "take it again." in out
