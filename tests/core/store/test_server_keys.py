"""An encrypted clinic library (tracker/core/store/server_keys.py, issue 21): its key document in
the database, its photos encrypted on the workstation so that the server holds no plaintext
photo, opened with the passphrase or the recovery key, refused without or with a wrong one,
and the front desk (who reads no key) opening it without one. Against the throwaway server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import event, select, text

from tests import helpers as h
from tests import postgres
from tracker.core.care.server_backup import backup_server
from tracker.core.care.server_check import check_server
from tracker.core.crypto.keys import KdfParams
from tracker.core.db import roles, server
from tracker.core.db.models import BlobChunk
from tracker.core.errors import KeyFileDamaged, UsageError, WrongPassphrase
from tracker.core.services import clients, erase
from tracker.core.services.erase import Target
from tracker.core.store import server_keys
from tracker.core.store.server_keys import PassphraseNeeded
from tracker.core.store.server_library import ServerLibrary

PASS = "the clinic's long passphrase"
CHEAP = KdfParams(memory_kib=19 * 1024, iterations=2, lanes=1)  # the weakest allowed: fast


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[tuple[str, str]]:
    """An encrypted clinic library's URL and recovery key."""
    with pg_server.clinic() as url:
        engine = server.make_pg_engine(url)
        try:
            recovery = server_keys.encrypt_new(engine, PASS, CHEAP)
        finally:
            engine.dispose()
        yield url, recovery


