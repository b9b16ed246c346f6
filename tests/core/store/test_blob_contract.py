"""The contract of ``store.blobs.BlobStore`` (issue 21), one set of tests run on every store:
the shared folder, the database on SQLite and the database on PostgreSQL, each plain and
encrypted. Damage is done to each store as it keeps its bytes (a file; a chunk's row)."""

from __future__ import annotations

import hashlib
import secrets
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests import postgres
from tracker.core.crypto.cipher import FileCipher
from tracker.core.crypto.keys import Keys
from tracker.core.crypto.layout import CHUNK, HEADER_SIZE, TAG
from tracker.core.db import engine as db
from tracker.core.db import server
from tracker.core.errors import NotFoundError
from tracker.core.store.blobs import BlobDamaged, BlobKind, BlobRefused, BlobStore
from tracker.core.store.blobs_db import DatabaseBlobStore
from tracker.core.store.blobs_folder import FolderBlobStore

Damage = Literal["flip", "truncate", "drop-last"]


@dataclass
class Case:
    store: BlobStore
    sessions: Callable[[], Session]
    # Spoil a blob as it is stored: a byte of its second chunk changed, that chunk cut
    # short by 5 bytes, or its last chunk gone.
    damage: Callable[[BlobKind, str, Damage], None]
    # Every byte the store keeps (files, or the database's files), to look for plaintext.
    everything: Callable[[], bytes]
    close: Callable[[], None]
    # Put one blob's stored bytes (and, in the database, its row's) under another's name.
    transplant: Callable[[BlobKind, str, str], None]

    @property
    def encrypted(self) -> bool:
        return self.store.encrypted


def _cipher() -> FileCipher:
    return FileCipher(Keys(master=secrets.token_bytes(32), library_id="blob-contract"))


def _photo(size: int, marker: bytes = b"") -> tuple[bytes, str]:
    data = marker + secrets.token_bytes(size - 2 * len(marker)) + marker
    return data, hashlib.sha256(data).hexdigest()


def _offset(seq: int, encrypted: bool) -> int:
    """Where a chunk starts in a file the folder store writes."""
    return HEADER_SIZE + seq * (CHUNK + TAG) if encrypted else seq * CHUNK


