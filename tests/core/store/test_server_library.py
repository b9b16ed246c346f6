"""A clinic library in PostgreSQL opened as a Library (tracker/core/store/server_library.py,
issue 21): imported photos through the import service, their originals, thumbnails and
previews in the database with their rows, erased with them, checked, and what only a folder
can do refused with a sentence. Against a throwaway server (tests/postgres.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import queue
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select, update

from tests import helpers as h
from tests import postgres
from tracker.core.care import backups
from tracker.core.care.server_check import check_server
from tracker.core.db import notify, roles, server
from tracker.core.db.models import Blob, BlobChunk, Photo, Visit
from tracker.core.db.server_errors import PermissionRefused
from tracker.core.services import clients, erase
from tracker.core.services.erase import Target
from tracker.core.store.server_library import FolderOnly, ServerLibrary

TOLD_WITHIN_S = 10.0


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[str]:
    """The URL of a new clinic library ('tracker clinic create'), dropped after the test."""
    with pg_server.clinic() as url:
        yield url


@pytest.fixture
def lib(clinic: str) -> Iterator[ServerLibrary]:
    opened = ServerLibrary.open_server(clinic)
    yield opened
    opened.close()


def photos(folder: Path, count: int = 3) -> list[Path]:
    """Real JPEGs of noise (each different, so no two hash alike)."""
    rng = np.random.default_rng(21)
    out = []
    for n in range(count):
        pixels = rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)
        path = folder / f"shot{n}.jpg"
        Image.fromarray(pixels).save(path, quality=88)
        out.append(path)
    return out


def blob_names(lib: ServerLibrary) -> set[tuple[str, str]]:
    with lib.session() as s:
        return {(kind, sha[:12]) for kind, sha in lib.blobs.stored(s)}


def test_photos_imported_listed_shown_erased_and_checked_in_the_database(
    lib: ServerLibrary, tmp_path: Path
) -> None:
    files = photos(tmp_path)
    report = h.import_files(lib, files, area="Belly", date=dt.date(2026, 11, 3))
    assert not report.rejected and len(report.imported) == 3
    listed = h.list_photos(lib)
    assert [p["sha256"] for p in listed] == [
        hashlib.sha256(f.read_bytes()).hexdigest() for f in files
    ]
    for path, photo in zip(files, listed, strict=True):
        sha = photo["sha256"]
        with lib.session() as s:
            assert lib.blobs.read(s, "original", sha) == path.read_bytes()
            assert lib.blobs.has(s, "thumbs", sha)  # made at import, stored with the row
            assert not lib.blobs.has(s, "previews", sha)  # a JPEG's: on first view
        thumb = lib.derived("thumbs", sha)
        with Image.open(io.BytesIO(thumb)) as im:
            assert im.format == "JPEG" and max(im.size) <= 400
        preview = lib.derived("previews", sha)
        with lib.session() as s:
            assert lib.blobs.read(s, "previews", sha) == preview  # kept for the next view
        with Image.open(io.BytesIO(preview)) as im:
            assert im.size == (400, 300)
    assert check_server(lib).problems == []
    assert check_server(lib).photos_checked == 3

    gone = listed[0]
    erase.erase(lib, Target.PHOTO, int(gone["id"]))
    assert [p["id"] for p in h.list_photos(lib)] == [p["id"] for p in listed[1:]]
    names = blob_names(lib)
    assert not {n for n in names if n[1] == gone["sha256"][:12]}
    assert len(names) == 2 * 3  # the two left: each original, thumbnail and preview
    assert check_server(lib).problems == []


def test_an_import_rolled_back_leaves_no_blob_and_an_erasure_rolled_back_keeps_them(
    lib: ServerLibrary, tmp_path: Path
) -> None:
    h.import_files(lib, photos(tmp_path, 1), area="Hips")
    (photo,) = h.list_photos(lib)
    before = blob_names(lib)
    # An erasure whose transaction fails: the original stays with its row.
    with pytest.raises(RuntimeError), lib.session() as s:
        lib.store.hold_original(photo["sha256"], "jpg")
        s.delete(s.get_one(Photo, photo["id"]))
        s.flush()
        raise RuntimeError("cut off")
    assert blob_names(lib) == before and len(h.list_photos(lib)) == 1
    # An import whose row is refused by the database: nothing of its blobs is stored.
    data = b"\xff\xd8 bytes never recorded"
    sha = hashlib.sha256(data).hexdigest()
    staged = lib.store.stage_original(data, sha, "jpg")
    with pytest.raises(RuntimeError), lib.session() as s:
        row = s.get_one(Photo, photo["id"])
        s.add(
            Photo(
                visit_id=row.visit_id,
                area_id=row.area_id,
                view=row.view,
                taken_at=row.taken_at,
                date_source=row.date_source,
                width=1,
                height=1,
                sha256=sha,
                ext="jpg",
                format="JPEG",
                file_size=len(data),
                original_name="other.jpg",
            )
        )
        s.flush()
        raise RuntimeError("cut off after the row")
    lib.store.discard_staged(staged)
    with lib.session() as s:
        assert s.scalar(select(func.count()).select_from(Blob).where(Blob.sha256 == sha)) == 0
    assert blob_names(lib) == before


def test_what_only_a_folder_can_do_is_refused_with_a_sentence(
    lib: ServerLibrary, tmp_path: Path
) -> None:
    out = tmp_path / "backup.zip"
    with pytest.raises(FolderOnly, match=r"is in a database, not a folder") as refused:
        backups.backup(lib, out)
    assert "\n" not in str(refused.value)
    assert not out.exists()
    with pytest.raises(FolderOnly, match="works on a folder only"):
        lib.store.plain_reader(io.BytesIO(), "0" * 64, "jpg", "x")


def test_the_front_desk_opens_it_but_the_server_refuses_it_a_photo(
    clinic: str, pg_server: postgres.Server
) -> None:
    """Writable for what it may do (``test_server_library_rights``: booking, names); a photo
    row is the server's refusal, typed and said in one sentence."""
    name = f"desk_{uuid.uuid4().hex[:8]}"
    owner = server.make_pg_engine(clinic)
    try:
        roles.add_user(owner, name, roles.FRONT_DESK, "a password not asked on this socket")
    finally:
        owner.dispose()
    as_desk = clinic.replace("postgres@", f"{name}@")
    lib = ServerLibrary.open_server(as_desk)
    try:
        assert lib.read_only is None and lib.withheld is not None
        with (
            pytest.raises(PermissionRefused, match=f"Your login {name} may not"),
            lib.session() as s,
        ):
            s.scalars(select(Photo)).all()
    finally:
        lib.close()
        pg_server.admin(f"DROP OWNED BY {name}")
        pg_server.admin(f"DROP ROLE {name}")


