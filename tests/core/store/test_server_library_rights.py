"""What a clinic login may write and read decides how ``ServerLibrary.open_server`` opens it
(issue 21): the front desk, who books visits but records no photo, opens it writable, with
``withheld`` saying what it is not shown, and the list queries ask it only for the columns it
reads; a login that may write nothing opens it read-only; a practitioner reads whole rows as
before. Against a throwaway server (tests/postgres.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.engine import make_url

from tests import helpers as h
from tests import postgres
from tracker.core.db import roles, server
from tracker.core.db.server_errors import PermissionRefused
from tracker.core.errors import ReadOnlyLibrary
from tracker.core.queries import listing
from tracker.core.services import clients
from tracker.core.store.server_library import ServerLibrary

DAY = dt.date(2026, 11, 3)


@dataclass
class Clinic:
    url: str
    desk: str  # the front desk's login
    reader: str  # a login that may read every table and write none

    def as_login(self, name: str) -> str:
        return self.url.replace("postgres@", f"{name}@")

    def one(self, sql: str) -> object:
        engine = server.make_pg_engine(self.url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql)).scalar()
        finally:
            engine.dispose()


@pytest.fixture
def clinic(pg_server: postgres.Server, tmp_path: Path) -> Iterator[Clinic]:
    """A clinic library holding Ana (born 1990, with notes), her area Belly (a body site, a
    stage, a control area) and a visit with notes and a photo."""
    suffix = uuid.uuid4().hex[:8]
    desk, reader = f"desk_{suffix}", f"reader_{suffix}"
    try:
        with pg_server.database() as url:
            yield _filled(url, desk, reader, pg_server, tmp_path)
    finally:  # the server's roles, not the database's: dropped by hand once it is gone
        for name in (desk, reader):
            pg_server.admin(f"DROP ROLE IF EXISTS {name}")


def _filled(url: str, desk: str, reader: str, pg_server: postgres.Server, folder: Path) -> Clinic:
    owner = server.make_pg_engine(url)
    try:
        roles.create_clinic(owner)
        roles.add_user(owner, desk, roles.FRONT_DESK, "a password not asked on this socket")
    finally:
        owner.dispose()
    pg_server.admin(f"CREATE ROLE {reader} LOGIN")
    pg_server.admin(f"GRANT CONNECT ON DATABASE {make_url(url).database} TO {reader}")
    with ServerLibrary.open_server(url) as lib:
        shot = folder / "shot.jpg"
        pixels = np.random.default_rng(5).integers(0, 255, (60, 80, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(shot)
        h.import_files(lib, [shot], client="Ana", area="Belly", date=DAY)
        clients.add_area(lib, h.only_client(lib), "Arm")
        h.add_visit(lib, day=DAY, notes="sore after the last one")
        with lib.session() as s:
            s.execute(
                sa.text(
                    "UPDATE client SET date_of_birth = '1990-05-04', fitzpatrick = 3, "
                    "notes = 'private'"
                )
            )
            s.execute(
                sa.text(
                    "UPDATE area SET body_site = 'abdomen', stage = 'alba', "
                    "mark_sensitivity = 5, control_area_id = "
                    "(SELECT id FROM area WHERE name = 'Arm') WHERE name = 'Belly'"
                )
            )
            s.execute(sa.text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {reader}"))
    return Clinic(url, desk, reader)


def test_the_front_desk_opens_it_writable_and_lists_names_dates_and_kinds_only(
    clinic: Clinic, tmp_path: Path
) -> None:
    with ServerLibrary.open_server(clinic.as_login(clinic.desk)) as lib:
        assert isinstance(lib, ServerLibrary)
        assert lib.read_only is None
        assert lib.withheld is not None and clinic.desk in lib.withheld
        assert listing.withheld(lib) == lib.withheld
        assert listing.clients(lib) == [
            {"id": 1, "name": "Ana", "date_of_birth": None, "fitzpatrick": None}
        ]
        areas = listing.areas(lib)
        assert [(a["name"], a["client"]) for a in areas] == [("Arm", "Ana"), ("Belly", "Ana")]
        assert all(a[field] is None for a in areas for field in listing.HIDDEN["areas"])
        visits = listing.visits(lib)
        assert [(v["date"], v["kind"], v["client"], v["notes"]) for v in visits] == [
            (DAY.isoformat(), "baseline", "Ana", None)
        ]
        # What it may not do is the server's to refuse, in one sentence, changing nothing.
        shot = tmp_path / "new.jpg"
        Image.new("RGB", (40, 30), "red").save(shot)
        with pytest.raises(PermissionRefused, match=f"Your login {clinic.desk} may not"):
            h.import_files(lib, [shot], client="Ana", area="Belly", date=DAY)
    assert clinic.one("SELECT count(*) FROM photo") == 1


def test_the_owner_reads_whole_rows_as_a_folder_library_gives_them(clinic: Clinic) -> None:
    with ServerLibrary.open_server(clinic.url) as lib:
        assert isinstance(lib, ServerLibrary)
        assert lib.withheld is None and listing.withheld(lib) is None
        assert listing.clients(lib) == [
            {"id": 1, "name": "Ana", "date_of_birth": "1990-05-04", "fitzpatrick": 3}
        ]
        belly = next(a for a in listing.areas(lib) if a["name"] == "Belly")
        assert belly == {
            "id": belly["id"],
            "name": "Belly",
            "client": "Ana",
            "body_site": "abdomen",
            "stage": "alba",
            "default_scale": "ctd",
            "is_control": False,
            "control": "Arm",
            "mark_sensitivity": 5.0,
        }
        assert [v["notes"] for v in listing.visits(lib)] == ["sore after the last one"]
        # Narrowed to an area's client, its control area is still named by the one statement.
        assert next(a for a in listing.areas(lib, 1) if a["name"] == "Belly")["control"] == "Arm"


def test_a_login_that_may_write_nothing_opens_it_for_reading_only(clinic: Clinic) -> None:
    address = clinic.as_login(clinic.reader)
    with pytest.raises(ReadOnlyLibrary, match=f"Your login {clinic.reader} may not change"):
        ServerLibrary.open_server(address)
    with ServerLibrary.open_server(address, allow_read_only=True) as lib:
        assert isinstance(lib, ServerLibrary)
        assert lib.read_only is not None and "open for reading only" in lib.read_only
        assert lib.withheld is None  # it reads whole rows
        with pytest.raises(ReadOnlyLibrary):
            lib.require_writable()
        assert [c["date_of_birth"] for c in listing.clients(lib)] == ["1990-05-04"]
