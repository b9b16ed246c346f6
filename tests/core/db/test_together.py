"""Reads sent together (``db.together``, issue 21: works over a slow link): the same rows and
values as SQLAlchemy's own execution, on either engine (the PostgreSQL pass runs the first
tests on a clinic library); one round trip to a server for the window's switch to a client,
counted by the delaying proxy; and a link lost under a read said as a sentence, the next
read working again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from tests import postgres
from tracker.bench.delay_proxy import DelayProxy
from tracker.core.db import together
from tracker.core.db.models import (
    Area,
    Client,
    DateSource,
    Photo,
    Visit,
    VisitKind,
)
from tracker.core.db.server_errors import ConnectionLost
from tracker.core.queries import browse, client_data
from tracker.core.store.library import Library
from tracker.core.store.server_library import ServerLibrary

NAMES = ["100% O'Neil", "Zoë \\ back; slash", 'say "hi" -- %s %(x)s', "名前 ﬁ", "%%"]


def _fill(lib: Library) -> int:
    """Clients with awkward names, one with an area, visits and photos; that client's id."""
    with lib.session() as s:
        for name in NAMES:
            s.add(Client(name=name, notes=name))
        s.flush()
        me = s.scalar(select(Client.id).where(Client.name == NAMES[0]))
        area = Area(client_id=me, name="Flank 50%")
        s.add(area)
        s.flush()
        for n in range(3):
            visit = Visit(
                client_id=me,
                date=dt.date(2025, 1, 1) + dt.timedelta(days=30 * n),
                kind=VisitKind.BASELINE if n == 0 else VisitKind.TREATMENT,
                notes=f"it's {n}%",
            )
            s.add(visit)
            s.flush()
            s.execute(
                insert(Photo).values(
                    visit_id=visit.id,
                    area_id=area.id,
                    view="front",
                    taken_at=dt.datetime(2025, 1, 1, 10, n),
                    date_source=DateSource.EXIF,
                    width=40,
                    height=30,
                    sha256=f"{n:064x}",
                    ext="jpg",
                    format="JPEG",
                    file_size=100,
                    original_name=f"IMG_{n}'%.jpg",
                    px_per_mm=7.25 if n else None,
                    quality={"checks": [{"message": "It's 50% dark", "warned": True}]},
                )
            )
    assert me is not None
    return me


def test_the_rows_are_those_sqlalchemy_reads(library: Library) -> None:
    me = _fill(library)
    wanted = [
        client_data.clients_query(),
        select(Client.id, Client.name, Client.notes).where(Client.name.in_(NAMES)),
        select(Client.name).where(Client.name == NAMES[2]),
        select(Client.notes).where(Client.name.in_([NAMES[1], NAMES[3]])).order_by(Client.id),
        select(func.count(Photo.id)).where(Photo.original_name.like("%'\\%%", escape="\\")),
        *client_data.statements(me),
    ]
    with library.reading() as conn:
        got = together.read(conn, wanted)
    with library.session() as s:
        expected = [[tuple(r) for r in s.execute(q)] for q in wanted]
    assert got == expected
    # The values came out as SQLAlchemy makes them: enums, dates, JSON, floats, None.
    photos = got[5 + 3]
    assert {r[Photo.__table__.c.keys().index("date_source")] for r in photos} == {DateSource.EXIF}
    assert got[2] == [(NAMES[2],)] and got[4] == [(3,)]
    assert got[3] == [(NAMES[1],), (NAMES[3],)]  # a backslash and a ligature, as values given


def test_the_window_shows_from_rows_read_together_what_it_showed_before(
    library: Library,
) -> None:
    me = _fill(library)
    view = client_data.shown(library, me)
    assert view.client_id == me and [c.name for c in view.clients] == sorted(
        (c.name for c in browse.clients(library)), key=str.lower
    )
    assert view.areas == browse.areas(library, me) and view.area_id == view.areas[0].id
    assert view.timeline == browse.timeline(library, me, view.area_id)
    assert view.visit_id == view.timeline[-1].id
    assert view.detail == browse.visit_detail(library, view.visit_id)
    assert [p.warnings for p in view.timeline[0].photos] == [("It's 50% dark",)]
    # A client that is not there: the first one by name, read then.
    other = client_data.shown(library, 10_000)
    assert other.client_id == view.clients[0].id


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[tuple[ServerLibrary, str]]:
    with pg_server.clinic() as url:
        lib = ServerLibrary.open_server(url)
        try:
            yield lib, url
        finally:
            lib.close()


def test_a_switch_to_a_client_is_one_round_trip_to_the_server(
    pg_server: postgres.Server, clinic: tuple[ServerLibrary, str]
) -> None:
    lib, url = clinic
    me = _fill(lib)
    lib.close()
    with DelayProxy(pg_server.socket, delay_s=0.0) as proxy:
        far = ServerLibrary.open_server(proxy.reaching(url))
        try:
            client_data.shown(far, me)  # the pool's connection made
            before = proxy.requests
            view = client_data.shown(far, me)
            assert proxy.requests - before == 1
            assert view.detail is not None and len(view.timeline) == 3
            before = proxy.requests
            browse.visit_detail(far, view.timeline[0].id)
            assert proxy.requests - before == 1
        finally:
            far.close()


def test_a_link_lost_under_a_read_is_a_sentence_and_the_next_read_works(
    pg_server: postgres.Server, clinic: tuple[ServerLibrary, str]
) -> None:
    lib, url = clinic
    me = _fill(lib)
    client_data.shown(lib, me)
    with lib.engine.connect(), lib.engine.connect():
        pass  # two connections in the pool, both cut below
    database = make_url(url).database
    pg_server.admin(  # the pool's connections, cut by the server
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )
    with pytest.raises(ConnectionLost) as caught:
        client_data.shown(lib, me)
    assert "was lost" in str(caught.value) and NAMES[0] not in str(caught.value)
    # The other connection was stale too: put out of the pool with the first.
    assert client_data.shown(lib, me).client_id == me
    assert client_data.shown(lib, me).client_id == me
