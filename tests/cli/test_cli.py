"""The command-line contract of docs/CLI.md, other than import (see test_cli_import.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import run_cli


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A library with area "Lower abdomen" and a baseline visit on 2025-01-10."""
    root = tmp_path_factory.mktemp("seeded") / "lib"
    photo = root.parent / "p.jpg"
    Image.effect_noise((64, 48), 40).convert("RGB").save(photo)
    args = ("--library", str(root), "import", str(photo), "--area", "Lower abdomen")
    assert run_cli(*args, "--date", "2025-01-10").returncode == 0
    return root


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    assert run_cli("--library", str(root), "init").returncode == 0
    # Me's consent to the care record, which exports without --purpose ask for (issue 20)
    assert run_cli("--library", str(root), "consent", "add", "care").returncode == 0
    return root


def _json(*args: str) -> tuple[int, Any, str]:
    """The exit code, the JSON printed (None when nothing was) and the error output."""
    result = run_cli(*args, "--json")
    return (
        result.returncode,
        json.loads(result.stdout) if result.stdout.strip() else None,
        result.stderr,
    )


def _usage_error(result_args: tuple[str, ...], words: str) -> None:
    result = run_cli(*result_args)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr


def test_init_is_idempotent_and_makes_one_client_me(lib: Path) -> None:
    code, out, _ = _json("--library", str(lib), "init")
    assert code == 0 and out == {"library": str(lib), "created": False}
    code, clients, _ = _json("--library", str(lib), "list", "clients")
    assert code == 0
    assert [c["name"] for c in clients] == ["Me"] and isinstance(clients[0]["id"], int)


def test_visit_add_rate_and_list_round_trip(lib: Path, tmp_path: Path) -> None:
    photo = tmp_path / "p.jpg"
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = "2025:01:10 10:00:00"
    Image.effect_noise((64, 48), 40).convert("RGB").save(photo, exif=exif)
    L = ("--library", str(lib))
    code, out, _ = _json(*L, "import", str(photo), "--area", "Lower abdomen", "--view", "front")
    assert code == 0 and len(out["imported"]) == 1
    code, visit, _ = _json(
        *L,
        "visit",
        "add",
        "--date",
        "2025-02-07",
        "--area",
        "Lower abdomen",
        "--device",
        "pen",
        "--depth-mm",
        "1.5",
        "--passes",
        "3",
        "--topical",
        "PRP",
    )
    assert code == 0 and visit["kind"] == "treatment" and visit["created"] is True
    code, rating, _ = _json(
        *L,
        "rate",
        "--area",
        "Lower abdomen",
        "--date",
        "2025-02-07",
        "--rater",
        "patient",
        "colour=7",
        "texture=6",
        "DEPTH=5",
    )
    assert code == 0 and rating["values"] == {"colour": 7, "texture": 6, "depth": 5}
    code, visits, _ = _json(*L, "list", "visits")
    assert [(v["date"], v["kind"]) for v in visits] == [
        ("2025-01-10", "baseline"),
        ("2025-02-07", "treatment"),
    ]
    assert all(isinstance(v["id"], int) for v in visits)
    code, areas, _ = _json(*L, "list", "areas")
    assert [(a["name"], a["client"]) for a in areas] == [("Lower abdomen", "Me")]
    code, photos, _ = _json(*L, "list", "photos", "--area", "Lower abdomen")
    assert code == 0 and len(photos) == 1
    keys = {"id", "visit_id", "area", "view", "taken_at", "sha256", "width", "height"}
    assert keys <= photos[0].keys()
    assert (
        photos[0]["visit_id"] == visits[0]["id"] and photos[0]["taken_at"] == "2025-01-10T10:00:00"
    )
    text = run_cli(*L, "list", "photos")
    assert (
        text.returncode == 0 and "Lower abdomen" in text.stdout and not text.stdout.startswith("[")
    )


