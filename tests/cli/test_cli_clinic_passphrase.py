"""An encrypted clinic library's passphrase and unlock attempts through the command line
(issue 21): `tracker clinic passphrase change [--url URL]` wraps the same key again (the
stored photos' bytes unchanged, the recovery key still good), asks the old passphrase (or the
recovery key) before the new one, refuses a wrong one (entered as a failed attempt, nothing
changed) and a login that may not write the key (before anything is asked); every unlock of
a clinic library holding records, and each wrong passphrase, is an audit entry in the name of
the login that tried. Against a throwaway server (tests/postgres.py)."""

from __future__ import annotations

import json
import os
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
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.db import roles, server
from tracker.core.store import server_keys

OLD = "Passwört der Klinik ☕ 診療所"
NEW = "Neues Passwört ✨ 新しい, lang genug"


@pytest.fixture(autouse=True)
def _no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "TRACKER_LIBRARY",
        "TRACKER_CLINIC_PASSWORD",
        "TRACKER_PASSPHRASE",
        "TRACKER_RECOVERY_KEY",
        "TRACKER_NEW_PASSPHRASE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[tuple[str, str]]:
    """An encrypted clinic library's URL (its owner's login) and recovery key."""
    with pg_server.clinic() as url:
        engine = server.make_pg_engine(url)
        try:
            recovery = server_keys.encrypt_new(engine, OLD, MIN_KDF)
        finally:
            engine.dispose()
        yield url, recovery


def _login(url: str, role: str) -> str:
    """A new staff login in ``role`` (trusted by the test server: no password), its URL."""
    name = f"{role.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
    engine = server.make_pg_engine(url)
    try:
        roles.add_user(engine, name, role, "unused password")
    finally:
        engine.dispose()
    return make_url(url).set(username=name).render_as_string(hide_password=False)


def _run(*args: str, passphrase: str | None = None, **env: str) -> Any:
    """``run_cli`` with ``TRACKER_PASSPHRASE`` and ``env`` set for this one run."""
    saved = {k: os.environ.get(k) for k in ("TRACKER_PASSPHRASE", *env)}
    try:
        if passphrase is not None:
            os.environ["TRACKER_PASSPHRASE"] = passphrase
        os.environ.update(env)
        return run_cli(*args)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _ok(*args: str, passphrase: str | None = None, **env: str) -> Any:
    done = _run(*args, "--json", passphrase=passphrase, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _refused(*args: str, passphrase: str | None = None, **env: str) -> str:
    done = _run(*args, passphrase=passphrase, **env)
    assert (done.returncode, done.stdout) == (2, ""), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    return done.stderr


def _trail(url: str, passphrase: str) -> list[dict[str, Any]]:
    trail = _ok("--library", url, "audit", passphrase=passphrase)
    assert trail["problems"] == []
    return list(trail["entries"])


def _chunks(url: str) -> list[bytes]:
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            found = conn.scalars(text("SELECT data FROM blob_chunk ORDER BY sha256, kind, seq"))
            return [bytes(d) for d in found]
    finally:
        engine.dispose()


def _document(url: str) -> str:
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(text("SELECT document FROM library_key")))
    finally:
        engine.dispose()


def _seed(url: str, tmp_path: Path) -> None:
    shot = tmp_path / "hips.jpg"
    Image.new("RGB", (80, 60), (190, 130, 110)).save(shot)
    _ok("--library", url, "import", str(shot), "--area", "Hips", passphrase=OLD)


def test_the_owner_changes_the_passphrase_and_no_photo_is_encrypted_again(
    clinic: tuple[str, str], tmp_path: Path
) -> None:
    url, recovery = clinic
    _seed(url, tmp_path)
    chunks, before = _chunks(url), _document(url)
    done = _ok(
        "clinic", "passphrase", "change", "--url", url, passphrase=OLD, TRACKER_NEW_PASSPHRASE=NEW
    )
    assert done == {"database": make_url(url).database, "passphrase_changed": True}
    assert _chunks(url) == chunks  # the photos' ciphertext as it was
    after = json.loads(_document(url))
    assert after["recovery"] == json.loads(before)["recovery"]
    assert after["library_id"] == json.loads(before)["library_id"]
    assert after["passphrase"] != json.loads(before)["passphrase"]
    said = _refused("--library", url, "list", "photos", passphrase=OLD)
    assert "The passphrase is wrong; the library stays locked." in said
    assert len(_ok("--library", url, "list", "photos", passphrase=NEW)) == 1
    assert _ok("--library", url, "check", passphrase=NEW)["ok"] is True
    assert (
        _ok("--recovery-key", "--library", url, "list", "photos", TRACKER_RECOVERY_KEY=recovery)[0][
            "area"
        ]
        == "Hips"
    )
    entries = _trail(url, NEW)
    changed = [e for e in entries if e["detail"].startswith("changed the passphrase")]
    assert len(changed) == 1 and changed[0]["action"] == "unlocked"
    assert changed[0]["actor"] == "postgres"
    # With the recovery key in place of the old passphrase: the passphrase forgotten.
    _ok(
        "--recovery-key",
        "clinic",
        "passphrase",
        "change",
        "--url",
        url,
        TRACKER_RECOVERY_KEY=recovery,
        TRACKER_NEW_PASSPHRASE=OLD,
    )
    assert len(_ok("--library", url, "list", "photos", passphrase=OLD)) == 1


