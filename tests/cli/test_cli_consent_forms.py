"""``tracker consent add --form`` and ``tracker consent form`` (issue 20, CLI.md): a signed form
kept with its consent, written out to a new file only, in the audit trail; ``restore`` says
when a backup's trail was cut."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_cli

FORM = b"%PDF-1.4\n1 0 obj << >> endobj\n(signed: Ana Lima)\ntrailer << >>\n%%EOF\n"


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    assert run_cli("--library", str(root), "init").returncode == 0
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


def test_a_form_goes_in_with_its_consent_and_comes_out_byte_for_byte(
    lib: Path, tmp_path: Path
) -> None:
    scan = tmp_path / "scan.jpg"  # a PDF whatever its name says
    scan.write_bytes(FORM)
    added = _ok(lib, "consent", "add", "teaching", "--de-identified", "--form", str(scan))
    assert added["form"] == "pdf" and added["form_size"] == len(FORM)
    (listed,) = _ok(lib, "consent", "list")
    assert listed["form"] == "pdf"
    text = run_cli("--library", str(lib), "consent", "list").stdout
    assert "PDF" in text.splitlines()[-1]
    out = tmp_path / "out.pdf"
    written = _ok(lib, "consent", "form", str(added["id"]), "--out", str(out))
    assert written["file"] == str(out) and written["kind"] == "pdf"
    assert out.read_bytes() == FORM
    line = _refused(lib, "consent", "form", str(added["id"]), "--out", str(out))
    assert line == f"tracker: {out} already exists; choose a new file for the form."
    details = [e["detail"] for e in _ok(lib, "audit")["entries"]]
    assert "form attached: PDF, scan.jpg" in details and details[-1] == "signed form: out.pdf"
    assert _ok(lib, "check")["ok"] is True


def test_a_file_that_is_no_form_records_nothing(lib: Path, tmp_path: Path) -> None:
    notes = tmp_path / "consent.pdf"
    notes.write_text("she agreed")
    line = _refused(lib, "consent", "add", "care", "--form", str(notes))
    assert "is not a PDF, JPEG, PNG or HEIC file by its contents" in line
    assert _ok(lib, "consent", "list") == []
    ident = _ok(lib, "consent", "add", "care")["id"]
    line = _refused(lib, "consent", "form", str(ident), "--out", str(tmp_path / "x.pdf"))
    assert line == f"tracker: Consent {ident} holds no signed form."
    good = tmp_path / "good.pdf"
    good.write_bytes(FORM)
    assert _ok(lib, "consent", "form", str(ident), "--attach", str(good))["size"] == len(FORM)
    other = tmp_path / "other.pdf"
    other.write_bytes(FORM.replace(b"Ana", b"Bea"))
    line = _refused(lib, "consent", "form", str(ident), "--attach", str(other))
    assert "already holds its signed form" in line


def test_a_missing_form_is_named_by_check(lib: Path, tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(FORM)
    ident = _ok(lib, "consent", "add", "care", "--form", str(scan))["id"]
    (path,) = (lib / "originals").glob("*/*.form.pdf")
    path.parent.chmod(0o700)
    path.unlink()
    result = run_cli("--library", str(lib), "check", "--json")
    assert result.returncode == 1
    (problem,) = json.loads(result.stdout)["problems"]
    assert problem["kind"] == "missing_form"
    assert problem["detail"].startswith(f"Consent {ident}'s signed form originals/")


def test_restore_says_when_the_backups_trail_was_cut(lib: Path, tmp_path: Path) -> None:
    for purpose in ("care", "teaching", "marketing"):
        _ok(lib, "consent", "add", purpose)
    conn = sqlite3.connect(lib / "library.sqlite3")
    conn.executescript(
        "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE id > 1;"
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    )
    conn.close()
    _ok(lib, "backup", str(tmp_path / "b.zip"))
    result = run_cli("restore", str(tmp_path / "b.zip"), str(tmp_path / "back"))
    assert result.returncode == 1, result.stderr
    assert "Its audit trail does not hold: The audit trail ends at entry 1" in result.stdout
    assert (tmp_path / "back" / "library.sqlite3").exists()