def test_ratings_on_several_scales_by_named_raters_are_listed(lib: Path, tmp_path: Path) -> None:
    L = ("--library", str(lib))
    area = ("--area", "Hips", "--date", "2025-02-07")
    photo = tmp_path / "p.jpg"
    Image.effect_noise((64, 48), 40).convert("RGB").save(photo)
    assert run_cli(*L, "import", str(photo), *area).returncode == 0
    observer = [
        "vascularity=6",
        "pigmentation=7",
        "thickness=5",
        "relief=6",
        "pliability=4",
        "surface_area=5",
        "overall=7",
    ]
    for name in ("Dr Lee", "Dr Kim"):
        code, out, err = _json(
            *L,
            "rate",
            *area,
            "--rater",
            "practitioner",
            "--rater-name",
            name,
            "--scale",
            "posas2-observer",
            "--method",
            "photos",
            *observer,
        )
        assert code == 0, err
        assert (out["rater_name"], out["method"]) == (name, "photos")
    assert run_cli(*L, "rate", *area, "--rater", "patient", "colour=7").returncode == 0
    gais = ("--rater", "practitioner", "--rater-name", "Dr Lee", "--scale", "gais", "overall=2")
    text = run_cli(*L, "rate", *area, *gais)
    assert text.returncode == 0 and "practitioner Dr Lee, in-person" in text.stdout
    code, rows, _ = _json(*L, "list", "ratings", "--area", "Hips")
    assert code == 0
    assert [(r["scale"], r["rater_role"], r["rater_name"], r["method"]) for r in rows] == [
        ("ctd", "patient", "", "in-person"),
        ("posas2-observer", "practitioner", "Dr Kim", "photos"),
        ("posas2-observer", "practitioner", "Dr Lee", "photos"),
        ("gais", "practitioner", "Dr Lee", "in-person"),
    ]
    assert rows[1]["total"] == 33 and rows[1]["date"] == "2025-02-07"
    assert rows[1]["values"]["overall"] == 7 and rows[0]["rater"] == "Me"
    assert rows[3]["summary"] == "Dr Lee (practitioner) · GAIS: much improved (2)"
    listed = run_cli(*L, "list", "ratings")
    assert listed.returncode == 0 and "total 33 (6–60), overall 7" in listed.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=11",
            ),
            "between 1 and 10",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "redness=3",
            ),
            "no item 'redness'",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=abc",
            ),
            "not a number",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour",
            ),
            "ITEM=VALUE",
        ),
        (
            ("rate", "--area", "Arms", "--date", "2025-01-10", "--rater", "patient", "colour=3"),
            "no area named 'Arms'",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-03-03",
                "--rater",
                "patient",
                "colour=3",
            ),
            "no visit on 2025-03-03",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "nurse",
                "colour=3",
            ),
            "invalid choice",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "10/01/2025",
                "--rater",
                "patient",
                "colour=3",
            ),
            "YYYY-MM-DD",
        ),
        (("visit", "add", "--date", "2025-02-30"), "not a date"),
        (
            ("visit", "add", "--date", "2025-02-03", "--area", "Arms", "--passes", "2"),
            "no area named 'Arms'",
        ),
        (
            ("visit", "add", "--date", "2025-02-03", "--area", "Lower abdomen", "--depth-mm", "9"),
            "between 0.1 and 3.5",
        ),
        (
            ("visit", "add", "--date", "2025-02-03", "--area", "Lower abdomen", "--pain", "x"),
            "not a number",
        ),
        (("visit", "add", "--date", "2025-02-03", "--kind", "party"), "invalid choice"),
        (("list", "photos", "--client", "Nobody"), "no client named 'Nobody'"),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=٣",
            ),
            "digits 0-9",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=５",
            ),
            "digits 0-9",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=1_0",
            ),
            "digits 0-9",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=+5",
            ),
            "digits 0-9",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=-0",
            ),
            "digits 0-9",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=1e-320",
            ),
            "digits 0-9",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=10.0000000000000001",
            ),
            "at most 1 decimal",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=6.5",
            ),
            "whole numbers only",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "colour=nan",
            ),
            "digits 0-9",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "--scale",
                "improvement-vas",
                "overall=1e-320",
            ),
            "digits 0-9",
        ),
        (
            ("visit", "add", "--date", "2025-02-03", "--area", "Lower abdomen", "--passes", "٣"),
            "digits 0-9",
        ),
        (
            ("visit", "add", "--date", "2025-02-03", "--area", "Lower abdomen", "--pain", "+5"),
            "digits 0-9",
        ),
        (
            ("visit", "add", "--date", "2025-02-03", "--area", "Lower abdomen", "--passes", "1_0"),
            "digits 0-9",
        ),
        (
            (
                "visit",
                "add",
                "--date",
                "2025-02-03",
                "--area",
                "Lower abdomen",
                "--depth-mm",
                "1.255",
            ),
            "at most 2 decimals",
        ),
        (
            (
                "visit",
                "add",
                "--date",
                "2025-02-03",
                "--area",
                "Lower abdomen",
                "--downtime-days",
                "-0",
            ),
            "digits 0-9",
        ),
        (("visit", "add", "--date", "0001-01-01"), "before 1900"),
        (("visit", "add", "--date", "9999-12-31"), "more than a year from today"),
        (("visit", "add", "--date", "20250110"), "YYYY-MM-DD"),
        (("visit", "add", "--date", "2025-W02-5"), "YYYY-MM-DD"),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "--rater-name",
                "x" * 201,
                "colour=3",
            ),
            "the most is 200",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "--rater-name",
                "Dr\x1b[31m",
                "colour=3",
            ),
            "control characters",
        ),
        (
            (
                "rate",
                "--area",
                "Lower abdomen",
                "--date",
                "2025-01-10",
                "--rater",
                "patient",
                "--rater-name",
                "Dr A ",
                "colour=3",
            ),
            "begins or ends with a space",
        ),
        (("export", "compare", "¹", "2", "out.png"), "not a photo id"),
        (("export", "compare", "99999999999999999999", "1", "out.png"), "ids are far smaller"),
        (("move", "1", "--visit", "¹"), "not a visit id"),
        (("erase", "photo", "99999999999999999999", "--yes"), "ids are far smaller"),
        (("import", "--area", "X"), "required"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_changes_nothing(
    seeded: Path, tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    lib = tmp_path / "copy"
    shutil.copytree(seeded, lib)
    before = (lib / "library.sqlite3").read_bytes()
    _usage_error(("--library", str(lib), *args), words)
    assert (lib / "library.sqlite3").read_bytes() == before


def test_check_reports_damage_with_exit_1(lib: Path, tmp_path: Path) -> None:
    photo = tmp_path / "p.png"
    Image.effect_noise((64, 48), 40).convert("RGB").save(photo)
    assert run_cli("--library", str(lib), "import", str(photo), "--area", "Thigh").returncode == 0
    code, report, _ = _json("--library", str(lib), "check")
    assert code == 0 and report["ok"] is True and report["problems"] == []
    (stored,) = (lib / "originals").rglob("*.png")
    stored.chmod(0o600)
    stored.write_bytes(stored.read_bytes() + b"tampered")
    (lib / "originals" / "zz").mkdir()
    (lib / "originals" / "zz" / "stray.jpg").write_bytes(b"stray")
    code, report, _ = _json("--library", str(lib), "check")
    assert code == 1 and report["ok"] is False
    assert sorted(p["kind"] for p in report["problems"]) == ["changed_original", "orphan_file"]
    assert (lib / "originals" / "zz" / "stray.jpg").exists()  # check never deletes
    stored.unlink()
    code, report, _ = _json("--library", str(lib), "check")
    assert code == 1 and "missing_original" in [p["kind"] for p in report["problems"]]


def test_list_and_check_do_not_create_a_library(tmp_path: Path) -> None:
    result = run_cli("--library", str(tmp_path / "nowhere"), "check")
    assert result.returncode == 2 and "no library" in result.stderr
    assert not (tmp_path / "nowhere").exists()


def test_export_compare_writes_a_clean_image_and_refuses_bad_ids(lib: Path, tmp_path: Path) -> None:
    photos = []
    for i, day in enumerate(("2025:01:10", "2025:03:01")):
        path = tmp_path / f"p{i}.jpg"
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = f"{day} 10:00:00"
        exif[0x0110] = "SecretModel"
        Image.effect_noise((160, 120), 30 + i).convert("RGB").save(
            path, exif=exif, comment=b"private"
        )
        photos.append(str(path))
    assert run_cli("--library", str(lib), "import", *photos, "--area", "Hips").returncode == 0
    _, listed, _ = _json("--library", str(lib), "list", "photos")
    ids = [str(p["id"]) for p in listed]
    out = tmp_path / "compare.jpg"
    code, result, _ = _json(
        "--library", str(lib), "export", "compare", *ids, str(out), "--mode", "wipe"
    )
    assert code == 0 and result["file"] == str(out) and result["mode"] == "wipe"
    data = out.read_bytes()
    assert b"SecretModel" not in data and b"private" not in data and b"Exif" not in data
    _usage_error(
        ("--library", str(lib), "export", "compare", ids[0], "9999", str(tmp_path / "x.png")),
        "no photo with id 9999",
    )
    _usage_error(
        ("--library", str(lib), "export", "compare", ids[0], "abc", str(tmp_path / "x.png")),
        "'abc' is not a photo id",
    )
    _usage_error(
        ("--library", str(lib), "export", "compare", *ids, str(tmp_path / "x.bmp")), ".png or .jpg"
    )
    _usage_error(
        (
            "--library",
            str(lib),
            "export",
            "compare",
            *ids,
            str(tmp_path / "x.png"),
            "--size",
            "9000",
        ),
        "256 to 8192 pixels",
    )
    assert not (tmp_path / "x.png").exists()


def test_json_may_come_before_the_command_or_after_it(lib: Path) -> None:
    for args in (
        ("--json", "--library", str(lib), "list", "clients"),
        ("--library", str(lib), "--json", "list", "clients"),
        ("--library", str(lib), "list", "clients", "--json"),
    ):
        result = run_cli(*args)
        assert result.returncode == 0 and json.loads(result.stdout)[0]["name"] == "Me", args
    text = run_cli("--library", str(lib), "list", "clients")
    assert text.stdout.startswith("id  name")


def test_check_reports_a_damaged_database_as_a_problem(seeded: Path, tmp_path: Path) -> None:
    """Damage is what a check is for: exit 1 and a `database` problem, not a refusal."""
    copy = tmp_path / "damaged"
    shutil.copytree(seeded, copy)
    data = bytearray((copy / "library.sqlite3").read_bytes())
    for offset in range(4096, len(data), 4096):
        data[offset + 8 : offset + 200] = bytes(range(192))
    (copy / "library.sqlite3").write_bytes(bytes(data))
    code, out, err = _json("--library", str(copy), "check")
    assert code == 1, err
    assert out is not None and out["ok"] is False
    assert [p["kind"] for p in out["problems"]] == ["database"]
    assert "damaged" in out["problems"][0]["detail"]


def test_an_unknown_client_or_date_names_those_that_exist(seeded: Path) -> None:
    _usage_error(
        ("--library", str(seeded), "list", "photos", "--client", "Zed"),
        "no client named 'Zed'. The clients are: Me.",
    )
    _usage_error(
        (
            "--library",
            str(seeded),
            "rate",
            "--area",
            "Lower abdomen",
            "--date",
            "2025-02-01",
            "--rater",
            "patient",
            "colour=3",
        ),
        "The visits are on 2025-01-10.",
    )
