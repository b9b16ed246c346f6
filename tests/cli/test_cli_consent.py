"""``tracker consent``, ``tracker audit`` and exports that obey consent (issue 20, CLI.md)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import run_cli


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    """A library of Me with three photos, 1 to 3."""
    root = tmp_path / "lib"
    for n in range(3):
        path = tmp_path / f"p{n}.jpg"
        Image.effect_noise((96, 64), 20 + n * 15).convert("RGB").save(path)
        assert (
            run_cli("--library", str(root), "import", str(path), "--area", "Belly").returncode == 0
        )
    return root


def _ok(root: Path, *args: str) -> Any:
    result = run_cli("--library", str(root), *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _refused(root: Path, *args: str) -> str:
    result = run_cli("--library", str(root), *args)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and result.stdout == ""
    return lines[0]


def test_exports_are_refused_without_consent_and_allowed_with_it(lib: Path, tmp_path: Path) -> None:
    png, pdf, csv_ = tmp_path / "c.png", tmp_path / "r.pdf", tmp_path / "r.csv"
    line = _refused(lib, "export", "compare", "1", "2", str(png))
    assert "Me has no recorded consent to the care record" in line
    assert "Me has no recorded consent to teaching" in _refused(
        lib, "export", "csv", str(csv_), "--purpose", "teaching"
    )
    _refused(lib, "export", "report", str(pdf))
    assert not png.exists() and not pdf.exists() and not csv_.exists()
    added = _ok(lib, "consent", "add", "teaching", "--de-identified", "--photos", "1", "2")
    assert added["purpose"] == "teaching" and added["photo_ids"] == [1, 2]
    assert added["identifiable"] is False and added["recorded_by"]
    assert _ok(lib, "export", "compare", "1", "2", str(png), "--purpose", "TEACHING")["file"]
    # photo 3 is not in its scope; a CSV names the client: de-identified consent does not do
    assert "does not cover every photo" in _refused(
        lib, "export", "compare", "1", "3", str(tmp_path / "x.png"), "--purpose", "teaching"
    )
    assert "only de-identified" in _refused(
        lib, "export", "csv", str(csv_), "--purpose", "teaching"
    )
    _ok(lib, "consent", "add", "care")
    assert _ok(lib, "export", "csv", str(csv_))["rows"] == 0
    assert run_cli("--library", str(lib), "export", "report", str(pdf)).returncode == 0
    # withdrawn: the next export is refused at once
    withdrawn = _ok(lib, "consent", "withdraw", str(added["id"]))
    assert withdrawn["withdrawn_by"] and withdrawn["withdrawn_on"]
    assert "Me withdrew their consent to teaching" in _refused(
        lib, "export", "compare", "1", "2", str(png), "--purpose", "teaching"
    )
    listed = _ok(lib, "consent", "list")
    assert [(c["purpose"], c["status"]) for c in listed] == [
        ("care", "valid"),
        ("teaching", "withdrawn"),
    ]
    text = run_cli("--library", str(lib), "consent", "list").stdout
    assert "teaching, de-identified, photos 1, 2" in text and "withdrawn" in text
    trail = _ok(lib, "audit")
    assert trail["problems"] == []
    assert [(e["action"], e["detail"]) for e in trail["entries"]] == [
        ("consent", "recorded: teaching, de-identified"),
        ("exported", "teaching: c.png"),
        ("consent", "recorded: care, identifiable"),
        ("exported", "care: r.csv"),
        ("printed", "care: r.pdf"),
        ("consent", "withdrawn: teaching"),
    ]
    assert trail["entries"][1]["subject"] == "client 1; photos 1, 2"


def test_bad_consent_input_is_one_sentence(lib: Path) -> None:
    assert "'fame' is not a purpose of consent" in _refused(lib, "consent", "add", "fame")
    assert "no consent with id 9" in _refused(lib, "consent", "withdraw", "9")
    assert "not one of Me's photos" in _refused(lib, "consent", "add", "care", "--photos", "99")
    assert "before it was given" in _refused(
        lib, "consent", "add", "care", "--date", "2026-01-10", "--expires", "2026-01-01"
    )
    assert "'x' is not a purpose" in _refused(lib, "export", "csv", "r.csv", "--purpose", "x")
    assert _ok(lib, "consent", "list") == []


def test_check_and_audit_find_a_deleted_or_edited_entry(lib: Path, tmp_path: Path) -> None:
    _ok(lib, "consent", "add", "care")
    _ok(lib, "export", "compare", "1", "2", str(tmp_path / "c.png"))
    _ok(lib, "backup", str(tmp_path / "b.zip"))
    assert run_cli("--library", str(lib), "check").returncode == 0
    conn = sqlite3.connect(lib / "library.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit WHERE id = 2")
    conn.executescript(
        "DROP TRIGGER audit_no_update; UPDATE audit SET detail = 'care: d.png' WHERE id = 2;"
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    )
    conn.close()
    checked = run_cli("--library", str(lib), "check")
    assert checked.returncode == 1
    assert "[audit] Audit entry 2 was changed after it was written." in checked.stdout
    trail = run_cli("--library", str(lib), "audit")
    assert trail.returncode == 1 and "backed up" in trail.stdout
    assert "The audit trail's chain is broken (1):" in trail.stdout
    # The backup restores (its trail, made before the edit, holds) and says so in its trail.
    restored = tmp_path / "restored"
    assert run_cli("restore", str(tmp_path / "b.zip"), str(restored)).returncode == 0
    entries = _ok(restored, "audit")["entries"]
    assert [e["action"] for e in entries][-2:] == ["exported", "restored"]
    assert entries[-1]["detail"] == "b.zip"
