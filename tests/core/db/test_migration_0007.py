"""0006 → 0007 (issue 20): a consent's signed form's columns come and go, on SQLite and on
PostgreSQL; the consents, their photo scopes and the audit trail stay."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from tests import helpers as h
from tests.core.db.migrating import migrate
from tracker.core.db import engine as db
from tracker.core.db import schema, server
from tracker.core.domain.consent import Purpose
from tracker.core.services import audit, consent, consent_forms
from tracker.core.store.library import Library

FORM_COLUMNS = {"form_sha256", "form_kind", "form_size"}
FORM = b"%PDF-1.4\n(signed by the client)\n%%EOF\n"


def _columns(root: Path) -> set[str]:
    conn = sqlite3.connect(root / "library.sqlite3")
    try:
        return {r[1] for r in conn.execute("PRAGMA table_info(consent)")}
    finally:
        conn.close()


def test_the_form_columns_come_and_go_and_the_consents_stay(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    path = tmp_path / "p.jpg"
    Image.effect_noise((64, 48), 30).convert("RGB").save(path)
    with Library.open(root, create=True) as lib:
        (done,) = h.import_files(lib, [path], area="Hips").imported
        client = h.only_client(lib)
        scoped = consent.add(
            lib, client, Purpose.TEACHING, identifiable=False, photo_ids=[done.photo_id]
        )
        signed = consent.add(
            lib, client, Purpose.CARE, identifiable=True, form=(FORM, "signed.pdf")
        )
        relpath = consent_forms.form_of(lib, signed).relpath
        before = consent.consents(lib)
    assert _columns(root) >= FORM_COLUMNS
    migrate(root, "0006")
    assert not FORM_COLUMNS & _columns(root)
    schema.verify_schema(root / "library.sqlite3")  # exactly 0006's schema again
    conn = sqlite3.connect(root / "library.sqlite3")
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT consent_id, photo_id FROM consent_photo").fetchall() == [
            (scoped, done.photo_id)
        ]
    finally:
        conn.close()
    with Library.open(root) as lib:  # migrated up again on opening
        assert db.current_revision(lib.engine) == db.head_revision()
        after = consent.consents(lib)
        assert [r.as_dict() | {"form": None, "form_size": None} for r in before] == [
            r.as_dict() for r in after
        ]
        # The form's file outlived its columns: a stray now, until the same form comes back.
        assert [p.kind for p in h.check(lib).problems] == ["orphan_file"]
        assert relpath in h.check(lib).problems[0].detail
        consent_forms.attach(lib, signed, FORM, name="signed.pdf")
        assert h.check(lib).ok and audit.verify(lib) == []


def test_a_form_is_named_whole_or_not_at_all(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    with Library.open(root, create=True) as lib:
        ident = consent.add(lib, h.only_client(lib), Purpose.CARE, identifiable=True)
        for values in (
            "form_sha256 = 'ab'",  # no kind, no size
            f"form_sha256 = '{'a' * 64}', form_kind = 'docx', form_size = 10",
            f"form_sha256 = '{'a' * 64}', form_kind = 'pdf', form_size = 0",
        ):
            with pytest.raises(sa.exc.IntegrityError), lib.engine.begin() as conn:
                conn.exec_driver_sql(f"UPDATE consent SET {values} WHERE id = {ident}")


def test_on_postgresql_the_form_columns_come_and_go(pg_url: str) -> None:
    engine = server.make_pg_engine(pg_url)
    try:
        server.upgrade(engine)
        columns = {c["name"] for c in sa.inspect(engine).get_columns("consent")}
        checks = {c["name"] for c in sa.inspect(engine).get_check_constraints("consent")}
        assert columns >= FORM_COLUMNS
        assert {"ck_consent_form", "ck_consent_form_kind", "ck_consent_form_size"} <= checks
        server.downgrade(engine, "0006")
        assert db.current_revision(engine) == "0006"
        inspector = sa.inspect(engine)
        assert {c["name"] for c in inspector.get_columns("consent")} == columns - FORM_COLUMNS
        assert not {c["name"] for c in inspector.get_check_constraints("consent")} & {
            "ck_consent_form",
            "ck_consent_form_kind",
            "ck_consent_form_size",
        }
        server.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()
