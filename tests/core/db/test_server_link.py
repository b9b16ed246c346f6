"""A server library's link that goes silent does not hold the window for TCP's minutes: the
engine gives libpq a connect timeout, keepalives and a TCP user timeout (the address's own
values win), and a server that takes the connection but never answers is a sentence."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import event, text

from tracker.core.db import server
from tracker.core.db.server_errors import translated
from tracker.core.errors import LibraryError


@pytest.fixture
def silent() -> Iterator[int]:
    """A TCP port whose listener takes connections (the kernel's backlog) and never speaks."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


def _link(engine: object) -> dict[str, object]:
    seen: dict[str, object] = {}

    def keep(_dialect: object, _record: object, _cargs: object, cparams: dict[str, object]) -> None:
        seen.update(cparams)
        raise LibraryError("stop here")  # no connection is made

    event.listen(engine, "do_connect", keep)
    with pytest.raises(LibraryError):
        engine.connect()  # type: ignore[attr-defined]
    return seen


def test_the_engine_asks_libpq_for_timeouts_and_the_address_can_say_its_own() -> None:
    engine = server.make_pg_engine("postgresql://nurse@clinic.example/stria")
    given = _link(engine)
    assert given["connect_timeout"] == server.CONNECT_TIMEOUT_S
    assert given["tcp_user_timeout"] == server.TCP_USER_TIMEOUT_MS
    assert given["keepalives"] == 1 and given["keepalives_idle"] == 10
    own = _link(server.make_pg_engine("postgresql://nurse@clinic.example/stria?connect_timeout=3"))
    assert own["connect_timeout"] == "3"


def test_a_server_that_never_answers_is_a_sentence_after_the_connect_timeout(silent: int) -> None:
    url = f"postgresql://nurse@127.0.0.1:{silent}/stria?connect_timeout=2"
    engine = server.make_pg_engine(url)
    started = time.monotonic()
    try:
        with (
            pytest.raises(LibraryError) as caught,
            translated(engine.url, "open the library"),
            engine.connect() as conn,
        ):
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    assert time.monotonic() - started < 30  # not TCP's minutes
    assert "127.0.0.1" in str(caught.value), caught.value