def test_each_commit_is_told_to_other_workstations(lib: ServerLibrary, clinic: str) -> None:
    engine = server.make_pg_engine(clinic)
    try:
        with notify.ChangeListener(engine) as listening:
            assert listening.wait_listening(10)
            client_id = clients.add_client(lib, "Ana Ortiz")
            change = listening.changes.get(timeout=TOLD_WITHIN_S)
            assert change.origin == lib.origin and "client" in change.tables
            visit = h.add_visit(lib, day=dt.date(2026, 11, 20))
            change = listening.changes.get(timeout=TOLD_WITHIN_S)
            assert change.origin == lib.origin
            assert change.tables.get("visit") in ({visit.visit_id}, None)
            assert client_id == h.only_client(lib)
    except queue.Empty:
        raise AssertionError("no change was told") from None
    finally:
        engine.dispose()
    with lib.session() as s:
        assert s.scalar(select(func.count()).select_from(Visit)) == 1


def test_check_reports_a_changed_a_missing_and_an_orphan_blob(
    lib: ServerLibrary, tmp_path: Path
) -> None:
    h.import_files(lib, photos(tmp_path, 3), area="Thighs")
    changed, missing, _kept = (p["sha256"] for p in h.list_photos(lib))
    with lib.session() as s:
        first = s.scalar(
            select(BlobChunk.data).where(
                BlobChunk.sha256 == changed, BlobChunk.kind == "original", BlobChunk.seq == 0
            )
        )
        assert first is not None
        flipped = bytes(first[:300]) + bytes([first[300] ^ 0xFF]) + bytes(first[301:])
        s.execute(
            update(BlobChunk)
            .where(BlobChunk.sha256 == changed, BlobChunk.kind == "original", BlobChunk.seq == 0)
            .values(data=flipped)
        )
        lib.blobs.delete(s, "original", missing)
        orphan = b"bytes no photo names"
        lib.blobs.put(s, "original", hashlib.sha256(orphan).hexdigest(), orphan)
    report = check_server(lib)
    found = sorted((p.kind, p.sha256) for p in report.problems)
    assert found == sorted(
        [
            ("changed_original", changed),
            ("missing_original", missing),
            ("orphan_file", hashlib.sha256(orphan).hexdigest()),
        ]
    ), report.problems
    assert all("\n" not in p.detail for p in report.problems)


def test_erasing_a_visit_takes_every_photos_blobs_with_its_rows(
    lib: ServerLibrary, tmp_path: Path
) -> None:
    report = h.import_files(lib, photos(tmp_path, 3), area="Arms", date=dt.date(2026, 9, 9))
    (visit_id,) = {r.visit_id for r in report.imported}
    assert len(blob_names(lib)) == 3 * 2  # each original and thumbnail
    erase.erase(lib, Target.VISIT, visit_id)
    assert h.list_photos(lib) == []
    assert blob_names(lib) == set()
    assert check_server(lib).problems == []