def _folder_case(root: Path, encrypted: bool) -> Case:
    store = FolderBlobStore(root, _cipher() if encrypted else None)
    engine = sa.create_engine(f"sqlite:///{root.parent / 'rows.sqlite3'}")

    def damage(kind: BlobKind, sha256: str, how: Damage) -> None:
        path = store.path(kind, sha256)
        path.chmod(0o600)
        data = bytearray(path.read_bytes())
        start = _offset(1, encrypted)
        if how == "flip":
            data[start + 100] ^= 0x01
        elif how == "truncate":
            del data[start + CHUNK - 5 : start + CHUNK]
        else:
            body = len(data) - HEADER_SIZE if encrypted else len(data)
            del data[_offset(body // (CHUNK + TAG if encrypted else CHUNK), encrypted) :]
        path.write_bytes(bytes(data))

    def everything() -> bytes:
        return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())

    def transplant(kind: BlobKind, source: str, dest: str) -> None:
        path = store.path(kind, dest)
        path.chmod(0o600)
        path.write_bytes(store.path(kind, source).read_bytes())

    return Case(store, sessionmaker(engine), damage, everything, engine.dispose, transplant)


def _migrated_sqlite(path: Path) -> Engine:
    engine = db.make_engine(path, foreign_keys=False)
    with engine.begin() as conn:
        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    engine.dispose()
    return db.make_engine(path)


def _chunk_damage(engine: Engine) -> Callable[[BlobKind, str, Damage], None]:
    def damage(kind: BlobKind, sha256: str, how: Damage) -> None:
        key = {"s": sha256, "k": kind}
        where = "WHERE sha256 = :s AND kind = :k AND seq = :q"
        with engine.begin() as conn:
            last = conn.scalar(
                sa.text("SELECT max(seq) FROM blob_chunk WHERE sha256 = :s AND kind = :k"), key
            )
            seq = last if how == "drop-last" else 1
            if how == "drop-last":
                conn.execute(sa.text(f"DELETE FROM blob_chunk {where}"), {**key, "q": seq})
                return
            data = bytearray(
                conn.scalar(sa.text(f"SELECT data FROM blob_chunk {where}"), {**key, "q": seq})
            )
            if how == "flip":
                data[100] ^= 0x01
            else:
                del data[-5:]
            conn.execute(
                sa.text(f"UPDATE blob_chunk SET data = :d {where}"),
                {**key, "q": seq, "d": bytes(data)},
            )

    return damage


def _transplant(engine: Engine) -> Callable[[BlobKind, str, str], None]:
    def transplant(kind: BlobKind, source: str, dest: str) -> None:
        names = {"s": source, "d": dest, "k": kind}
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM blob_chunk WHERE sha256 = :d AND kind = :k"), names)
            conn.execute(
                sa.text(
                    "UPDATE blob SET size = (SELECT size FROM blob WHERE sha256 = :s AND kind = :k),"
                    " chunks = (SELECT chunks FROM blob WHERE sha256 = :s AND kind = :k),"
                    " header = (SELECT header FROM blob WHERE sha256 = :s AND kind = :k)"
                    " WHERE sha256 = :d AND kind = :k"
                ),
                names,
            )
            conn.execute(
                sa.text(
                    "INSERT INTO blob_chunk (sha256, kind, seq, data) SELECT :d, kind, seq, data"
                    " FROM blob_chunk WHERE sha256 = :s AND kind = :k"
                ),
                names,
            )

    return transplant


def _sqlite_case(root: Path, encrypted: bool) -> Case:
    path = root / "library.sqlite3"
    root.mkdir(parents=True)
    engine = _migrated_sqlite(path)

    def everything() -> bytes:
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return b"".join(p.read_bytes() for p in sorted(root.iterdir()) if p.is_file())

    store = DatabaseBlobStore(_cipher() if encrypted else None)
    return Case(
        store,
        sessionmaker(engine),
        _chunk_damage(engine),
        everything,
        engine.dispose,
        _transplant(engine),
    )


def _postgres_case(pg: postgres.Server, url: str, encrypted: bool) -> Case:
    engine = server.make_pg_engine(url)
    server.upgrade(engine)

    def everything() -> bytes:
        # What the server wrote to its disk: its tables' files and its write-ahead log.
        pg.admin("CHECKPOINT")
        files = sorted((pg.socket_dir / "data").rglob("*"))
        return b"".join(p.read_bytes() for p in files if p.is_file())

    store = DatabaseBlobStore(_cipher() if encrypted else None)
    return Case(
        store,
        sessionmaker(engine),
        _chunk_damage(engine),
        everything,
        engine.dispose,
        _transplant(engine),
    )


KINDS = ["folder", "sqlite", "postgres"]


@pytest.fixture(
    params=[(k, e) for k in KINDS for e in (False, True)],
    ids=[f"{k}-{'encrypted' if e else 'plain'}" for k in KINDS for e in (False, True)],
)
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    kind, encrypted = request.param
    if kind == "postgres":
        pg = request.getfixturevalue("pg_server")
        with pg.database() as url:
            made = _postgres_case(pg, url, encrypted)
            yield made
            made.close()
        return
    made = (_folder_case if kind == "folder" else _sqlite_case)(tmp_path / kind, encrypted)
    yield made
    made.close()


def _put(case: Case, kind: BlobKind, sha256: str, data: bytes) -> bool:
    with case.sessions() as s:
        written = case.store.put(s, kind, sha256, data)
        s.commit()
    return written


def test_an_original_and_its_pictures_come_back_as_they_were_put(case: Case) -> None:
    data, sha = _photo(CHUNK + 12_345)
    assert _put(case, "original", sha, data)
    assert _put(case, "thumbs", sha, b"thumbnail jpeg")
    empty = hashlib.sha256(b"").hexdigest()
    assert _put(case, "original", empty, b"")
    with case.sessions() as s:
        assert case.store.has(s, "original", sha) and case.store.has(s, "thumbs", sha)
        assert not case.store.has(s, "previews", sha)
        assert case.store.read(s, "original", sha) == data
        assert case.store.size(s, "original", sha) == len(data)
        assert case.store.read(s, "thumbs", sha) == b"thumbnail jpeg"
        assert case.store.read(s, "original", empty) == b""
        assert case.store.verify(s, "original", sha) is None
        assert case.store.verify(s, "thumbs", sha) is None
        assert sorted(case.store.stored(s)) == sorted(
            [("original", sha), ("original", empty), ("thumbs", sha)]
        )
    # A thumbnail made again replaces the one there.
    assert _put(case, "thumbs", sha, b"made again")
    with case.sessions() as s:
        assert case.store.read(s, "thumbs", sha) == b"made again"


def test_an_original_is_written_once_and_only_under_its_own_sha(case: Case) -> None:
    data, sha = _photo(2000)
    assert _put(case, "original", sha, data)
    assert not _put(case, "original", sha, data)  # the same photo again: the same blob
    other, other_sha = _photo(2000)
    with case.sessions() as s, pytest.raises(BlobRefused) as refused:
        case.store.put(s, "original", sha, other)
    assert str(refused.value) == (
        f"The stored original {sha[:12]} was not stored: the bytes given are not the photo of "
        "that SHA-256 (another photo's, or changed since they were hashed)."
    )
    with case.sessions() as s:
        assert list(case.store.stored(s)) == [("original", sha)]
        assert case.store.read(s, "original", sha) == data
        assert not case.store.has(s, "original", other_sha)


def test_a_rolled_back_or_abandoned_session_leaves_no_blob(case: Case) -> None:
    data, sha = _photo(CHUNK + 1)
    with case.sessions() as s:
        assert case.store.put(s, "original", sha, data)
        assert case.store.put(s, "previews", sha, b"preview")
        # The session sees what it put, before it commits.
        assert case.store.has(s, "original", sha)
        assert case.store.read(s, "original", sha) == data
        s.rollback()
        assert not case.store.has(s, "original", sha)
    with case.sessions() as s:
        case.store.put(s, "original", sha, data)  # closed without a commit
    with case.sessions() as s:
        assert not case.store.has(s, "original", sha)
        assert not case.store.has(s, "previews", sha)
        assert list(case.store.stored(s)) == []
    if isinstance(case.store, FolderBlobStore):
        assert list(case.store.tmp.iterdir()) == []


def test_a_delete_is_kept_with_its_commit_only(case: Case) -> None:
    data, sha = _photo(500)
    _put(case, "original", sha, data)
    with case.sessions() as s:
        case.store.delete(s, "original", sha)
        assert not case.store.has(s, "original", sha)
        s.rollback()
    with case.sessions() as s:
        assert case.store.read(s, "original", sha) == data
        case.store.delete(s, "original", sha)
        s.commit()
    with case.sessions() as s:
        assert not case.store.has(s, "original", sha)
        assert list(case.store.stored(s)) == []


@pytest.mark.parametrize("how", ["flip", "truncate", "drop-last"])
def test_a_damaged_original_is_refused_with_a_sentence_and_found_by_verify(
    case: Case, how: Damage
) -> None:
    data, sha = _photo(3 * CHUNK + 777)
    _put(case, "original", sha, data)
    case.damage("original", sha, how)
    with case.sessions() as s:
        with pytest.raises(BlobDamaged) as refused:
            case.store.read(s, "original", sha)
        sentence = str(refused.value)
        assert sentence.startswith(f"The stored original {sha[:12]} ")
        assert sentence.endswith("; nothing of it is used.")
        found = case.store.verify(s, "original", sha)
        assert found is not None and found.startswith(f"The stored original {sha[:12]} ")
        # Streamed, the end of the photo never comes out; encrypted, every chunk is checked
        # on its own, so nothing past the damage does either.
        got = b""
        with pytest.raises(BlobDamaged), case.store.open(s, "original", sha) as fh:
            while piece := fh.read(65_536):
                got += piece
        assert len(got) < len(data)
        assert data.startswith(got) or not case.store.encrypted


def test_a_damaged_thumbnail_is_refused(case: Case) -> None:
    _, sha = _photo(100)
    _put(case, "thumbs", sha, secrets.token_bytes(CHUNK + 300))
    case.damage("thumbs", sha, "flip")
    with case.sessions() as s:
        with pytest.raises(BlobDamaged, match=r"^The stored thumbnail of \w{12} is damaged"):
            case.store.read(s, "thumbs", sha)
        assert case.store.verify(s, "thumbs", sha) is not None


def test_thumbnails_read_together_are_those_read_one_by_one_and_the_damaged_left_out(
    case: Case,
) -> None:
    photos = [_photo(100, bytes([n])) for n in range(4)]
    shas = [sha for _data, sha in photos]
    for n, sha in enumerate(shas[:3]):
        _put(case, "thumbs", sha, f"thumbnail {n}".encode())
    # Two chunks: read one by one in the database, and damaged besides.
    _put(case, "thumbs", shas[2], secrets.token_bytes(CHUNK + 300))
    case.damage("thumbs", shas[2], "flip")
    _put(case, "original", shas[0], photos[0][0])
    with case.sessions() as s:
        held = case.store.read_small(s, "thumbs", [*shas, shas[0], "not a sha"])
        assert held == {sha: case.store.read(s, "thumbs", sha) for sha in shas[:2]}
        assert case.store.read_small(s, "original", shas) == {}  # never: they are streamed
        assert case.store.read_small(s, "previews", shas) == {}


def test_a_missing_blob_is_said_in_a_sentence(case: Case) -> None:
    sha = "ab" * 32
    with case.sessions() as s:
        with pytest.raises(NotFoundError) as missing:
            case.store.read(s, "original", sha)
        assert str(missing.value) == (
            "The stored original abababababab is not in the store; put it back from a backup "
            "('tracker restore')."
        )
        assert case.store.verify(s, "original", sha) == str(missing.value)
        with pytest.raises(NotFoundError, match="preview of abababababab is not in the store"):
            case.store.size(s, "previews", sha)


def test_a_large_original_is_streamed_a_chunk_at_a_time(case: Case) -> None:
    data, sha = _photo(12 * CHUNK + 5)
    _put(case, "original", sha, data)
    digest = hashlib.sha256()
    with case.sessions() as s:
        tracemalloc.start()
        try:
            with case.store.open(s, "original", sha) as fh:
                while piece := fh.read(65_536):
                    digest.update(piece)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert digest.hexdigest() == sha
    # At most a few chunks are held at once (the one read, the one ahead, its ciphertext),
    # never the whole photo.
    assert peak < 6 * CHUNK, f"{peak / CHUNK:.1f} MiB held to stream a 12 MiB photo"


def test_no_plaintext_is_kept_when_encrypted(case: Case) -> None:
    marker = b"PLAIN-" + secrets.token_hex(8).encode() + b"-PHOTO"
    data, sha = _photo(2 * CHUNK, marker)
    _put(case, "original", sha, data)
    _put(case, "previews", sha, marker + b" preview")
    kept = case.everything()
    if case.store.encrypted:
        assert marker not in kept
    else:  # the search finds it where it is there to find
        assert marker in kept


def test_one_originals_bytes_under_anothers_name_are_refused(case: Case) -> None:
    data, sha = _photo(CHUNK + 10)
    other, other_sha = _photo(CHUNK + 10)
    _put(case, "original", sha, data)
    _put(case, "original", other_sha, other)
    case.transplant("original", other_sha, sha)
    with case.sessions() as s:
        with pytest.raises(BlobDamaged, match=f"^The stored original {sha[:12]} "):
            case.store.read(s, "original", sha)
        assert case.store.read(s, "original", other_sha) == other


def test_an_encrypted_blob_is_refused_by_another_librarys_keys(case: Case) -> None:
    if not isinstance(case.store, (FolderBlobStore, DatabaseBlobStore)) or not case.encrypted:
        pytest.skip("only an encrypted store has keys")
    data, sha = _photo(1000)
    _put(case, "original", sha, data)
    case.store.cipher = _cipher()
    with (
        case.sessions() as s,
        pytest.raises(BlobDamaged, match="was not encrypted by this library"),
    ):
        case.store.read(s, "original", sha)


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_the_folder_finishes_a_rename_cut_off_after_its_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encrypted: bool
) -> None:
    case = _folder_case(tmp_path / "shared", encrypted)
    store = case.store
    assert isinstance(store, FolderBlobStore)
    kept, kept_sha = _photo(CHUNK + 3)
    lost, lost_sha = _photo(700)
    # The process dies between the database's commit and the renames: nothing is put in place.
    monkeypatch.setattr(store, "_commit", lambda pending: pending.clear())
    _put(case, "original", kept_sha, kept)
    _put(case, "original", lost_sha, lost)
    (store.tmp / "original-junk.part").write_bytes(b"half a photo")
    monkeypatch.undo()
    again = FolderBlobStore(store.root, store.cipher)
    with case.sessions() as s:
        assert not again.has(s, "original", kept_sha)
    report = again.recover(lambda kind, sha: kind == "original" and sha == kept_sha)
    assert (report.rolled_forward, report.removed) == (1, 2)
    with case.sessions() as s:
        assert again.read(s, "original", kept_sha) == kept
        assert not again.has(s, "original", lost_sha)
    assert list(again.tmp.iterdir()) == []
    case.close()


def test_on_postgresql_two_sessions_storing_one_original_make_one_blob(
    pg_server: postgres.Server,
) -> None:
    with pg_server.database() as url:
        case = _postgres_case(pg_server, url, encrypted=False)
        data, sha = _photo(CHUNK + 50)
        first, second = case.sessions(), case.sessions()
        try:
            assert case.store.put(first, "original", sha, data)
            outcome: list[bool] = []
            # The second waits for the first's row; once it is committed, the second sees the
            # same original there and goes on (its savepoint undoes only its own insert).
            racer = threading.Thread(
                target=lambda: outcome.append(case.store.put(second, "original", sha, data))
            )
            racer.start()
            racer.join(timeout=1.0)
            assert racer.is_alive()  # waiting on the first's uncommitted row
            first.commit()
            racer.join(timeout=30)
            assert outcome == [False]
            second.commit()
            with case.sessions() as s:
                assert list(case.store.stored(s)) == [("original", sha)]
                assert case.store.read(s, "original", sha) == data
        finally:
            first.close()
            second.close()
            case.close()
