"""A library folder moved into a clinic library (tracker/core/care/clinic_migrate.py, issue
21): every row with its id, every original and signed form checked and read back, the trail
still holding, the folder untouched; refused, with nothing written, for a damaged original, a
clinic library that is not empty, a login that is not its owner, an encrypted or an older
folder. And a server library's backup that restores as a folder (care/server_backup.py), which
moves back in. Against a throwaway server (tests/postgres.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy import func, select, text

from tests import helpers as h
from tests import postgres
from tracker.core.care import clinic_migrate, server_backup, table_copy
from tracker.core.care.restore import restore
from tracker.core.care.server_check import check_server
from tracker.core.db import roles, server
from tracker.core.db.models import Area, Audit, Blob, Client, Photo, RaterRole
from tracker.core.domain.consent import Purpose
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.errors import LibraryError, OriginalsDamaged, StorageError, UsageError
from tracker.core.services import audit, clients, consent
from tracker.core.services.consent_forms import form_of
from tracker.core.store.library import Library
from tracker.core.store.server_library import ServerLibrary

DAY = dt.date(2026, 10, 1)


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[str]:
    with pg_server.clinic() as url:
        yield url


@pytest.fixture
def lib(clinic: str) -> Iterator[ServerLibrary]:
    opened = ServerLibrary.open_server(clinic)
    yield opened
    opened.close()


def _jpegs(folder: Path, count: int, seed: int = 3) -> list[Path]:
    rng = np.random.default_rng(seed)
    out = []
    for n in range(count):
        path = folder / f"shot{seed}-{n}.jpg"
        Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(path)
        out.append(path)
    return out


def _pdf() -> bytes:
    body = b"1 0 obj << /Type /Catalog >> endobj\n" + os.urandom(200)
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + body + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def make_folder(root: Path, shots: Path) -> Path:
    """A small library: two clients, photos in two areas (the treated one naming a control
    area made after it), a rating, a treatment record, a consent with a signed form, audit
    entries."""
    shots.mkdir()
    with Library.open(root, create=True) as lib:
        h.import_files(lib, _jpegs(shots, 3), area="Belly", date=DAY)
        h.import_files(lib, _jpegs(shots, 1, seed=4), area="Hips", date=DAY)
        h.add_visit(
            lib,
            day=DAY + dt.timedelta(days=28),
            area="Belly",
            treatment=TreatmentInput(device="pen", needle_depth_mm=1.5, passes=3),
        )
        me = h.only_client(lib)
        h.rate(
            lib,
            area="Belly",
            day=DAY,
            role=RaterRole.PATIENT,
            values={"colour": 6, "texture": 5, "depth": 4},
        )
        other = clients.add_client(lib, "Bea")
        h.import_files(lib, _jpegs(shots, 1, seed=5), area="Thighs", client="Bea", date=DAY)
        consent.add(lib, me, Purpose.TEACHING, identifiable=False, form=(_pdf(), "f.pdf"))
        h.consent_to_care(lib, "Bea")
        with lib.session() as s:
            belly, hips = (
                s.scalar(select(Area).where(Area.name == name)) for name in ("Belly", "Hips")
            )
            assert belly is not None and hips is not None and belly.id < hips.id
            hips.is_control = True
            belly.control_area_id = hips.id
        assert other > 0
    return root


def files_of(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def rows_of(lib: Library) -> dict[str, int]:
    with lib.session() as s:
        return table_copy.counts(s)


def blob_count(lib: ServerLibrary) -> int:
    with lib.session() as s:
        return int(s.scalar(select(func.count()).select_from(Blob)) or 0)


def test_a_folder_library_moves_in_whole_and_the_folder_is_untouched(
    lib: ServerLibrary, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    before = files_of(folder)
    with clinic_migrate.open_folder(folder) as source:
        expected = rows_of(source)
        with source.session() as s:
            shas = {int(i): str(sha) for i, sha in s.execute(select(Photo.id, Photo.sha256))}
            areas = {a.id: a.control_area_id for a in s.scalars(select(Area))}
        (form_consent,) = [c for c in consent.consents(source) if c.form is not None]
        form = form_of(source, form_consent.id)
    done = clinic_migrate.migrate_from(folder, lib)
    assert done == {
        "clients": 2,
        "visits": expected["visit"],
        "photos": 5,
        "bytes": sum((folder / p).stat().st_size for p in before if p.startswith("originals/")),
        "verified": 6,
    }
    assert files_of(folder) == before  # nothing written there, not even a lock
    assert rows_of(lib) == {**expected, "audit": expected["audit"] + 1}
    with lib.session() as s:
        assert {int(i): str(sha) for i, sha in s.execute(select(Photo.id, Photo.sha256))} == shas
        assert {a.id: a.control_area_id for a in s.scalars(select(Area))} == areas
        for photo_id, sha in shas.items():
            (path,) = folder.glob(f"originals/*/{sha}.*")
            assert lib.blobs.read(s, "original", sha) == path.read_bytes(), photo_id
        assert lib.blobs.read(s, "original", form.sha256) == (folder / form.relpath).read_bytes()
        last = s.scalars(select(Audit).order_by(Audit.id.desc())).first()
        assert last is not None and last.action == "restored" and last.actor == "postgres"
        assert last.detail == "moved in from the library folder lib"
    report = check_server(lib)
    assert report.ok, report.problems
    assert report.photos_checked == 5
    assert audit.verify(lib) == []
    # The sequences were moved past the copied ids: new rows get new ids.
    new = clients.add_client(lib, "Cai")
    with lib.session() as s:
        assert new > int(s.scalar(select(func.max(Client.id)).where(Client.id != new)) or 0)
    added = h.import_files(lib, _jpegs(tmp_path, 1, seed=9), area="Belly", client="Me", date=DAY)
    assert added.imported and added.imported[0].photo_id > max(shas)
    consent.add(lib, new, Purpose.CARE, identifiable=True)  # an audit entry after the copied
    assert audit.verify(lib) == []


def test_a_changed_original_is_refused_naming_it_and_nothing_is_written(
    lib: ServerLibrary, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    with clinic_migrate.open_folder(folder) as source, source.session() as s:
        photo_id, sha, ext = s.execute(
            select(Photo.id, Photo.sha256, Photo.ext).order_by(Photo.id.desc()).limit(1)
        ).one()
    path = folder / "originals" / sha[:2] / f"{sha}.{ext}"
    path.chmod(0o600)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    relpath = f"originals/{sha[:2]}/{sha}.{ext}"
    with pytest.raises(OriginalsDamaged) as refused:
        clinic_migrate.migrate_from(folder, lib)
    said = str(refused.value)
    assert f"photo {photo_id}'s original {relpath} has changed" in said and "\n" not in said
    assert set(rows_of(lib).values()) == {0} and blob_count(lib) == 0
    path.unlink()
    with pytest.raises(OriginalsDamaged, match=f"photo {photo_id}'s original .* is missing"):
        clinic_migrate.migrate_from(folder, lib)
    assert set(rows_of(lib).values()) == {0} and blob_count(lib) == 0


def test_a_missing_signed_form_is_refused_naming_its_consent(
    lib: ServerLibrary, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    (form,) = folder.glob("originals/*/*.form.pdf")
    form.unlink()
    with pytest.raises(
        OriginalsDamaged, match=r"consent \d+'s signed form .*\.form\.pdf is missing"
    ):
        clinic_migrate.migrate_from(folder, lib)
    assert set(rows_of(lib).values()) == {0} and blob_count(lib) == 0


def test_a_clinic_library_that_holds_anything_is_refused(
    lib: ServerLibrary, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    clients.add_client(lib, "Already here")
    with pytest.raises(UsageError, match=r"already holds 1 client: .* nothing was written"):
        clinic_migrate.migrate_from(folder, lib)
    assert rows_of(lib)["client"] == 1 and rows_of(lib)["photo"] == 0
    with lib.session() as s:
        s.execute(text("DELETE FROM client"))
    audit.record(lib, audit.Action.OPENED)
    with pytest.raises(UsageError, match=r"is not empty \(1 audit row\)"):
        clinic_migrate.migrate_from(folder, lib)
    assert rows_of(lib)["client"] == 0 and blob_count(lib) == 0


def test_only_the_owner_moves_a_library_in(
    clinic: str, pg_server: postgres.Server, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    name = f"boss_{uuid.uuid4().hex[:8]}"
    owner = server.make_pg_engine(clinic)
    try:
        roles.add_user(owner, name, roles.ADMIN, "a password not asked on this socket")
    finally:
        owner.dispose()
    try:
        admin = ServerLibrary.open_server(clinic.replace("postgres@", f"{name}@"))
        try:
            with pytest.raises(LibraryError, match=f"{name} may not move a library into"):
                clinic_migrate.migrate_from(folder, admin)
            assert set(rows_of(admin).values()) == {0}
        finally:
            admin.close()
    finally:
        pg_server.admin(f"DROP OWNED BY {name}")
        pg_server.admin(f"DROP ROLE {name}")


def test_an_older_or_encrypted_folder_or_no_library_is_refused(
    lib: ServerLibrary, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="There is no library at"):
        clinic_migrate.migrate_from(tmp_path, lib)
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    (folder / "library.key").write_text("{}")
    with pytest.raises(UsageError, match=r"is encrypted and the clinic library .* is not"):
        clinic_migrate.migrate_from(folder, lib)
    with pytest.raises(UsageError, match="is encrypted: it is moved in with its passphrase"):
        clinic_migrate.migrate_from(folder, lib, allow_plain=True)
    (folder / "library.key").unlink()
    with Library.open(folder) as opened, opened.session() as s:
        s.execute(text("UPDATE alembic_version SET version_num = '0008'"))
    with pytest.raises(UsageError, match=r"is at schema 0008, not this version.s .* open it once"):
        clinic_migrate.migrate_from(folder, lib)
    engine = sa.create_engine(f"sqlite:///{folder / 'library.sqlite3'}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    with pytest.raises(UsageError, match=r"written by a newer version of the app \(schema 0999\)"):
        clinic_migrate.migrate_from(folder, lib)
    assert set(rows_of(lib).values()) == {0} and blob_count(lib) == 0


def test_a_server_backup_restores_as_a_folder_that_moves_back_in(
    lib: ServerLibrary, pg_server: postgres.Server, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    clinic_migrate.migrate_from(folder, lib)
    expected = rows_of(lib)
    out = tmp_path / "clinic.zip"
    result = server_backup.backup_server(lib, out)
    assert result["files"] == 1 + 6 and result["left_out"] == []
    restored = restore(out, tmp_path / "back")
    assert restored["photos"] == 5
    with Library.open(tmp_path / "back") as back:
        report = h.check(back)
        assert report.ok, report.problems
        # the restore's own entry follows the server's trail, which holds
        assert rows_of(back) == {**expected, "audit": expected["audit"] + 1}
        assert audit.verify(back) == []
    for rel, sha in files_of(folder).items():
        if rel.startswith("originals/"):
            assert files_of(tmp_path / "back")[rel] == sha
    with pg_server.clinic() as url:
        again = ServerLibrary.open_server(url)
        try:
            done = clinic_migrate.migrate_from(tmp_path / "back", again)
            assert done["photos"] == 5 and done["verified"] == 6
            assert check_server(again).ok
            assert audit.verify(again) == []
        finally:
            again.close()


def test_a_damaged_blob_is_not_backed_up(lib: ServerLibrary, tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    clinic_migrate.migrate_from(folder, lib)
    with lib.session() as s:
        photo_id, sha = s.execute(select(Photo.id, Photo.sha256).order_by(Photo.id).limit(1)).one()
        s.execute(
            text("UPDATE blob_chunk SET data = :d WHERE sha256 = :s AND kind = 'original'"),
            {"d": b"not the photo", "s": sha},
        )
    out = tmp_path / "clinic.zip"
    with pytest.raises(OriginalsDamaged, match=f"photo {photo_id}'s original .* so no backup"):
        server_backup.backup_server(lib, out)
    assert not out.exists() and list(tmp_path.glob(".clinic.zip*")) == []
    forced = server_backup.backup_server(lib, out, force=True)
    assert [d["photo_id"] for d in forced["left_out"]] == [photo_id]
    restored = restore(out, tmp_path / "back")
    assert len(restored["left_out"]) == 1


def test_an_assistant_may_not_back_up_a_clinic_library(
    lib: ServerLibrary, clinic: str, pg_server: postgres.Server, tmp_path: Path
) -> None:
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    clinic_migrate.migrate_from(folder, lib)
    name = f"aide_{uuid.uuid4().hex[:8]}"
    owner = server.make_pg_engine(clinic)
    try:
        roles.add_user(owner, name, roles.ASSISTANT, "a password not asked on this socket")
    finally:
        owner.dispose()
    out = tmp_path / "clinic.zip"
    try:
        aide = ServerLibrary.open_server(clinic.replace("postgres@", f"{name}@"))
        try:
            with pytest.raises(LibraryError, match=f"{name} may not back up .* only an admin"):
                server_backup.backup_server(aide, out)
        finally:
            aide.close()
    finally:
        pg_server.admin(f"DROP OWNED BY {name}")
        pg_server.admin(f"DROP ROLE {name}")
    assert not out.exists() and list(tmp_path.glob(".clinic.zip*")) == []


def test_an_original_that_does_not_read_back_is_refused_and_nothing_is_kept(
    lib: ServerLibrary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    with clinic_migrate.open_folder(folder) as source, source.session() as s:
        first = s.execute(select(Photo.id, Photo.sha256).order_by(Photo.id).limit(1)).one()
    monkeypatch.setattr(lib.blobs, "read", lambda _s, _kind, _sha: b"not what was written")
    with pytest.raises(
        StorageError,
        match=rf"photo {first[0]}'s original originals/.*{first[1]}.* did not read back",
    ):
        clinic_migrate.migrate_from(folder, lib)
    monkeypatch.undo()
    assert set(rows_of(lib).values()) == {0} and blob_count(lib) == 0


def test_a_folder_open_in_the_app_is_refused_untouched(lib: ServerLibrary, tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "lib", tmp_path / "shots")
    with Library.open(folder), pytest.raises(UsageError, match="is open in the app"):
        clinic_migrate.migrate_from(folder, lib)
    assert set(rows_of(lib).values()) == {0} and blob_count(lib) == 0
