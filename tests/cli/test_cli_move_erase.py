"""`tracker move` and `tracker erase` (docs/CLI.md)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import run_cli
from tracker.cli import main


def _photo(path: Path, day: str, seed: int) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = f"{day.replace('-', ':')} 10:00:00"
    Image.effect_noise((80, 60), 20 + seed).convert("RGB").save(path, "JPEG", exif=exif)
    return path


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    """Ana: Belly with photos on 2026-01-05 and 2026-02-02; Hips with one on 2026-02-02."""
    root = tmp_path / "lib"
    files = tmp_path / "in"
    files.mkdir()
    belly = [_photo(files / f"b{i}.jpg", d, i) for i, d in enumerate(["2026-01-05", "2026-02-02"])]
    hips = _photo(files / "h.jpg", "2026-02-02", 7)
    base = ("--library", str(root), "import")
    assert run_cli(*base, *map(str, belly), "--area", "Belly", "--client", "Ana").returncode == 0
    assert run_cli(*base, str(hips), "--area", "Hips", "--client", "Ana").returncode == 0
    return root


def _json(root: Path, *args: str) -> tuple[int, Any, str]:
    result = run_cli("--library", str(root), "--json", *args)
    out = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, out, result.stderr


def _photos(root: Path) -> dict[str, dict[str, Any]]:
    code, rows, _ = _json(root, "list", "photos")
    assert code == 0
    return {r["original_name"]: r for r in rows}


def test_move_to_a_new_date_another_area_and_view(lib: Path) -> None:
    before = _photos(lib)
    code, out, err = _json(
        lib, "move", str(before["b0.jpg"]["id"]), "--date", "2026-03-09", "--area", "Hips"
    )
    assert code == 0, err
    (moved,) = out["moved"]
    assert moved["visit_date"] == "2026-03-09" and moved["area"] == "Hips"
    assert out["made_visit"] == moved["visit_id"]
    after = _photos(lib)["b0.jpg"]
    assert after["taken_at"] == before["b0.jpg"]["taken_at"]  # it keeps the day it was taken
    code, out, err = _json(lib, "move", str(after["id"]), "--view", "left close-up")
    assert code == 0 and out["moved"][0]["view"] == "left close-up" and out["made_visit"] is None


def test_move_to_a_visit_by_its_id_and_the_refusals(lib: Path) -> None:
    photos = _photos(lib)
    feb = photos["b1.jpg"]["visit_id"]
    code, out, _ = _json(lib, "move", str(photos["b0.jpg"]["id"]), "--visit", str(feb))
    assert code == 0 and out["moved"][0]["visit_id"] == feb
    for args, words in [
        (("move", "7x", "--visit", "1"), "'7x' is not a photo id"),
        (("move", "999", "--visit", str(feb)), "photo"),
        (("move", str(photos["h.jpg"]["id"]), "--area", "Knees"), "no area named 'Knees'"),
        (("move", "1", "--visit", "1", "--date", "2026-01-01"), "not allowed with"),
        (("move", "1"), "Say where to move the photos"),
    ]:
        result = run_cli("--library", str(lib), *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == "" and words in result.stderr, (args, result.stderr)
    assert _photos(lib)["h.jpg"]["area"] == "Hips"  # a refusal changed nothing


def test_erase_refuses_without_yes_when_no_one_can_be_asked(lib: Path) -> None:
    photo = _photos(lib)["b0.jpg"]
    result = run_cli("--library", str(lib), "erase", "photo", str(photo["id"]))
    assert result.returncode == 2 and result.stdout == ""
    assert "cannot be undone; say --yes" in result.stderr
    assert "b0.jpg" in _photos(lib)


def test_erase_a_client_for_good_names_the_backups_that_still_hold_it(
    lib: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "before.zip"
    assert run_cli("--library", str(lib), "backup", str(archive)).returncode == 0
    originals = {p.name for p in (lib / "originals").rglob("*") if p.is_file()}
    shas = {p["sha256"] for p in _photos(lib).values()}
    code, out, err = _json(lib, "erase", "client", "Ana", "--yes")
    assert code == 0, err
    assert (out["clients"], out["areas"], out["visits"], out["photos"]) == (1, 2, 2, 3)
    assert out["archives"] == [str(archive.resolve())]
    assert _photos(lib) == {}
    left = [p for p in lib.rglob("*") if p.is_file()]
    assert not {p.name for p in left} & originals
    for path in left:
        data = path.read_bytes()
        if "backups" in path.parts:
            continue  # the snapshots made before: the plan named them
        assert b"Ana" not in data and b"Belly" not in data, path
        assert not any(sha.encode() in data for sha in shas), path


def test_erase_an_area_asks_on_the_terminal_and_keeps_it_unless_told(
    lib: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    args = ["--library", str(lib), "erase", "area", "Hips", "--client", "Ana"]
    monkeypatch.setattr("sys.stdin", Terminal("no\n"))
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "This erases the area Hips of Ana for good: 1 area and 1 photo." in err
    assert "nothing was erased" in err
    assert "h.jpg" in _photos(lib)
    monkeypatch.setattr("sys.stdin", Terminal("erase\n"))
    assert main(args) == 0
    assert "Erased the area Hips of Ana: 1 area and 1 photo." in capsys.readouterr().out
    assert "h.jpg" not in _photos(lib)


def test_erase_names_what_it_needs_by_id_or_name(lib: Path) -> None:
    visit = _photos(lib)["b0.jpg"]["visit_id"]
    for args, words in [
        (("erase", "visit", "Belly", "--yes"), "'Belly' is not a visit id"),
        (("erase", "visit", str(visit), "--client", "Ana", "--yes"), "--client is not needed"),
        (("erase", "area", "Knees", "--client", "Ana", "--yes"), "no area named 'Knees'"),
        (("erase", "client", "Bea", "--yes"), "no client named 'Bea'"),
        (("erase", "photo", "999", "--yes"), "photo"),
    ]:
        result = run_cli("--library", str(lib), *args)
        assert result.returncode == 2, (args, result.stderr)
        assert words in result.stderr, (args, result.stderr)
    code, out, _ = _json(lib, "erase", "visit", str(visit), "--yes")
    assert code == 0 and (out["visits"], out["photos"]) == (1, 1)
    assert "b0.jpg" not in _photos(lib)


def test_move_and_erase_say_what_became_of_the_regions(lib: Path) -> None:
    photos = _photos(lib)
    b0, b1 = photos["b0.jpg"]["id"], photos["b1.jpg"]["id"]  # b0, the earliest, is the reference
    marks = "5,5 70,5 70,50 5,50"
    region = ("region", "set", "--area", "Belly", "--client", "Ana", "--view", "front")
    assert run_cli("--library", str(lib), *region, "--marks", marks).returncode == 0
    code, out, err = _json(lib, "move", str(b0), "--area", "Hips")
    assert code == 0, err
    (note,) = out["notes"]  # b1 is not aligned to b0: nothing can carry the region
    assert "kept but must be drawn again" in note and f"photo {b0}" in note, note
    # Drawn again on the view's reference (b1 now), then b1 erased: nothing left to carry it.
    code, out, _ = _json(lib, *region, "--marks", marks)
    assert code == 0 and out["redraw"] == [] and out["reference_photo_id"] == b1
    result = run_cli("--library", str(lib), "erase", "photo", str(b1), "--yes")
    assert result.returncode == 0, result.stderr
    assert f"drawn on photo {b1}, which has left the view" in result.stdout, result.stdout
    code, out, _ = _json(lib, "erase", "photo", str(b0), "--yes")  # Hips had no regions
    assert code == 0 and out["notes"] == []
