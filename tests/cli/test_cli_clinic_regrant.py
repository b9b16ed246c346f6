"""`tracker clinic rights [--url URL]` (issue 21): a clinic library whose grants are an older
version's (a right missing, a right given that this version no longer gives) gets exactly the
grants a library made now gets, told as what was granted and taken back; only its owner (or
the superuser) may, anyone else is refused with one sentence and nothing changed. Against a
throwaway server (tests/postgres.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests import postgres
from tests.conftest import run_cli
from tracker.core.care import clinic_rights
from tracker.core.db import roles, server


@pytest.fixture(autouse=True)
def _no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TRACKER_LIBRARY", "TRACKER_CLINIC_PASSWORD", "TRACKER_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[str]:
    with pg_server.clinic() as url:
        yield url


def _sql(url: str, *statements: str) -> None:
    engine = server.make_pg_engine(url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _held(url: str) -> set[clinic_rights.Privilege]:
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            return clinic_rights.privileges(conn)
    finally:
        engine.dispose()


def _tables(url: str) -> int:
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            return int(conn.scalar(query) or 0)
    finally:
        engine.dispose()


def _login(url: str, role: str) -> str:
    name = f"{role.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
    engine = server.make_pg_engine(url)
    try:
        roles.add_user(engine, name, role, "unused password")
    finally:
        engine.dispose()
    return make_url(url).set(username=name).render_as_string(hide_password=False)


def _ok(*args: str) -> Any:
    done = run_cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_older_librarys_grants_become_this_versions(clinic: str, tmp_path: Path) -> None:
    made_now = _held(clinic)
    assert ("tracker_front_desk", "client", "name", "SELECT") in made_now
    desk = _login(clinic, roles.FRONT_DESK)
    shot = tmp_path / "arm.jpg"
    Image.new("RGB", (64, 48), (180, 120, 100)).save(shot)
    _ok("--library", clinic, "import", str(shot), "--area", "Arm")  # the client "Me"
    # As an older version left them: the front desk lacks a column, an assistant may erase.
    _sql(
        clinic,
        "REVOKE SELECT (name) ON client FROM tracker_front_desk",
        "GRANT DELETE ON photo, visit TO tracker_assistant",
    )
    assert run_cli("--library", desk, "list", "clients").returncode == 2
    done = _ok("clinic", "rights", "--url", clinic)
    assert done["granted"] == [["tracker_front_desk", "client", "name", "SELECT"]]
    assert done["revoked"] == [
        ["tracker_assistant", "photo", "", "DELETE"],
        ["tracker_assistant", "visit", "", "DELETE"],
    ]
    assert done["tables"] == _tables(clinic) > 10
    assert _held(clinic) == made_now
    assert [c["name"] for c in _ok("--library", desk, "list", "clients")] == ["Me"]
    again = run_cli("clinic", "rights", "--url", clinic)
    assert again.returncode == 0, again.stderr
    assert "0 privileges granted that they lacked, 0 taken back" in again.stdout


def test_only_the_owner_may_grant_them_again(clinic: str) -> None:
    _sql(clinic, "REVOKE SELECT (name) ON client FROM tracker_front_desk")
    before = _held(clinic)
    for role in (roles.ADMIN, roles.PRACTITIONER, roles.ASSISTANT):
        staff = _login(clinic, role)
        done = run_cli("clinic", "rights", "--url", staff)
        assert (done.returncode, done.stdout) == (2, ""), done.stderr
        said = done.stderr
        assert said.count("\n") == 1 and "Traceback" not in said
        assert f"{make_url(staff).username} may not grant the staff's rights" in said
        assert "the login postgres, who ran 'tracker clinic create'" in said
        assert _held(clinic) == before


def test_a_database_that_is_not_a_clinic_library_is_refused(pg_url: str) -> None:
    done = run_cli("clinic", "rights", "--url", pg_url)
    assert done.returncode == 2 and "holds no library" in done.stderr, done.stderr
    assert _tables(pg_url) == 0