def _jpeg(path: Path, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return out.getvalue()


def test_the_server_holds_no_plaintext_photo_and_the_workstation_reads_it_back(
    clinic: tuple[str, str], tmp_path: Path
) -> None:
    url, _recovery = clinic
    photo = tmp_path / "belly.jpg"
    data = _jpeg(photo, 3)
    with ServerLibrary.open_server(url, passphrase=PASS) as lib:
        assert isinstance(lib, ServerLibrary) and lib.keys is not None
        (done,) = h.import_files(lib, [photo], area="Belly").imported
        thumb = lib.derived("thumbs", done.sha256)
        with lib.session() as s:
            assert lib.blobs.read(s, "original", done.sha256) == data
            chunks = b"".join(s.scalars(select(BlobChunk.data)))
        assert check_server(lib).problems == []
    # What the server holds: ciphertext only, of the original and of its thumbnail.
    assert chunks and thumb
    for plain in (data, thumb):
        assert all(plain[i : i + 32] not in chunks for i in range(0, len(plain) - 32, 997))
    assert b"\xff\xd8\xff" not in chunks
    engine = server.make_pg_engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT document FROM library_key")).scalar_one()
    finally:
        engine.dispose()
    doc = json.loads(stored)
    assert "master" not in doc and set(doc) >= {"passphrase", "recovery", "check", "kdf"}


def test_without_the_passphrase_or_with_a_wrong_one_it_stays_closed(
    clinic: tuple[str, str],
) -> None:
    url, recovery = clinic
    with pytest.raises(PassphraseNeeded, match="is encrypted"):
        ServerLibrary.open_server(url)
    with pytest.raises(WrongPassphrase, match="wrong"):
        ServerLibrary.open_server(url, passphrase="not the clinic's passphrase")
    with ServerLibrary.open_server(url, recovery_key=recovery) as lib:
        assert lib.keys is not None
        clients.add_client(lib, "Réka Balogh")


def test_only_an_empty_library_is_encrypted_and_only_once(pg_server: postgres.Server) -> None:
    with pg_server.database() as url:
        engine = server.make_pg_engine(url)
        try:
            roles.create_clinic(engine)
            with ServerLibrary.open_server(url) as lib, lib.session() as s:
                s.execute(
                    text(
                        "INSERT INTO blob (sha256, kind, size, chunks, created_at) "
                        "VALUES (:s, 'original', 1, 1, now())"
                    ),
                    {"s": "ab" * 32},
                )
            with pytest.raises(UsageError, match="holds photos already"):
                server_keys.encrypt_new(engine, PASS, CHEAP)
            with engine.begin() as conn:
                conn.execute(text("DELETE FROM blob"))
            server_keys.encrypt_new(engine, PASS, CHEAP)
            with pytest.raises(UsageError, match="encrypted already"):
                server_keys.encrypt_new(engine, PASS, CHEAP)
        finally:
            engine.dispose()


def test_a_damaged_key_document_is_a_sentence(clinic: tuple[str, str]) -> None:
    url, _recovery = clinic
    engine = server.make_pg_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE library_key SET document = '{\"format\": 99}'"))
    finally:
        engine.dispose()
    with pytest.raises(KeyFileDamaged, match="key document of"):
        ServerLibrary.open_server(url, passphrase=PASS)


def test_the_front_desk_reads_no_key_and_opens_without_one(clinic: tuple[str, str]) -> None:
    url, _recovery = clinic
    engine = server.make_pg_engine(url)
    try:
        roles.add_user(engine, "desk_two", "front-desk", "desk pw")
        with engine.connect() as conn:
            conn.execute(text("SET ROLE desk_two"))
            with pytest.raises(Exception, match="permission denied"):
                conn.execute(text("SELECT document FROM library_key")).all()
    finally:
        engine.dispose()


def test_a_backup_that_would_hold_the_photos_in_plain_is_refused(
    clinic: tuple[str, str], tmp_path: Path
) -> None:
    url, _recovery = clinic
    out = tmp_path / "clinic.zip"
    with ServerLibrary.open_server(url, passphrase=PASS) as lib:
        assert isinstance(lib, ServerLibrary)
        with pytest.raises(UsageError, match="would hold them in plain"):
            backup_server(lib, out)
    assert list(tmp_path.iterdir()) == []


def test_thumbnails_are_kept_encrypted_on_the_workstation_and_go_with_an_erased_photo(
    clinic: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _recovery = clinic
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    photos = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    for seed, path in enumerate(photos):
        _jpeg(path, seed)
    with ServerLibrary.open_server(url, passphrase=PASS) as opened:
        lib = opened
        assert isinstance(lib, ServerLibrary)
        done = h.import_files(lib, photos, area="Belly").imported
        shas = [d.sha256 for d in done]
        thumbs = [lib.derived("thumbs", sha) for sha in shas]  # fetched, then kept here
        kept = sorted((tmp_path / "cache").rglob("*.thumb"))
        assert [p.stem for p in kept] == sorted(shas)
        by_sha = dict(zip(shas, thumbs, strict=True))
        for path in kept:
            thumb = by_sha[path.stem]
            stored = path.read_bytes()
            assert thumb[:3] == b"\xff\xd8\xff" and b"\xff\xd8\xff" not in stored
            assert thumb[100:132] not in stored
            assert path.stat().st_mode & 0o077 == 0
        statements: list[str] = []
        event.listen(lib.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        assert lib.derived("thumbs", shas[0]) == thumbs[0]
        assert statements == []  # from this workstation's copy: no round trip
        # A copy changed on the disk is not used: fetched again, and kept anew.
        first = next(p for p in kept if p.stem == shas[0])
        first.write_bytes(first.read_bytes()[:-1] + b"\x00")
        assert lib.derived("thumbs", shas[0]) == thumbs[0] and statements
        # Another workstation keeps its copies; an erasure here takes this one's at once.
        other_cache = tmp_path / "other-cache"
        monkeypatch.setenv("XDG_CACHE_HOME", str(other_cache))
        with ServerLibrary.open_server(url, passphrase=PASS) as other:
            assert other.derived("thumbs", shas[1]) == thumbs[1]
        assert len(list(other_cache.rglob("*.thumb"))) == 1
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        erase.erase(lib, Target.PHOTO, done[1].photo_id)
        assert [p.stem for p in (tmp_path / "cache").rglob("*.thumb")] == [shas[0]]
    # ... and the other workstation's copy goes when it next opens the library.
    monkeypatch.setenv("XDG_CACHE_HOME", str(other_cache))
    with ServerLibrary.open_server(url, passphrase=PASS):
        assert list(other_cache.rglob("*.thumb")) == []


def test_a_plain_clinic_library_keeps_no_thumbnail_on_the_workstation(
    pg_server: postgres.Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    photo = tmp_path / "a.jpg"
    _jpeg(photo, 1)
    with pg_server.clinic() as url, ServerLibrary.open_server(url) as lib:
        (done,) = h.import_files(lib, [photo], area="Belly").imported
        assert lib.derived("thumbs", done.sha256)[:3] == b"\xff\xd8\xff"
    assert not (tmp_path / "cache").exists()