def test_a_wrong_old_passphrase_changes_nothing_and_is_entered(
    clinic: tuple[str, str], tmp_path: Path
) -> None:
    url, _recovery = clinic
    _seed(url, tmp_path)
    before = _document(url)
    said = _refused(
        "clinic",
        "passphrase",
        "change",
        "--url",
        url,
        passphrase="Passwört der Klinik, falsch",
        TRACKER_NEW_PASSPHRASE=NEW,
    )
    assert "The passphrase is wrong; the library stays locked." in said
    assert _document(url) == before
    assert [e["action"] for e in _trail(url, OLD)][-2:] == ["unlock-failed", "unlocked"]
    # A new passphrase too short is refused before the old one is even tried.
    said = _refused(
        "clinic",
        "passphrase",
        "change",
        "--url",
        url,
        passphrase=OLD,
        TRACKER_NEW_PASSPHRASE="short",
    )
    assert "The passphrase is too short" in said
    assert _document(url) == before
    # Without a terminal or a variable, the old passphrase is asked for and refused.
    said = _refused("clinic", "passphrase", "change", "--url", url)
    assert "TRACKER_PASSPHRASE" in said


def test_staff_may_not_change_it_and_are_told_before_anything_is_asked(
    clinic: tuple[str, str],
) -> None:
    url, _recovery = clinic
    for role in (roles.ADMIN, roles.PRACTITIONER, roles.FRONT_DESK):
        staff = _login(url, role)
        name = make_url(staff).username
        said = _refused("clinic", "passphrase", "change", "--url", staff)  # nothing set
        assert f"Your login {name} may not change the passphrase" in said
        assert "the library's owner (the login postgres)" in said
    plain = _refused("--library", url, "passphrase", "change")
    assert "clinic passphrase change --url ADDRESS" in plain


def test_a_plain_clinic_library_has_no_passphrase_to_change(pg_server: postgres.Server) -> None:
    with pg_server.clinic() as url:
        said = _refused("clinic", "passphrase", "change", "--url", url)
        assert "is not encrypted; it has no passphrase" in said


def test_each_unlock_and_wrong_passphrase_is_entered_in_the_trying_logins_name(
    clinic: tuple[str, str], tmp_path: Path
) -> None:
    url, _recovery = clinic
    # An empty library records no attempt: a first entry would bar 'clinic migrate-from'.
    _refused("--library", url, "list", "clients", passphrase="not the passphrase, no")
    _ok("--library", url, "list", "clients", passphrase=OLD)
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM audit")) == 0
    finally:
        engine.dispose()
    _seed(url, tmp_path)
    assistant = _login(url, roles.ASSISTANT)
    name = make_url(assistant).username
    said = _refused("--library", assistant, "list", "photos", passphrase="Passwört, falsch 1")
    assert "The passphrase is wrong" in said
    _refused(
        "--recovery-key",
        "--library",
        assistant,
        "list",
        "photos",
        TRACKER_RECOVERY_KEY="AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH",
    )
    assert len(_ok("--library", assistant, "list", "photos", passphrase=OLD)) == 1
    mine = [(e["actor"], e["action"]) for e in _trail(url, OLD) if e["actor"] == name]
    assert mine == [
        (name, "unlock-failed"),
        (name, "unlock-failed"),
        (name, "unlocked"),
    ]
    # The front desk reads no key, so it never unlocks, and enters nothing by opening.
    desk = _login(url, roles.FRONT_DESK)
    assert [c["name"] for c in _ok("--library", desk, "list", "clients")] == ["Me"]
    assert not any(e["actor"] == make_url(desk).username for e in _trail(url, OLD))
