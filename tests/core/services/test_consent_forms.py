"""A consent's signed form (issue 20): checked by its content, kept as an original (encrypted
in an encrypted library), written once, exported to a new file only, checked, carried by
backups, erased with its client, and audited."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import check, import_files, only_client
from tracker.core.care import backups, repair, restore
from tracker.core.care.encrypt import encrypt_library
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.domain.consent import MAX_FORM_BYTES, Action, FormKind, Purpose, form_kind
from tracker.core.errors import (
    NotFoundError,
    OriginalsDamaged,
    StorageError,
    UsageError,
    ValidationError,
)
from tracker.core.services import audit, consent, consent_forms, erase
from tracker.core.services.clients import add_client
from tracker.core.store import encrypted
from tracker.core.store.library import Library
from tracker.core.store.photos import PhotoStore

CANARY = b"CANARY-signed-by-Ana-Lima-0042"
PASS = "a passphrase for the forms"


def pdf(text: bytes = CANARY) -> bytes:
    body = b"1 0 obj << /Type /Catalog >> endobj\n(" + text + b")\n" + os.urandom(300)
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + body + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((64, 48), 40).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((32, 32), 40).convert("RGB").save(out, "PNG")
    return out.getvalue()


def heic() -> bytes:
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + os.urandom(200)


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Library]:
    with Library.open(tmp_path / "lib", create=True) as opened:
        yield opened


def _consent(lib: Library, form: bytes | None = None, name: str = "form.pdf") -> int:
    return consent.add(
        lib,
        only_client(lib),
        Purpose.TEACHING,
        identifiable=False,
        form=None if form is None else (form, name),
    )


def _file(lib: Library, consent_id: int) -> Path:
    return lib.root / consent_forms.form_of(lib, consent_id).relpath


def test_a_form_is_known_by_its_content_not_its_name(tmp_path: Path) -> None:
    assert form_kind(pdf()) is FormKind.PDF
    assert form_kind(jpeg()) is FormKind.JPEG
    assert form_kind(png()) is FormKind.PNG
    assert form_kind(heic()) is FormKind.HEIC
    assert form_kind(b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00mif1avif") is None
    assert form_kind(pdf()[:-40]) is None  # cut short: no %%EOF at its end
    assert form_kind(b"just some text") is None
    scanned = pdf()
    (tmp_path / "scan.jpg").write_bytes(scanned)
    data, kind = consent_forms.read_form_file(tmp_path / "scan.jpg")
    assert kind is FormKind.PDF and data == scanned
    (tmp_path / "notes.pdf").write_text("Ana agreed on the phone")
    with pytest.raises(ValidationError, match=r"notes\.pdf is not a PDF, JPEG, PNG or HEIC"):
        consent_forms.read_form_file(tmp_path / "notes.pdf")
    (tmp_path / "empty.pdf").write_bytes(b"")
    with pytest.raises(ValidationError, match=r"empty\.pdf is empty"):
        consent_forms.read_form_file(tmp_path / "empty.pdf")
    (tmp_path / "huge.pdf").write_bytes(pdf() + b"\0" * MAX_FORM_BYTES)
    with pytest.raises(ValidationError, match=r"more than a signed form may be \(20 MB\)"):
        consent_forms.read_form_file(tmp_path / "huge.pdf")
    with pytest.raises(ValidationError, match="There is no file"):
        consent_forms.read_form_file(tmp_path / "gone.pdf")


@pytest.mark.folder_only(reason="files")
def test_a_form_is_kept_as_an_original_with_its_consent_and_audited(lib: Library) -> None:
    data = pdf()
    ident = _consent(lib, data, "ana-teaching.pdf")
    (row,) = consent.consents(lib, consent_ids=[ident])
    assert row.form is FormKind.PDF and row.form_size == len(data)
    assert row.as_dict()["form"] == "pdf"
    path = _file(lib, ident)
    assert path.parent.parent.name == "originals" and path.name.endswith(".form.pdf")
    assert path.read_bytes() == data
    assert os.stat(path).st_mode & 0o777 == 0o400  # written once
    assert not list((lib.root / "tmp").iterdir())
    got, form = consent_forms.read(lib, ident)
    assert got == data and form.kind is FormKind.PDF
    details = [e.detail for e in audit.entries(lib) if e.action is Action.CONSENT]
    assert details[-1] == "form attached: PDF, ana-teaching.pdf"
    assert check(lib).ok and audit.verify(lib) == []


@pytest.mark.folder_only(reason="files")
def test_a_bad_form_records_no_consent(lib: Library) -> None:
    with pytest.raises(ValidationError, match=r"scan\.pdf is not a PDF"):
        _consent(lib, b"<html>not a form</html>", "scan.pdf")
    assert consent.consents(lib) == []
    assert not list((lib.root / "tmp").iterdir())


@pytest.mark.folder_only(reason="files")
def test_one_form_per_consent_written_once_and_put_back_when_lost(lib: Library) -> None:
    ident = _consent(lib)
    with pytest.raises(NotFoundError, match=f"Consent {ident} holds no signed form"):
        consent_forms.read(lib, ident)
    first = jpeg()
    consent_forms.attach(lib, ident, first, name="photo-of-form.jpg")
    with pytest.raises(UsageError, match="already holds its signed form"):
        consent_forms.attach(lib, ident, png(), name="other.png")
    with pytest.raises(UsageError, match="already holds this signed form"):
        consent_forms.attach(lib, ident, first, name="again.jpg")
    path = _file(lib, ident)
    os.chmod(path.parent, 0o700)
    path.unlink()
    report = check(lib)
    assert [p.kind for p in report.problems] == ["missing_form"]
    assert report.problems[0].detail.startswith(f"Consent {ident}'s signed form originals/")
    assert "is missing" in report.problems[0].detail
    with pytest.raises(NotFoundError, match="is missing; restore it from a backup"):
        consent_forms.read(lib, ident)
    consent_forms.attach(lib, ident, first, name="found-again.jpg")
    assert consent_forms.read(lib, ident)[0] == first and check(lib).ok
    assert audit.entries(lib)[-1].detail == "form put back: JPEG, found-again.jpg"


@pytest.mark.folder_only(reason="files")
def test_a_changed_form_is_reported_and_never_read_as_the_form(lib: Library) -> None:
    ident = _consent(lib, png(), "form.png")
    path = _file(lib, ident)
    os.chmod(path, 0o600)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    (problem,) = check(lib).problems
    assert problem.kind == "changed_form"
    assert f"Consent {ident}'s signed form" in problem.detail and "has changed" in problem.detail
    with pytest.raises(StorageError, match="has changed since it was attached"):
        consent_forms.read(lib, ident)


@pytest.mark.folder_only(reason="files")
def test_export_writes_the_bytes_to_a_new_file_only(lib: Library, tmp_path: Path) -> None:
    data = pdf()
    ident = _consent(lib, data)
    out = tmp_path / "out.pdf"
    consent_forms.export(lib, ident, out)
    assert out.read_bytes() == data
    entry = audit.entries(lib)[-1]
    assert entry.action is Action.EXPORTED and entry.detail == "signed form: out.pdf"
    assert entry.subject == f"consent {ident}; client {only_client(lib)}"
    (tmp_path / "taken.pdf").write_bytes(b"keep me")
    with pytest.raises(UsageError, match=r"taken\.pdf already exists"):
        consent_forms.export(lib, ident, tmp_path / "taken.pdf")
    assert (tmp_path / "taken.pdf").read_bytes() == b"keep me"
    with pytest.raises(UsageError, match="inside the library folder"):
        consent_forms.export(lib, ident, lib.root / "out.pdf")
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.folder_only(reason="files")
def test_a_form_recorded_but_not_yet_moved_is_finished_when_the_library_opens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lib"
    data = heic()
    with Library.open(root, create=True) as lib:
        ident = _consent(lib)

        def cut(_self: PhotoStore, _staged: Path) -> None:
            raise OSError(5, "Input/output error")

        monkeypatch.setattr(PhotoStore, "commit_staged", cut)
        with pytest.raises(StorageError, match="finished when the library is next opened"):
            consent_forms.attach(lib, ident, data, name="phone.heic")
        monkeypatch.undo()
        assert list((root / "tmp").glob("*.form.heic.staged"))
    with Library.open(root) as lib:
        assert not list((root / "tmp").iterdir())
        assert consent_forms.read(lib, ident)[0] == data
        assert check(lib).ok


@pytest.mark.folder_only(reason="files")
def test_erasing_a_client_erases_their_forms_and_no_one_elses(lib: Library) -> None:
    shared, theirs = pdf(b"the clinic's blank form"), jpeg()
    mine = _consent(lib, shared)
    ana = add_client(lib, "Ana Lima")
    ana_ids = [
        consent.add(lib, ana, Purpose.CARE, identifiable=True, form=(theirs, "a.jpg")),
        consent.add(lib, ana, Purpose.SHOWN, identifiable=True, form=(shared, "b.pdf")),
    ]
    ana_files = [_file(lib, i) for i in ana_ids]
    erase.erase(lib, erase.Target.CLIENT, ana)
    assert not ana_files[0].exists()
    assert ana_files[1].exists() and consent_forms.read(lib, mine)[0] == shared
    assert not list((lib.root / "tmp").rglob("*.*"))
    assert check(lib).ok


@pytest.mark.folder_only(reason="repair")
def test_quarantine_leaves_the_forms_alone(lib: Library) -> None:
    ident = _consent(lib, pdf())
    stray = lib.root / "originals" / "zz" / ("f" * 64 + ".jpg")
    stray.parent.mkdir()
    stray.write_bytes(jpeg())
    assert repair.quarantine_orphans(lib)["moved"] == 1
    assert _file(lib, ident).exists() and check(lib).ok


@pytest.mark.folder_only(reason="backup")
def test_a_backup_carries_the_forms_and_restores_them(lib: Library, tmp_path: Path) -> None:
    photo = tmp_path / "p.png"
    Image.effect_noise((40, 30), 30).convert("RGB").save(photo)
    import_files(lib, [photo], area="Hips")
    first, data = _consent(lib, pdf()), png()
    second = consent.add(lib, only_client(lib), Purpose.CARE, identifiable=True, form=(data, "x"))
    third = consent.add(lib, only_client(lib), Purpose.SHOWN, identifiable=True, form=(data, "y"))
    result = backups.backup(lib, tmp_path / "b.zip")
    assert result["files"] == 4  # the database, the photo, two forms (one held twice)
    done = restore.restore(tmp_path / "b.zip", tmp_path / "back")
    assert done["audit"] == []
    with Library.open(tmp_path / "back") as back:
        assert check(back).ok
        assert consent_forms.read(back, first)[0] == consent_forms.read(lib, first)[0]
        assert consent_forms.read(back, second)[0] == data == consent_forms.read(back, third)[0]


@pytest.mark.folder_only(reason="backup")
def test_a_missing_form_stops_a_backup_unless_forced(lib: Library, tmp_path: Path) -> None:
    ident = _consent(lib, pdf())
    path = _file(lib, ident)
    os.chmod(path.parent, 0o700)
    path.unlink()
    with pytest.raises(OriginalsDamaged, match=f"consent {ident}'s signed form .* is missing"):
        backups.backup(lib, tmp_path / "b.zip")
    result = backups.backup(lib, tmp_path / "b.zip", force=True)
    (left,) = result["left_out"]
    assert left["consent_id"] == ident and left["why"] == "missing"
    restore.restore(tmp_path / "b.zip", tmp_path / "back")
    with Library.open(tmp_path / "back") as back:
        assert [p.kind for p in check(back).problems] == ["missing_form"]


def test_in_an_encrypted_library_a_form_is_never_in_the_clear(tmp_path: Path) -> None:
    lib, _recovery = encrypted.create(tmp_path / "lib", PASS, MIN_KDF)
    data = pdf()
    try:
        ident = _consent(lib, data, "ana.pdf")
        assert consent_forms.read(lib, ident)[0] == data
        backups.backup(lib, tmp_path / "b.zip")
        for folder in (lib.root, tmp_path):
            for dirpath, _dirs, names in os.walk(folder):
                for name in names:
                    held = (Path(dirpath) / name).read_bytes()
                    assert CANARY not in held and b"%PDF" not in held, name
        path = _file(lib, ident)
        os.chmod(path, 0o600)
        stored = bytearray(path.read_bytes())
        stored[len(stored) // 2] ^= 1
        path.write_bytes(bytes(stored))
        (problem,) = check(lib).problems
        assert problem.kind == "changed_form" and problem.detail.startswith(f"Consent {ident}:")
    finally:
        lib.close()
    back = tmp_path / "back"
    restore.restore(tmp_path / "b.zip", back, unlock=lambda f: encrypted.unlock(f, passphrase=PASS))
    with Library.open(back, keys=encrypted.unlock(back, passphrase=PASS)) as restored:
        assert consent_forms.read(restored, ident)[0] == data
        assert check(restored).ok


@pytest.mark.folder_only(reason="encryption")
def test_encrypting_a_library_encrypts_its_forms(tmp_path: Path) -> None:
    root, data = tmp_path / "lib", pdf()
    with Library.open(root, create=True) as lib:
        ident = _consent(lib, data, "plain.pdf")
    encrypt_library(root, PASS, kdf=MIN_KDF)
    (stored,) = (root / "originals").glob("*/*.form.pdf")
    assert CANARY not in stored.read_bytes() and b"%PDF" not in stored.read_bytes()
    with Library.open(root, keys=encrypted.unlock(root, passphrase=PASS)) as lib:
        assert consent_forms.read(lib, ident)[0] == data
        assert check(lib).ok
