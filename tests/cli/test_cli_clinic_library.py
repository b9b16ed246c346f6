"""`tracker --library postgresql://LOGIN@HOST/DATABASE COMMAND` (issue 21): the commands that
work through the services on a clinic library in a database, the password from the address or
TRACKER_CLINIC_PASSWORD and never shown, and the folder-only commands refused with a sentence.
Against a throwaway PostgreSQL server (tests/postgres.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from sqlalchemy.engine import make_url

from tests import postgres
from tests.conftest import REPO, run_cli
from tracker.core.db import roles, server

SECRET = "a clinic password 7f3a"


@pytest.fixture
def clinic(pg_server: postgres.Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("TRACKER_LIBRARY", raising=False)
    monkeypatch.delenv("TRACKER_CLINIC_PASSWORD", raising=False)
    with pg_server.clinic() as url:
        yield url


def _jpegs(folder: Path, count: int) -> list[Path]:
    rng = np.random.default_rng(5)
    out = []
    for n in range(count):
        path = folder / f"belly{n}.jpg"
        Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(path)
        out.append(path)
    return out


def _ok(*args: str) -> Any:
    done = run_cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_import_list_visit_rate_measure_erase_and_check_on_a_server_library(
    clinic: str, tmp_path: Path
) -> None:
    lib = ("--library", clinic)
    files = [str(p) for p in _jpegs(tmp_path, 2)]
    imported = _ok(*lib, "import", *files, "--area", "Belly", "--date", "2026-10-01")
    assert isinstance(imported, dict) and len(imported["imported"]) == 2
    photos = _ok(*lib, "list", "photos")
    assert isinstance(photos, list)
    assert sorted(p["id"] for p in photos) == sorted(i["photo_id"] for i in imported["imported"])
    assert {p["area"] for p in photos} == {"Belly"}
    _ok(*lib, "visit", "add", "--date", "2026-10-29", "--kind", "treatment")
    rated = run_cli(
        *lib, "rate", "--area", "Belly", "--date", "2026-10-29", "--rater", "patient",
        "colour=6", "texture=5", "depth=4",
    )  # fmt: skip
    assert rated.returncode == 0, rated.stderr
    visits = _ok(*lib, "list", "visits")
    assert [v["date"] for v in visits] == ["2026-10-01", "2026-10-29"]
    measured = run_cli(*lib, "measure", str(photos[0]["id"]), "--json")
    # No marks drawn and no scale: a measure that fails with a sentence (exit 1), not a crash.
    assert measured.returncode in (0, 1), measured.stderr
    assert "unexpected" not in measured.stderr
    moved = _ok(*lib, "move", str(photos[1]["id"]), "--date", "2026-10-29")
    assert moved, "the move said nothing"
    assert {p["visit_id"] for p in _ok(*lib, "list", "photos")} == {
        next(v["id"] for v in visits if v["date"] == "2026-10-29")
    } | {photos[0]["visit_id"]}
    erased = run_cli(*lib, "erase", "photo", str(photos[0]["id"]), "--yes")
    assert erased.returncode == 0, erased.stderr
    checked = _ok(*lib, "check")
    assert checked == {"ok": True, "photos_checked": 1, "problems": []}
    trail = _ok(*lib, "audit")
    assert "erased" in json.dumps(trail)  # the erasure entered by the login that did it


def test_folder_only_commands_are_refused_and_the_password_is_never_shown(clinic: str) -> None:
    with_password = make_url(clinic).set(password=SECRET).render_as_string(hide_password=False)
    refused = run_cli("--library", with_password, "encrypt")
    assert refused.returncode == 2 and refused.stdout == ""
    assert "is encrypted when it is made" in refused.stderr
    assert "tracker restore OUT.zip NEW-ADDRESS" in refused.stderr
    assert SECRET not in refused.stderr and "***" in refused.stderr
    assert refused.stderr.count("\n") == 1
    passphrase = run_cli("--library", with_password, "passphrase", "change")
    assert passphrase.returncode == 2 and "clinic passphrase change" in passphrase.stderr
    for command in (["list", "clients"], []):  # a command, and the window
        port = run_cli("--library", f"postgresql://ana:{SECRET}@host:x/clinic", *command)
        assert port.returncode == 2 and "port is not a number" in port.stderr, port.stderr
        assert SECRET not in port.stderr and port.stderr.count("\n") == 1
    # No command: the window, on a well-formed address (tests/ui/main/test_open_address.py);
    # one naming no database is refused before any window, its password not shown.
    no_database = make_url(with_password).set(database="").render_as_string(hide_password=False)
    window = run_cli("--library", no_database, timeout=60)
    assert window.returncode == 2 and "The address names no database" in window.stderr
    assert SECRET not in window.stderr
    init = run_cli("--library", with_password, "init")
    assert init.returncode == 2 and "tracker clinic create" in init.stderr
    assert not any(Path.cwd().glob("postgresql*"))  # no folder made from the address


def test_the_password_comes_from_tracker_clinic_password(
    clinic: str, pg_server: postgres.Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = f"nurse_{uuid.uuid4().hex[:8]}"
    owner = server.make_pg_engine(clinic)
    try:
        roles.add_user(owner, name, roles.PRACTITIONER, SECRET)
    finally:
        owner.dispose()
    # Members of the password group log in with their password on the test server.
    pg_server.admin(f"GRANT {postgres.PASSWORD_GROUP} TO {name}")
    as_nurse = make_url(clinic).set(username=name).render_as_string(hide_password=False)
    try:
        monkeypatch.setenv("TRACKER_CLINIC_PASSWORD", "not the password")
        wrong = run_cli("--library", as_nurse, "list", "clients")
        assert wrong.returncode == 2 and "refused the login" in wrong.stderr
        assert "not the password" not in wrong.stderr
        monkeypatch.setenv("TRACKER_CLINIC_PASSWORD", SECRET)
        listed = _ok("--library", as_nurse, "list", "clients")
        assert listed == []
        files = [str(p) for p in _jpegs(tmp_path, 1)]
        assert len(_ok("--library", as_nurse, "import", *files, "--area", "Hips")["imported"]) == 1
    finally:
        pg_server.admin(f"DROP OWNED BY {name}")
        pg_server.admin(f"DROP ROLE {name}")


def test_the_password_comes_from_pgpassfile_through_libpq(
    clinic: str, pg_server: postgres.Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    name = f"aide_{uuid.uuid4().hex[:8]}"
    owner = server.make_pg_engine(clinic)
    try:
        roles.add_user(owner, name, roles.ASSISTANT, SECRET)
    finally:
        owner.dispose()
    pg_server.admin(f"GRANT {postgres.PASSWORD_GROUP} TO {name}")
    as_aide = make_url(clinic).set(username=name).render_as_string(hide_password=False)
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"*:*:*:{name}:{SECRET.replace(':', chr(92) + ':')}\n")
    passfile.chmod(0o600)
    try:
        monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))  # not the user's own file
        refused = run_cli("--library", as_aide, "list", "clients")
        assert refused.returncode == 2 and "asks a password" in refused.stderr
        monkeypatch.setenv("PGPASSFILE", str(passfile))
        assert _ok("--library", as_aide, "list", "clients") == []
    finally:
        pg_server.admin(f"DROP OWNED BY {name}")
        pg_server.admin(f"DROP ROLE {name}")


def test_a_folder_library_loads_none_of_the_servers_modules(tmp_path: Path) -> None:
    code = (
        "import sys; from tracker.cli import main; "
        f"lib = {str(tmp_path / 'lib')!r}; "
        "assert main(['--library', lib, 'init']) == 0; "
        "assert main(['--library', lib, 'list', 'clients']) == 0; "
        "assert main(['--library', lib, 'check']) == 0; "
        "print(sorted(m for m in sys.modules if m.startswith(('psycopg', "
        "'tracker.core.store.server_library', 'tracker.core.db.notify', "
        "'tracker.core.db.server'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[]"
