"""A timeline's thumbnails read in one go (``Library.cached``, issue 21: works over a slow
link): the same bytes ``derived`` gives, one round trip to a server for a task's worth, and a
thumbnail that is damaged, not stored or not a photo's left out for ``derived`` to remake."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import update

from tests import helpers as h
from tests import postgres
from tracker.bench.delay_proxy import DelayProxy
from tracker.core.crypto.keys import KdfParams
from tracker.core.db import server
from tracker.core.db.models import BlobChunk
from tracker.core.store import server_keys
from tracker.core.store.library import Library
from tracker.core.store.server_library import ServerLibrary, ServerPhotoStore

PASS = "pässwörd-for-tests"
CHEAP = KdfParams(memory_kib=19 * 1024, iterations=2, lanes=1)  # the weakest allowed: fast


def _jpegs(folder: Path, n: int) -> list[Path]:
    paths = []
    for seed in range(n):
        rng = np.random.default_rng(seed)
        out = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(out, "JPEG")
        path = folder / f"IMG_{seed}.jpg"
        path.write_bytes(out.getvalue())
        paths.append(path)
    return paths


def _imported(lib: Library, tmp_path: Path, n: int = 4) -> list[str]:
    done = h.import_files(lib, _jpegs(tmp_path, n), area="Belly").imported
    return [p.sha256 for p in done]


def test_the_thumbnails_read_together_are_those_derived_gives(
    library: Library, tmp_path: Path
) -> None:
    shas = _imported(library, tmp_path)
    absent = "f" * 64
    held = library.cached("thumbs", [*shas, absent, shas[0]])
    assert held == {sha: library.derived("thumbs", sha) for sha in shas}
    assert all(Image.open(io.BytesIO(data)).size[0] > 0 for data in held.values())


@pytest.fixture(params=["plain", "encrypted"])
def clinic(request: pytest.FixtureRequest, pg_server: postgres.Server) -> Iterator[str]:
    with pg_server.clinic() as url:
        if request.param == "encrypted":
            engine = server.make_pg_engine(url)
            try:
                server_keys.encrypt_new(engine, PASS, CHEAP)
            finally:
                engine.dispose()
        yield url


def test_on_a_server_a_tasks_thumbnails_are_one_round_trip_and_a_damaged_one_is_left_out(
    clinic: str, pg_server: postgres.Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ServerLibrary.open_server(clinic, passphrase=PASS) as lib:
        encrypted = lib.keys is not None
        shas = _imported(lib, tmp_path, 8)
        with lib.session() as s:  # the second thumbnail's stored bytes changed
            s.execute(
                update(BlobChunk)
                .where(BlobChunk.sha256 == shas[1], BlobChunk.kind == "thumbs")
                .values(data=b"\0" * 64)
            )
        store = lib.store
        assert isinstance(store, ServerPhotoStore)
        if store.local is not None:
            for sha in shas:
                store.local.drop(sha)  # as on another workstation: none kept here yet
    with (
        DelayProxy(pg_server.socket, delay_s=0.0) as proxy,
        ServerLibrary.open_server(proxy.reaching(clinic), passphrase=PASS) as lib,
    ):
        lib.cached("thumbs", [])  # nothing asked: no round trip
        lib.engine.connect().close()  # the pool's connection made
        before = proxy.requests
        held = lib.cached("thumbs", shas)
        assert proxy.requests - before == 1
        assert set(held) == set(shas) - {shas[1]}
        # The damaged one is made again from its original by ``derived``.
        assert Image.open(io.BytesIO(lib.derived("thumbs", shas[1]))).size[0] > 0
        if encrypted:  # kept on this workstation now: no round trip the next time
            before = proxy.requests
            assert lib.cached("thumbs", shas[2:]) == {s: held[s] for s in shas[2:]}
            assert proxy.requests == before
