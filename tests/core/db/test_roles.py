"""Staff rights from the server (issue 21, ``db.roles``): each test logs in as each staff role
on a throwaway PostgreSQL server and tries what the role may and may not do.

The test server trusts its unix socket (no password asked), so a login here is a real
session of that role, its rights the server's; the passwords are checked apart, against
the SCRAM verifier the server stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from tracker.core.db import engine as db
from tracker.core.db import models as m
from tracker.core.db import roles, server
from tracker.core.domain.consent import Action
from tracker.core.errors import LibraryError, UsageError
from tracker.core.services import audit

DENIED = "42501"  # insufficient_privilege: a GRANT or a row-level policy refused it


@dataclass
class Clinic:
    url: str
    owner: Engine
    users: dict[str, str]  # role -> login name
    engines: list[Engine]

    def login(self, name: str) -> Engine:
        engine = server.make_pg_engine(
            make_url(self.url).set(username=name).render_as_string(hide_password=False)
        )
        self.engines.append(engine)
        return engine

    def as_role(self, role: str) -> Engine:
        return self.login(self.users[role])


def _unique(stem: str) -> str:
    """Roles are the server's, shared by every test's database: each test has its own."""
    return f"{stem}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def clinic(pg_url: str) -> Iterator[Clinic]:
    owner = server.make_pg_engine(pg_url)
    c = Clinic(pg_url, owner, {}, [])
    try:
        yield _made(c)
    finally:
        for engine in [*c.engines, owner]:
            engine.dispose()


def _made(c: Clinic) -> Clinic:
    owner = c.owner
    roles.create_clinic(owner)
    c.users.update({role: _unique(role.replace("-", "_")) for role in roles.GROUPS})
    for role, name in c.users.items():
        roles.add_user(owner, name, role, f"pw of {name}")
    with Session(owner) as s:
        client = m.Client(name="Ana Ortiz", notes="allergic to lidocaine")
        area = m.Area(client=client, name="Hips", notes="rubra")
        visit = m.Visit(client=client, date=dt.date(2026, 11, 2), kind=m.VisitKind.BASELINE)
        s.add_all([client, area, visit])
        s.flush()
        s.add(_photo(visit.id, area.id, "a"))
        s.commit()
    return c


def _photo(visit_id: int, area_id: int, fill: str) -> m.Photo:
    return m.Photo(
        visit_id=visit_id,
        area_id=area_id,
        taken_at=dt.datetime(2026, 11, 2, 10, 30),
        date_source=m.DateSource.EXIF,
        width=64,
        height=48,
        sha256=fill * 64,
        ext=".jpg",
        format="JPEG",
        file_size=1234,
        original_name="IMG_0001.JPG",
    )


def _denied(engine: Engine, sql: str) -> None:
    """``sql`` is refused by the server for want of a right (and nothing of it is kept)."""
    with engine.connect() as conn, pytest.raises(DBAPIError) as caught:
        conn.execute(sa.text(sql))
    assert caught.value.orig is not None
    assert getattr(caught.value.orig, "sqlstate", None) == DENIED, str(caught.value.orig)


def _runs(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    with engine.begin() as conn:
        result = conn.execute(sa.text(sql))
        return [tuple(r) for r in result] if result.returns_rows else []


def _ids(owner: Engine) -> tuple[int, int, int, int]:
    with owner.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT c.id, a.id, v.id, p.id FROM client c JOIN area a ON a.client_id = c.id "
                "JOIN visit v ON v.client_id = c.id JOIN photo p ON p.visit_id = v.id"
            )
        ).one()
    return row[0], row[1], row[2], row[3]


# -- the rights as granted -------------------------------------------------------------------


def test_every_table_of_the_models_has_its_rights_stated() -> None:
    assert set(m.Base.metadata.tables) <= set(roles.RIGHTS)
    for table, by_role in roles.RIGHTS.items():
        assert set(by_role) <= set(roles.GROUPS), table
        known = m.Base.metadata.tables.get(table)
        for grant in by_role.values():
            for _privilege, columns in grant.columns:
                assert known is not None and set(columns) <= set(known.columns.keys()), table
    assert set(roles.LIMITED_ACTIONS) <= {a.value for a in Action}


def test_the_server_grants_exactly_what_rights_states_and_again_after_a_rerun(
    clinic: Clinic,
) -> None:
    roles.apply_rights(clinic.owner)  # a second time: nothing made twice, nothing refused
    tables = set(sa.inspect(clinic.owner).get_table_names())
    with clinic.owner.connect() as conn:
        assert conn.scalar(
            sa.text(
                "SELECT count(*) FROM pg_roles WHERE rolname LIKE 'tracker\\_%' AND NOT rolcanlogin"
            )
        ) == len(roles.GROUPS)
        for table in sorted(tables):
            columns = [c["name"] for c in sa.inspect(conn).get_columns(table)]
            for role, group in roles.GROUPS.items():
                grant = roles.rights_of(table).get(role, roles.Grant())
                for privilege in (roles.SELECT, roles.INSERT, roles.UPDATE, roles.DELETE):
                    whole = conn.scalar(
                        sa.text("SELECT has_table_privilege(:g, :t, :p)"),
                        {"g": group, "t": table, "p": privilege},
                    )
                    assert whole == (privilege in grant.whole), (role, table, privilege)
                    if privilege == roles.DELETE:
                        continue
                    named = dict(grant.columns).get(privilege, ())
                    for column in columns:
                        got = conn.scalar(
                            sa.text("SELECT has_column_privilege(:g, :t, :c, :p)"),
                            {"g": group, "t": table, "c": column, "p": privilege},
                        )
                        want = privilege in grant.whole or column in named
                        assert got == want, (role, table, column, privilege)


def test_tables_a_later_migration_makes_get_their_rights_when_applied_again(pg_url: str) -> None:
    owner = server.make_pg_engine(pg_url)
    try:
        server.upgrade(owner, "0004")
        roles.apply_rights(owner)
        server.upgrade(owner)
        group = roles.GROUPS[roles.PRACTITIONER]
        ask = sa.text("SELECT has_table_privilege(:g, 'consent', 'SELECT')")
        with owner.connect() as conn:
            assert conn.scalar(ask, {"g": group}) is False
        roles.apply_rights(owner)
        with owner.connect() as conn:
            assert conn.scalar(ask, {"g": group}) is True
    finally:
        owner.dispose()


def test_opening_a_clinic_library_that_needs_migrating_grants_the_new_tables(
    pg_url: str,
) -> None:
    owner = server.make_pg_engine(pg_url)
    try:
        server.upgrade(owner, "0005")
        roles.apply_rights(owner)  # a clinic made by an older version
        group = roles.GROUPS[roles.PRACTITIONER]
        ask = sa.text("SELECT has_table_privilege(:g, 'blob', 'INSERT')")
        server.open_server(pg_url).dispose()  # migrated by the first workstation to open it
        assert db.current_revision(owner) == db.head_revision()
        with owner.connect() as conn:
            assert conn.scalar(ask, {"g": group}) is True
    finally:
        owner.dispose()


def test_a_database_holding_tables_is_refused_and_left_as_it_was(pg_url: str) -> None:
    owner = server.make_pg_engine(pg_url)
    try:
        _runs(owner, "CREATE TABLE invoices (id int)")
        with pytest.raises(LibraryError, match=r"already holds tables \(invoices\)"):
            roles.create_clinic(owner)
        assert set(sa.inspect(owner).get_table_names()) == {"invoices"}
    finally:
        owner.dispose()


def test_create_clinic_migrates_to_the_head(pg_url: str) -> None:
    owner = server.make_pg_engine(pg_url)
    try:
        assert roles.create_clinic(owner) == db.head_revision()
        assert set(m.Base.metadata.tables) <= set(sa.inspect(owner).get_table_names())
    finally:
        owner.dispose()


# -- each role, logged in ------------------------------------------------------------------


def test_the_front_desk_sees_names_and_dates_but_no_photos_or_notes(clinic: Clinic) -> None:
    desk = clinic.as_role(roles.FRONT_DESK)
    client_id, _area, visit_id, _photo_id = _ids(clinic.owner)
    assert _runs(desk, "SELECT name FROM client") == [("Ana Ortiz",)]
    assert _runs(desk, "SELECT name FROM area") == [("Hips",)]
    assert _runs(desk, "SELECT date, kind FROM visit") == [(dt.date(2026, 11, 2), "baseline")]
    for sql in (
        "SELECT * FROM photo",
        "SELECT id FROM photo",
        "SELECT count(*) FROM photo",
        "SELECT notes FROM client",
        "SELECT date_of_birth FROM client",
        "SELECT notes FROM area",
        "SELECT notes FROM visit",
        "SELECT * FROM client",
        "SELECT * FROM rating",
        "SELECT * FROM treatment_record",
        "SELECT * FROM consent",
        "SELECT actor FROM audit",
        f"UPDATE visit SET notes = 'x' WHERE id = {visit_id}",
        f"DELETE FROM visit WHERE id = {visit_id}",
        f"DELETE FROM client WHERE id = {client_id}",
    ):
        _denied(desk, sql)
    if "blob_chunk" in roles.RIGHTS and "blob_chunk" in sa.inspect(clinic.owner).get_table_names():
        _denied(desk, "SELECT * FROM blob_chunk")
    # What the front desk does: books a new client's visit and moves it.
    with Session(desk) as s:
        new = m.Client(name="Bea Lund")
        s.add(new)
        s.flush()
        booked = m.Visit(client_id=new.id, date=dt.date(2026, 12, 9), kind=m.VisitKind.BASELINE)
        s.add(booked)
        s.flush()
        booked_id = booked.id  # before the commit, which expires the whole row
        s.commit()
    _runs(desk, f"UPDATE visit SET date = '2026-12-10' WHERE id = {booked_id}")
    assert _runs(clinic.owner, f"SELECT date FROM visit WHERE id = {booked_id}") == [
        (dt.date(2026, 12, 10),)
    ]
    with Session(desk) as s, pytest.raises(DBAPIError) as caught:
        s.scalars(sa.select(m.Client)).all()  # a whole row: its notes too
    assert getattr(caught.value.orig, "sqlstate", None) == DENIED


def test_an_assistant_imports_and_records_but_erases_nothing(clinic: Clinic) -> None:
    assistant = clinic.as_role(roles.ASSISTANT)
    client_id, area_id, visit_id, photo_id = _ids(clinic.owner)
    with Session(assistant) as s:
        s.add(_photo(visit_id, area_id, "b"))  # an import
        s.add(
            m.Rating(
                visit_id=visit_id,
                area_id=area_id,
                rater_role=m.RaterRole.PRACTITIONER,
                scale_key="ctd",
                scale_version=1,
                items=[m.RatingItem(item_key="colour", value=4.0)],
            )
        )
        s.add(m.TreatmentRecord(visit_id=visit_id, area_id=area_id, device="pen", passes=3))
        s.get_one(m.Photo, photo_id).view = "left"
        s.commit()
    # An edit that replaces what it changes is allowed: a rating's items.
    _runs(assistant, "DELETE FROM rating_item")
    _runs(assistant, f"UPDATE photo SET deleted_at = now() WHERE id = {photo_id}")  # out of view
    for sql in (
        f"DELETE FROM photo WHERE id = {photo_id}",
        "DELETE FROM rating",
        "DELETE FROM treatment_record",
        f"DELETE FROM visit WHERE id = {visit_id}",
        f"DELETE FROM area WHERE id = {area_id}",
        f"DELETE FROM client WHERE id = {client_id}",
        "DELETE FROM consent",
        # Stored files are only added: overwriting an original's bytes would erase it.
        "DELETE FROM blob_chunk",
        "UPDATE blob_chunk SET data = ''",
        "UPDATE blob SET size = 0",
    ):
        _denied(assistant, sql)
    assert _runs(clinic.owner, "SELECT count(*) FROM photo") == [(2,)]
    # The server refuses the audit entry of an export, a print or an erasure by an assistant.
    for action in (Action.EXPORTED, Action.PRINTED, Action.ERASED, Action.BACKED_UP):
        with Session(assistant) as s, pytest.raises(DBAPIError) as caught:
            audit.record_in(s, action, client_id=client_id)
        assert getattr(caught.value.orig, "sqlstate", None) == DENIED, action
    with Session(assistant) as s:
        audit.record_in(s, Action.VIEWED, client_id=client_id)
        s.commit()


def test_a_practitioner_does_the_whole_work_erasing_included(clinic: Clinic) -> None:
    prac = clinic.as_role(roles.PRACTITIONER)
    client_id, area_id, visit_id, photo_id = _ids(clinic.owner)
    with Session(prac) as s:
        assert s.get_one(m.Client, client_id).notes == "allergic to lidocaine"
        assert s.get_one(m.Photo, photo_id).sha256 == "a" * 64
        visit = m.Visit(client_id=client_id, date=dt.date(2026, 12, 1), kind=m.VisitKind.TREATMENT)
        s.add(visit)
        s.flush()
        s.add(_photo(visit.id, area_id, "c"))
        s.add(m.TreatmentRecord(visit_id=visit.id, area_id=area_id, needle_depth_mm=1.5))
        s.add(
            m.Rating(
                visit_id=visit.id,
                area_id=area_id,
                rater_role=m.RaterRole.PRACTITIONER,
                scale_key="ctd",
                scale_version=1,
                items=[m.RatingItem(item_key="depth", value=3.0)],
            )
        )
        s.add(
            m.Consent(
                client_id=client_id,
                purpose="care",
                identifiable=True,
                all_photos=True,
                recorded_by="pia",
                recorded_on=dt.date(2026, 11, 2),
            )
        )
        s.get_one(m.Visit, visit_id).notes = "first session"
        audit.record_in(s, Action.EXPORTED, client_id=client_id, detail="care: report.pdf")
        s.commit()
    # Erasing: the photos, then the visits, the area and the client.
    _runs(prac, "DELETE FROM photo")
    _runs(prac, "DELETE FROM visit")
    _runs(prac, f"DELETE FROM client WHERE id = {client_id}")
    with Session(prac) as s:
        audit.record_in(s, Action.ERASED, client_id=client_id)
        s.commit()
    assert _runs(clinic.owner, "SELECT count(*) FROM client") == [(0,)]


@pytest.mark.parametrize("role", list(roles.GROUPS))
def test_nobody_updates_or_deletes_the_audit_trail_and_each_entry_names_its_login(
    clinic: Clinic, role: str
) -> None:
    engine = clinic.as_role(role)
    with Session(engine) as s:
        audit.record_in(s, Action.OPENED)
        s.commit()
    (row,) = _runs(clinic.owner, "SELECT actor, id FROM audit ORDER BY id DESC LIMIT 1")
    assert row[0] == clinic.users[role]
    with Session(clinic.owner) as s:
        entry = s.get_one(m.Audit, row[1])
        assert entry.hash == audit.row_hash(entry)
    for sql in ("UPDATE audit SET detail = 'x'", "DELETE FROM audit", "TRUNCATE audit"):
        _denied(engine, sql)
    # An entry naming someone else is refused by the row-level policy.
    with Session(engine) as s, pytest.raises(DBAPIError) as caught:
        audit.record_in(s, Action.OPENED, actor="someone else")
    assert getattr(caught.value.orig, "sqlstate", None) == DENIED
    assert _runs(clinic.owner, "SELECT count(*) FROM audit") == [(1,)]


# -- staff ---------------------------------------------------------------------------------


def _scram_matches(verifier: str, password: str) -> bool:
    """RFC 5802/7677: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>."""
    method, rest = verifier.split("$", 1)
    params, keys = rest.split("$")
    iterations, salt = params.split(":")
    stored, _server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return method == "SCRAM-SHA-256" and hashlib.sha256(client_key).digest() == base64.b64decode(
        stored
    )


def _statements(engine: Engine) -> tuple[list[str], Callable[[], None]]:
    seen: list[str] = []

    def keep(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    return seen, lambda: event.remove(engine, "before_cursor_execute", keep)


def _confined(engine: Engine) -> bool:
    with engine.connect() as conn:
        return roles.createrole_confined(conn)


def test_the_owner_adds_staff_who_can_then_work(clinic: Clinic) -> None:
    password = "correct horse battery staple"
    seen, stop = _statements(clinic.owner)
    newcomer = _unique("newcomer")
    roles.add_user(clinic.owner, newcomer, roles.PRACTITIONER, password)
    stop()
    assert seen and not any(password in s for s in seen)
    with clinic.owner.connect() as conn:
        stored = conn.scalar(
            sa.text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"), {"n": newcomer}
        )
        in_group = conn.scalar(
            sa.text("SELECT pg_has_role(:n, :g, 'MEMBER')"),
            {"n": newcomer, "g": roles.GROUPS[roles.PRACTITIONER]},
        )
    assert stored is not None and _scram_matches(stored, password)
    assert not _scram_matches(stored, password + "!")
    assert in_group is True
    assert _runs(clinic.login(newcomer), "SELECT name FROM client") == [("Ana Ortiz",)]


def test_an_admin_adds_staff_on_postgresql_16_and_newer(clinic: Clinic) -> None:
    if not _confined(clinic.owner):
        pytest.skip("before PostgreSQL 16 admins do not add staff (the next test)")
    admin = clinic.as_role(roles.ADMIN)
    password = "correct horse battery staple"
    seen, stop = _statements(admin)
    newcomer = _unique("newcomer")
    roles.add_user(admin, newcomer, roles.PRACTITIONER, password)
    helper = _unique("helper")
    roles.add_user(admin, helper, roles.ADMIN, password)  # an admin may add admins
    stop()
    assert seen and not any(password in s for s in seen)
    assert _runs(clinic.login(newcomer), "SELECT name FROM client") == [("Ana Ortiz",)]
    roles.add_user(clinic.login(helper), _unique("third"), roles.FRONT_DESK, password)
    # CREATEROLE confined: no right over the server's roles nor over staff it did not add.
    _denied(admin, f"GRANT pg_execute_server_program TO {clinic.users[roles.ADMIN]}")
    _denied(admin, f"ALTER ROLE {clinic.users[roles.ASSISTANT]} PASSWORD 'taken over'")


def test_before_postgresql_16_an_admin_has_no_right_over_the_servers_roles(
    clinic: Clinic,
) -> None:
    if _confined(clinic.owner):
        pytest.skip("PostgreSQL 16 and newer confine CREATEROLE (the test before)")
    name = clinic.users[roles.ADMIN]
    ask = sa.text("SELECT rolcreaterole FROM pg_roles WHERE rolname = :n")
    with clinic.owner.connect() as conn:
        assert conn.scalar(ask, {"n": name}) is False
    admin = clinic.as_role(roles.ADMIN)
    # What CREATEROLE would let it do before 16: run programs as the server, take over logins.
    _denied(admin, f"GRANT pg_execute_server_program TO {name}")
    _denied(admin, f"ALTER ROLE {clinic.users[roles.ASSISTANT]} PASSWORD 'taken over'")
    _denied(admin, f"ALTER ROLE {name} CREATEDB")
    newcomer = _unique("newcomer")
    with pytest.raises(LibraryError, match=f"{name} may not add staff .* PostgreSQL 15 and older"):
        roles.add_user(admin, newcomer, roles.FRONT_DESK, "pw")
    # An admin made with CREATEROLE by an older version loses it when the rights are granted.
    _runs(clinic.owner, f'ALTER ROLE "{name}" CREATEROLE')
    roles.apply_rights(clinic.owner)
    with clinic.owner.connect() as conn:
        assert conn.scalar(ask, {"n": name}) is False
        assert conn.scalar(sa.text("SELECT to_regrole(:n)"), {"n": newcomer}) is None


@pytest.mark.parametrize("role", [roles.PRACTITIONER, roles.ASSISTANT, roles.FRONT_DESK])
def test_only_an_admin_adds_staff(clinic: Clinic, role: str) -> None:
    name = _unique("intruder")
    with pytest.raises(LibraryError, match=f"{clinic.users[role]} may not add staff"):
        roles.add_user(clinic.as_role(role), name, roles.ADMIN, "pw")
    with clinic.owner.connect() as conn:
        assert conn.scalar(sa.text("SELECT to_regrole(:n)"), {"n": name}) is None


def test_a_name_already_taken_and_an_empty_password_are_refused(clinic: Clinic) -> None:
    taken = clinic.users[roles.ASSISTANT]
    with pytest.raises(UsageError, match=f"already has a role named {taken}"):
        roles.add_user(clinic.owner, taken, roles.ASSISTANT, "pw")
    with pytest.raises(UsageError, match="password is empty"):
        roles.add_user(clinic.owner, _unique("nopw"), roles.ASSISTANT, "")


@pytest.mark.parametrize(
    "name",
    ['ana"; DROP TABLE photo; --', "pg_monitor2", "tracker_admin", "Public", "1ana", "a" * 64, ""],
)
def test_a_login_name_must_be_one_we_quote_safely(name: str) -> None:
    with pytest.raises(UsageError, match="cannot be a login name"):
        roles.check_user_name(name)


def test_an_unknown_role_is_refused_with_the_roles_there_are() -> None:
    with pytest.raises(UsageError, match="admin, practitioner, assistant, front-desk"):
        roles.group_of("janitor")


def test_only_the_staff_added_may_connect(clinic: Clinic) -> None:
    outsider = _unique("outsider")
    _runs(clinic.owner, f'CREATE ROLE "{outsider}" LOGIN')
    refused = pytest.raises(OperationalError, match="permission denied for database")
    with refused, clinic.login(outsider).connect():
        pass


def test_only_the_owner_brings_an_older_clinic_library_up_to_date(clinic: Clinic) -> None:
    server.downgrade(clinic.owner, "0009")  # as an older version of the app left it
    with pytest.raises(LibraryError, match="only its owner, the login ") as said:
        server.open_server(clinic.url.replace("postgres@", f"{clinic.users[roles.PRACTITIONER]}@"))
    assert "schema 0009" in str(said.value) and "nothing was changed" in str(said.value)
    assert db.current_revision(clinic.owner) == "0009"
    server.open_server(clinic.url).dispose()  # the owner opens it once: migrated
    assert db.current_revision(clinic.owner) == db.head_revision()
    server.open_server(
        clinic.url.replace("postgres@", f"{clinic.users[roles.PRACTITIONER]}@")
    ).dispose()
