"""``tracker export compare --ratings``: each photo's ratings under its label, as the compare
window's Ratings box puts them into its export."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from PIL import Image

from tests import helpers as h
from tests.conftest import run_cli
from tracker.core.db.models import RaterRole
from tracker.core.store.library import Library


def _photo(path: Path, taken: str, seed: int) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken
    Image.effect_noise((320, 240), 30 + seed).convert("RGB").save(path, exif=exif)
    return path


def test_the_ratings_go_under_the_labels_only_when_asked(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    with Library.open(root, create=True) as lib:
        files = [
            _photo(tmp_path / "a.jpg", "2026:01:10 10:00:00", 1),
            _photo(tmp_path / "b.jpg", "2026:03:10 10:00:00", 2),
        ]
        ids = [str(i.photo_id) for i in h.import_files(lib, files, area="Hips").imported]
        h.rate(
            lib, area="Hips", day=dt.date(2026, 3, 10), role=RaterRole.PATIENT, values={"colour": 4}
        )
        h.consent_to_care(lib)
    heights = {}
    for extra in ((), ("--ratings",), ("--ratings", "--no-labels")):
        out = tmp_path / f"compare{len(extra)}.png"
        result = run_cli(
            "--library", str(root), "--json", "export", "compare", *ids, str(out), *extra
        )
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["file"] == str(out)
        with Image.open(out) as image:
            heights[extra] = image.height
    labels_only, with_ratings, bare = heights.values()
    assert with_ratings > labels_only > bare  # no labels: no ratings either
