"""``tracker list clients|areas|visits`` for a front-desk login (issue 21): the names, dates
and kinds it may read, null for the fields its column grants do not give (``--json``), and the
table without those columns, saying once what is not shown; the library's owner gets the
whole rows, with no such line. Against a throwaway server (tests/postgres.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from tests import postgres
from tests.conftest import run_cli
from tracker.core.db import roles, server

NOT_SHOWN = "Notes, dates of birth, photos and ratings are not shown to your login"


def _ok(*args: str) -> str:
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def clinic(
    pg_server: postgres.Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    """The owner's address, the front desk's and its login, of a library holding Ana (born in
    1990, with notes), her area Belly (a body site) and a visit with notes."""
    desk = f"desk_{uuid.uuid4().hex[:8]}"
    shot = tmp_path_factory.mktemp("desk") / "belly.jpg"
    Image.effect_noise((80, 60), 20).convert("RGB").save(shot)
    try:
        with pg_server.database() as url:
            owner = server.make_pg_engine(url)
            try:
                roles.create_clinic(owner)
                roles.add_user(owner, desk, roles.FRONT_DESK, "not asked on this socket")
                _ok("--library", url, "import", str(shot), "--client", "Ana", "--area", "Belly",
                    "--date", "2026-10-01")  # fmt: skip
                _ok("--library", url, "visit", "add", "--client", "Ana", "--date", "2026-10-01",
                    "--notes", "shy about photos")  # fmt: skip
                with owner.begin() as conn:
                    conn.execute(
                        sa.text("UPDATE client SET date_of_birth = '1990-05-04', notes = 'x'")
                    )
                    conn.execute(sa.text("UPDATE area SET body_site = 'abdomen'"))
            finally:
                owner.dispose()
            yield url, url.replace("postgres@", f"{desk}@"), desk
    finally:  # the server's role, not the database's: dropped once the database is gone
        pg_server.admin(f"DROP ROLE IF EXISTS {desk}")


def _listed(address: str, kind: str) -> list[dict[str, Any]]:
    rows = json.loads(_ok("--library", address, "list", kind, "--json"))
    assert isinstance(rows, list)
    return rows


def test_the_front_desk_gets_the_same_fields_with_what_it_may_not_read_null(
    clinic: tuple[str, str, str],
) -> None:
    owner, desk, _login = clinic
    for kind, hidden in (
        ("clients", {"date_of_birth", "fitzpatrick"}),
        ("areas", {"body_site", "stage", "default_scale", "is_control", "control",
                   "mark_sensitivity"}),
        ("visits", {"notes"}),
    ):  # fmt: skip
        whole, limited = _listed(owner, kind), _listed(desk, kind)
        assert [list(r) for r in limited] == [list(r) for r in whole], kind
        for full, seen in zip(whole, limited, strict=True):
            assert {k: v for k, v in full.items() if k not in hidden} == {
                k: v for k, v in seen.items() if k not in hidden
            }
            assert all(seen[k] is None for k in hidden), seen
    assert _listed(owner, "clients")[0]["date_of_birth"] == "1990-05-04"
    assert _listed(owner, "areas")[0]["body_site"] == "abdomen"
    assert _listed(owner, "visits")[0]["notes"] == "shy about photos"


def test_the_front_desk_table_leaves_the_columns_out_and_says_so_once(
    clinic: tuple[str, str, str],
) -> None:
    owner, desk, login = clinic
    areas = _ok("--library", desk, "list", "areas").splitlines()
    assert areas[0].split() == ["id", "client", "name"]
    assert areas[-1] == f"{NOT_SHOWN} {login}."
    visits = _ok("--library", desk, "list", "visits")
    assert visits.count(NOT_SHOWN) == 1 and "2026-10-01" in visits and "Ana" in visits
    whole = _ok("--library", owner, "list", "areas").splitlines()
    assert whole[0].split() == ["id", "client", "name", "stage"]
    assert NOT_SHOWN not in "\n".join(whole)
