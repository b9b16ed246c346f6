"""`tracker clinic create URL` and `tracker clinic user add NAME --role ROLE [--url URL]`
(issue 21, docs/CLI.md "Clinic") against a throwaway PostgreSQL server (tests/postgres.py)."""

from __future__ import annotations

import io
import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.engine import make_url

from tests import postgres
from tests.conftest import run_cli
from tests.core.db.test_roles import _scram_matches
from tracker.cli import main
from tracker.cli.parser_clinic import STAFF_ROLES
from tracker.core.db import engine as db
from tracker.core.db import models, roles, server

PASSWORD = "a long and private passphrase"


@pytest.fixture
def url(pg_server: postgres.Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("TRACKER_LIBRARY", raising=False)
    monkeypatch.delenv("TRACKER_CLINIC_PASSWORD", raising=False)
    monkeypatch.delenv("TRACKER_NEW_PASSWORD", raising=False)
    with pg_server.database() as made:
        yield made


def _as(url: str, name: str) -> str:
    return make_url(url).set(username=name).render_as_string(hide_password=False)


def _name(stem: str) -> str:
    return f"{stem}_{uuid.uuid4().hex[:8]}"  # roles are the server's, shared by every test


def _stored_password(url: str, name: str) -> str | None:
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(
                sa.text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"), {"n": name}
            )
    finally:
        engine.dispose()


def test_the_roles_the_parser_offers_are_the_servers_groups() -> None:
    assert tuple(roles.GROUPS) == STAFF_ROLES


def test_create_makes_the_library_and_refuses_a_database_that_holds_one(url: str) -> None:
    # The test server trusts its socket: the password is ignored there, but never shown.
    with_password = make_url(url).set(password="topsecret").render_as_string(hide_password=False)
    done = run_cli("clinic", "create", with_password, "--json")
    assert done.returncode == 0, done.stderr
    assert "topsecret" not in done.stdout + done.stderr
    made = json.loads(done.stdout)
    assert made["revision"] == db.head_revision()
    assert made["groups"] == dict(roles.GROUPS)
    engine = server.make_pg_engine(url)
    try:
        assert set(models.Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()
    again = run_cli("clinic", "create", url)
    assert again.returncode == 2 and again.stdout == ""
    assert "already holds tables" in again.stderr
    assert again.stderr.count("\n") == 1


def test_staff_are_added_by_the_owner_then_by_an_admin_never_by_others(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("clinic", "create", url).returncode == 0
    monkeypatch.setenv("TRACKER_NEW_PASSWORD", PASSWORD)
    admin, prac, desk = _name("admin"), _name("prac"), _name("desk")
    done = run_cli("clinic", "user", "add", admin, "--role", "admin", "--url", url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "user": admin,
        "role": "admin",
        "group": "tracker_admin",
        "database": make_url(url).database,
    }
    # The admin, logged in as themselves, adds a practitioner; the library from the
    # environment this time (in this process: run_cli clears TRACKER_LIBRARY). Before
    # PostgreSQL 16 an admin gets no right to make logins (it would be a right over every
    # login of the server): refused with the reason, and the owner adds them instead.
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            confined = roles.createrole_confined(conn)
    finally:
        engine.dispose()
    monkeypatch.setenv("TRACKER_LIBRARY", _as(url, admin))
    if confined:
        assert main(["clinic", "user", "add", prac, "--role", "practitioner"]) == 0
    else:
        assert main(["clinic", "user", "add", prac, "--role", "practitioner"]) == 2
        _out, said = capsys.readouterr()
        assert f"{admin} may not add staff" in said and "PostgreSQL 15 and older" in said
        monkeypatch.delenv("TRACKER_LIBRARY")
        assert main(["clinic", "user", "add", prac, "--role", "practitioner", "--url", url]) == 0
    out, err = capsys.readouterr()
    assert f"Added {prac} as practitioner" in out
    assert PASSWORD not in out + err + done.stdout + done.stderr
    monkeypatch.delenv("TRACKER_LIBRARY", raising=False)
    stored = _stored_password(url, prac)
    assert stored is not None and _scram_matches(stored, PASSWORD)
    # A practitioner may not add staff: the server refuses, in one sentence.
    refused = run_cli(
        "clinic", "user", "add", desk, "--role", "front-desk", "--url", _as(url, prac)
    )
    assert refused.returncode == 2 and refused.stdout == ""
    assert f"{prac} may not add staff" in refused.stderr
    assert _stored_password(url, desk) is None
    taken = run_cli("clinic", "user", "add", prac, "--role", "assistant", "--url", url)
    assert taken.returncode == 2 and f"already has a role named {prac}" in taken.stderr


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["clinic", "user", "add", "x_1", "--role", "janitor"], "invalid choice"),
        (["clinic", "user", "add", "pg_x", "--role", "assistant"], "cannot be a login name"),
        (["clinic", "user", "add", 'a"b', "--role", "assistant"], "cannot be a login name"),
        (["clinic", "user", "add", "ana", "--role", "assistant"], "Say which clinic library"),
        (["clinic", "create", "sqlite:///x.sqlite3"], "is not a postgresql:// address"),
        (["clinic", "create", "::not an address::"], "is not a database address"),
    ],
)
def test_bad_usage_is_one_sentence_and_exit_2(
    argv: list[str], said: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("TRACKER_LIBRARY", raising=False)
    code: object
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals (an unknown role)
        code = exc.code
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert said in err and err.count("\n") == 1


def test_the_password_is_typed_twice_without_echo_or_refused(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clinic", "create", url]) == 0
    capsys.readouterr()
    name = _name("typed")
    # No terminal and no TRACKER_NEW_PASSWORD: refused before anything is made.
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert main(["clinic", "user", "add", name, "--role", "assistant", "--url", url]) == 2
    assert "no terminal to type it in" in capsys.readouterr().err
    # At a terminal: getpass (no echo), twice; two that differ are refused.
    tty = io.StringIO("")
    monkeypatch.setattr(tty, "isatty", lambda: True)
    monkeypatch.setattr(sys, "stdin", tty)
    typed = iter([PASSWORD, PASSWORD + "x", PASSWORD, PASSWORD])
    prompts: list[str] = []

    def getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(typed)

    monkeypatch.setattr("getpass.getpass", getpass)
    assert main(["clinic", "user", "add", name, "--role", "assistant", "--url", url]) == 2
    assert "two passwords differ" in capsys.readouterr().err
    assert _stored_password(url, name) is None
    assert main(["clinic", "user", "add", name, "--role", "assistant", "--url", url]) == 0
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err and f"Added {name} as assistant" in out
    assert prompts == [f"Password for {name}: ", "The same password again: "] * 2
    stored = _stored_password(url, name)
    assert stored is not None and _scram_matches(stored, PASSWORD)


def test_a_server_that_cannot_be_reached_is_one_sentence(
    capsys: pytest.CaptureFixture[str],
) -> None:
    nowhere = f"postgresql://someone@/clinic?host=/tmp/no-server-{uuid.uuid4().hex[:8]}"
    assert main(["clinic", "create", nowhere]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "cannot be reached" in err and "/tmp/no-server-" in err, err
    assert err.count("\n") == 1


def test_a_login_that_may_not_make_tables_is_refused_and_nothing_is_made(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    stranger = _name("stranger")
    owner = server.make_pg_engine(url)
    try:
        with owner.begin() as conn:
            conn.exec_driver_sql(f'CREATE ROLE "{stranger}" LOGIN')
        assert main(["clinic", "create", _as(url, stranger)]) == 2
        out, err = capsys.readouterr()
        assert out == "" and f"the server refused the login {stranger} the right to" in err
        assert err.count("\n") == 1
        assert sa.inspect(owner).get_table_names() == []
    finally:
        owner.dispose()


def test_an_encrypted_clinic_library_shows_its_recovery_key_once_and_opens_with_the_passphrase(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKER_NEW_PASSPHRASE", "the clinic's passphrase")
    made = run_cli("clinic", "create", url, "--encrypt", "--json")
    assert made.returncode == 0, made.stderr
    recovery = json.loads(made.stdout)["recovery_key"]
    assert json.loads(made.stdout)["encrypted"] is True and len(recovery) == 39
    monkeypatch.delenv("TRACKER_NEW_PASSPHRASE")
    photo = tmp_path / "belly.jpg"
    Image.new("RGB", (64, 48), (180, 120, 110)).save(photo)
    # No passphrase and no terminal: one sentence, nothing imported.
    refused = run_cli("--library", url, "import", str(photo), "--area", "Belly")
    assert refused.returncode == 2 and "passphrase is needed" in refused.stderr
    monkeypatch.setenv("TRACKER_PASSPHRASE", "not it at all")
    wrong = run_cli("--library", url, "import", str(photo), "--area", "Belly")
    assert wrong.returncode == 2 and "passphrase is wrong" in wrong.stderr
    monkeypatch.setenv("TRACKER_PASSPHRASE", "the clinic's passphrase")
    done = run_cli("--library", url, "import", str(photo), "--area", "Belly", "--json")
    assert done.returncode == 0, done.stderr
    monkeypatch.delenv("TRACKER_PASSPHRASE")
    monkeypatch.setenv("TRACKER_RECOVERY_KEY", recovery)
    checked = run_cli("--library", url, "--recovery-key", "check", "--json")
    assert checked.returncode == 0, checked.stderr
    assert recovery not in checked.stdout + checked.stderr + done.stdout + done.stderr
