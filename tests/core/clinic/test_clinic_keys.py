"""An encrypted clinic library's unlock attempts and passphrase change in its audit trail
(tracker/core/services/clinic_keys.py, issue 21): the change and its entry are kept together
or not at all; a login the server does not take an entry from still unlocks; the window's
lock asking again enters its attempts too; another library's key is refused. Against the
throwaway server (tests/postgres.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests import postgres
from tracker.core.crypto.keys import MIN_KDF, Keys
from tracker.core.db import server
from tracker.core.db.models import Audit
from tracker.core.errors import LibraryError, WrongPassphrase
from tracker.core.services import clients, clinic_keys
from tracker.core.store import server_keys

PASS = "Schlüssel der Klinik, lang genug"
NEW = "ein neuer Schlüssel, auch lang"


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[str]:
    """An encrypted clinic library holding one client (so attempts are entered)."""
    with pg_server.clinic() as url:
        engine = server.make_pg_engine(url)
        try:
            server_keys.encrypt_new(engine, PASS, MIN_KDF)
        finally:
            engine.dispose()
        lib = clinic_keys.open_server(url, passphrase=PASS)
        try:
            clients.add_client(lib, "Ada")
        finally:
            lib.close()
        yield url


def _trail(engine: Engine) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(Audit.actor, Audit.action, Audit.detail).order_by(Audit.id))
        return [(str(a), str(b), str(c)) for a, b, c in rows]


def _document(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(text("SELECT document FROM library_key")))


def _reader(url: str, *, insert_audit: bool) -> str:
    """A login given, by hand, every table to read (the key among them), and the trail to
    append to only when ``insert_audit``; UPDATE on the key: it may rewrap."""
    name = f"reader_{uuid.uuid4().hex[:6]}"
    engine = server.make_pg_engine(url)
    try:
        with engine.begin() as conn:
            database = make_url(url).database
            conn.exec_driver_sql(f"CREATE ROLE {name} LOGIN")
            conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {database} TO {name}")
            conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}")
            conn.exec_driver_sql(f"GRANT UPDATE ON library_key TO {name}")
            if insert_audit:
                conn.exec_driver_sql(f"GRANT INSERT ON audit TO {name}")
    finally:
        engine.dispose()
    return make_url(url).set(username=name).render_as_string(hide_password=False)


def test_a_change_whose_entry_the_server_refuses_is_not_kept(clinic: str) -> None:
    url = _reader(clinic, insert_audit=False)
    engine = server.make_pg_engine(url)
    try:
        before, where = _document(engine), "the test's library"
        keys = clinic_keys.unlock_again(engine, where, passphrase=PASS, entered=False)
        with pytest.raises(DBAPIError):
            clinic_keys.change_passphrase(engine, where, keys, NEW, MIN_KDF)
        assert _document(engine) == before
        server_keys.unlock_from(engine, where, passphrase=PASS)  # the old one still opens
    finally:
        engine.dispose()


def test_the_change_and_its_entry_are_kept_together(clinic: str) -> None:
    url = _reader(clinic, insert_audit=True)
    engine = server.make_pg_engine(url)
    name = make_url(url).username
    try:
        with pytest.raises(WrongPassphrase):
            clinic_keys.unlock_again(engine, "x", passphrase="nicht der Schlüssel, nein")
        keys = clinic_keys.unlock_again(engine, "x", passphrase=PASS, entered=False)
        clinic_keys.change_passphrase(engine, "x", keys, NEW, MIN_KDF)
        assert _trail(engine)[-2:] == [
            (name, "unlock-failed", ""),
            (name, "unlocked", clinic_keys.CHANGED),
        ]
        with pytest.raises(WrongPassphrase):
            server_keys.unlock_from(engine, "x", passphrase=PASS)
        assert server_keys.unlock_from(engine, "x", passphrase=NEW).master == keys.master
        other = Keys(b"\x01" * 32, "0" * 32)
        with pytest.raises(LibraryError, match="belongs to another library"):
            clinic_keys.change_passphrase(engine, "x", other, PASS, MIN_KDF)
    finally:
        engine.dispose()


def test_a_login_the_trail_refuses_still_unlocks_and_enters_nothing(clinic: str) -> None:
    url = _reader(clinic, insert_audit=False)
    owner = server.make_pg_engine(clinic)
    try:
        before = _trail(owner)
        with pytest.raises(WrongPassphrase):
            clinic_keys.open_server(url, passphrase="nicht der Schlüssel, nein", read_only=True)
        lib = clinic_keys.open_server(url, passphrase=PASS, read_only=True)
        try:
            assert lib.keys is not None
        finally:
            lib.close()
        assert _trail(owner) == before
    finally:
        owner.dispose()


def test_the_lock_asking_again_enters_each_attempt(clinic: str) -> None:
    engine = server.make_pg_engine(clinic)
    try:
        before = len(_trail(engine))
        with pytest.raises(WrongPassphrase):
            clinic_keys.unlock_again(engine, "x", passphrase="nicht der Schlüssel, nein")
        clinic_keys.unlock_again(engine, "x", passphrase=PASS)
        assert [a for _w, a, _d in _trail(engine)[before:]] == ["unlock-failed", "unlocked"]
        assert clinic_keys.record_unlock(engine, failed=False) is True
    finally:
        engine.dispose()
