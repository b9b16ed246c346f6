"""`tracker --library postgresql://… repair …` (issue 21): the repairs `check` suggests, made of
a clinic library's stored files (``core.care.server_repair``). Each test damages the server's
blobs by hand (as the library's owner, with SQL), sees `check` report it, the repair mend it and
`check` clean after. Against a throwaway server (tests/postgres.py)."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from tests import postgres
from tests.conftest import run_cli
from tracker.core.care import server_repair
from tracker.core.crypto import keys as crypto_keys
from tracker.core.db import roles, server
from tracker.core.store import server_keys
from tracker.core.store.local_thumbs import LocalThumbs
from tracker.core.store.server_library import ServerLibrary

PASSPHRASE = "the clinic's repair passphrase, ça va"


@pytest.fixture(autouse=True)
def _no_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TRACKER_LIBRARY", "TRACKER_CLINIC_PASSWORD", "TRACKER_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the kept thumbnails


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[tuple[str, Engine]]:
    """A clinic library and its owner's engine (for the damage done by hand)."""
    with pg_server.clinic() as url:
        owner = server.make_pg_engine(url)
        try:
            yield url, owner
        finally:
            owner.dispose()


def _jpegs(folder: Path, count: int, seed: int = 3) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = []
    for n in range(count):
        path = folder / f"arm{n}.jpg"
        Image.fromarray(rng.integers(0, 255, (200, 260, 3), dtype=np.uint8)).save(path)
        out.append(path)
    return out


def _ok(*args: str) -> Any:
    done = run_cli(*args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _refused(*args: str) -> str:
    done = run_cli(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sql(owner: Engine, statement: str, **params: object) -> Any:
    with owner.begin() as conn:
        return conn.execute(sa.text(statement), params)


def _kinds(owner: Engine, sha: str) -> set[str]:
    with owner.connect() as conn:
        return set(conn.scalars(sa.text("SELECT kind FROM blob WHERE sha256 = :s"), {"s": sha}))


def _problems(url: str) -> list[tuple[str, str]]:
    done = run_cli("--library", url, "check", "--json")
    assert done.returncode in (0, 1), done.stderr
    return sorted((p["kind"], p["sha256"]) for p in json.loads(done.stdout)["problems"])


def _import(url: str, files: list[Path]) -> dict[str, int]:
    imported = _ok("--library", url, "import", *map(str, files), "--area", "Arm", "--date",
                   "2026-11-02")  # fmt: skip
    return {_sha(Path(i["file"])): i["photo_id"] for i in imported["imported"]}


def _damage_chunk(owner: Engine, sha: str, kind: str) -> None:
    """One byte of the blob's first chunk changed, as a disk or a hand might."""
    _sql(
        owner,
        "UPDATE blob_chunk SET data = overlay(data placing "
        "decode(lpad(to_hex((get_byte(data, 5) + 1) % 256), 2, '0'), 'hex') from 6 for 1) "
        "WHERE sha256 = :s AND kind = :k AND seq = 0",
        s=sha,
        k=kind,
    )


def test_rebuild_cache_makes_lost_and_damaged_pictures_again_and_names_an_unreadable_original(
    clinic: tuple[str, Engine], tmp_path: Path
) -> None:
    url, owner = clinic
    files = _jpegs(tmp_path / "in", 3)
    ids = _import(url, files)
    lost, damaged, unreadable = (_sha(p) for p in files)
    _sql(owner, "DELETE FROM blob WHERE sha256 = :s AND kind <> 'original'", s=lost)
    # Made on first view for a JPEG, or at import: either way there is one to damage now.
    _ok("--library", url, "repair", "rebuild-cache")
    _damage_chunk(owner, damaged, "thumbs")
    _sql(owner, "DELETE FROM blob WHERE sha256 = :s AND kind <> 'original'", s=lost)
    _sql(owner, "DELETE FROM blob WHERE sha256 = :s AND kind = 'original'", s=unreadable)
    assert ("cache", damaged) in _problems(url)
    assert _kinds(owner, lost) == {"original"}

    done = _ok("--library", url, "repair", "rebuild-cache")
    assert done == {
        "rebuilt": 2, "failed": 1, "failed_photos": [ids[unreadable]], "cancelled": False
    }  # fmt: skip
    assert _kinds(owner, lost) == {"original", "thumbs", "previews"}
    assert _problems(url) == [("missing_original", unreadable)]  # the cache is whole again
    said = run_cli("--library", url, "repair", "rebuild-cache")
    assert said.returncode == 0
    assert f"Not photo(s) {ids[unreadable]}: the original is missing" in said.stdout


def test_relink_puts_back_a_missing_original_and_form_and_with_changed_a_damaged_one(
    clinic: tuple[str, Engine], tmp_path: Path
) -> None:
    url, owner = clinic
    files = _jpegs(tmp_path / "in", 3, seed=8)
    form = tmp_path / "in" / "signed.png"
    Image.fromarray(np.full((40, 30, 3), 200, dtype=np.uint8)).save(form)
    _import(url, files)
    _ok("--library", url, "consent", "add", "care", "--form", str(form))
    missing, changed, _whole = (_sha(p) for p in files)
    for sha in (missing, _sha(form)):
        _sql(owner, "DELETE FROM blob WHERE sha256 = :s AND kind = 'original'", s=sha)
    _damage_chunk(owner, changed, "original")
    assert _problems(url) == sorted(
        [("missing_original", missing), ("missing_form", _sha(form)), ("changed_original", changed)]
    )
    copies = tmp_path / "copies" / "deep"
    copies.mkdir(parents=True)
    for path in [*files, form]:
        shutil.copy(path, copies / f"renamed-{path.name}")
    (copies / "unrelated.bin").write_bytes(secrets.token_bytes(form.stat().st_size))
    before = {p: p.read_bytes() for p in copies.iterdir()}

    done = _ok("--library", url, "repair", "relink", str(tmp_path / "copies"))
    assert done == {
        "relinked": 2, "still_missing": 0, "replaced": 0, "still_changed": 0, "quarantine": "",
        "cancelled": False,
    }  # fmt: skip
    assert _problems(url) == [("changed_original", changed)]  # asked for with --changed only
    said = run_cli("--library", url, "repair", "relink", "--changed", str(tmp_path / "copies"))
    assert said.returncode == 0, said.stderr
    assert "Put back 1 changed original(s); 0 still changed." in said.stdout
    assert "The damaged stored copies were replaced" in said.stdout
    assert _problems(url) == []
    assert {p: p.read_bytes() for p in copies.iterdir()} == before  # only read
    lib = ServerLibrary.open_server(url)
    try:
        with lib.session() as s:
            for path in [*files, form]:
                assert lib.blobs.read(s, "original", _sha(path)) == path.read_bytes()
    finally:
        lib.close()


def test_a_cancelled_relink_stops_between_two_files_and_keeps_what_it_put_back(
    clinic: tuple[str, Engine], tmp_path: Path
) -> None:
    """Stopped after the first file put back (``cancel`` as the window's Cancel): that one
    stays put back, the other is still missing, and the result says it was cancelled; one
    stopped while the folder is looked through puts nothing back."""
    url, owner = clinic
    files = _jpegs(tmp_path / "in", 2, seed=10)
    _import(url, files)
    for path in files:
        _sql(owner, "DELETE FROM blob WHERE sha256 = :s AND kind = 'original'", s=_sha(path))
    lib = ServerLibrary.open_server(url)
    try:
        said: list[tuple[int, int, str]] = []

        def progress(done: int, total: int, what: str) -> None:
            said.append((done, total, what))

        # Cancel once both files were looked at and one was put back.
        done = server_repair.relink(
            lib, tmp_path / "in", progress=progress, cancel=lambda: len(said) == 3
        )
        assert (done["relinked"], done["still_missing"], done["cancelled"]) == (1, 1, True)
        names = [p.name for p in files]
        assert said[:2] == [(1, 2, names[0]), (2, 2, names[1])], said
        assert said[2][:2] == (1, 2) and said[2][2] in {_sha(p)[:12] for p in files}, said
        assert len(_problems(url)) == 1
        stopped = server_repair.relink(lib, tmp_path / "in", cancel=lambda: True)
        assert (stopped["relinked"], stopped["still_missing"], stopped["cancelled"]) == (0, 1, True)
        assert len(_problems(url)) == 1
        finished = server_repair.relink(lib, tmp_path / "in")
        assert (finished["relinked"], finished["cancelled"]) == (1, False)
    finally:
        lib.close()
    assert _problems(url) == []


def test_relink_finds_nothing_in_a_folder_without_the_photos(
    clinic: tuple[str, Engine], tmp_path: Path
) -> None:
    url, owner = clinic
    files = _jpegs(tmp_path / "in", 1, seed=9)
    _import(url, files)
    _sql(owner, "DELETE FROM blob WHERE sha256 = :s AND kind = 'original'", s=_sha(files[0]))
    (tmp_path / "empty").mkdir()
    done = _ok("--library", url, "repair", "relink", str(tmp_path / "empty"))
    assert done["relinked"] == 0 and done["still_missing"] == 1
    assert _problems(url) == [("missing_original", _sha(files[0]))]
    said = _refused("--library", url, "repair", "relink", str(tmp_path / "none"))
    assert "is not a folder" in said


def test_quarantine_removes_stray_pictures_and_leaves_a_stray_original_named(
    clinic: tuple[str, Engine], tmp_path: Path
) -> None:
    url, owner = clinic
    files = _jpegs(tmp_path / "in", 1, seed=4)
    _import(url, files)
    _ok("--library", url, "repair", "rebuild-cache")
    photo = _sha(files[0])
    stray_picture, stray_original = (
        hashlib.sha256(b"a").hexdigest(),
        hashlib.sha256(b"b").hexdigest(),
    )
    for sha, kind in ((stray_picture, "thumbs"), (stray_original, "original")):
        _sql(
            owner,
            "INSERT INTO blob (sha256, kind, size, chunks, created_at) "
            "VALUES (:s, :k, 1, 1, now())",
            s=sha,
            k=kind,
        )
        _sql(
            owner,
            "INSERT INTO blob_chunk (sha256, kind, seq, data) VALUES (:s, :k, 0, '\\x62')",
            s=sha,
            k=kind,
        )
    assert _problems(url) == sorted(
        [("orphan_file", stray_picture), ("orphan_file", stray_original)]
    )
    done = _ok("--library", url, "repair", "quarantine")
    assert done == {
        "moved": 0, "folder": "", "removed": 1, "left": 1, "left_originals": [stray_original]
    }  # fmt: skip
    assert _kinds(owner, stray_picture) == set()
    assert _kinds(owner, stray_original) == {"original"}  # never deleted
    assert _kinds(owner, photo) == {"original", "thumbs", "previews"}  # the photo's own stay
    assert _problems(url) == [("orphan_file", stray_original)]
    said = run_cli("--library", url, "repair", "quarantine")
    assert said.returncode == 0 and "left where they are" in said.stdout
    assert stray_original[:12] in said.stdout


def test_a_stray_original_is_the_librarys_again_when_its_photo_is_imported_again(
    clinic: tuple[str, Engine], tmp_path: Path
) -> None:
    """What quarantine's sentence tells a person to do with a stray original they still have."""
    url, _owner = clinic
    _import(url, _jpegs(tmp_path / "in", 1, seed=1))
    photo = _jpegs(tmp_path / "lost", 1, seed=2)[0]
    lib = ServerLibrary.open_server(url)
    try:
        with lib.session() as s:  # stored, and its row gone: as work outside the app leaves it
            assert lib.blobs.put(s, "original", _sha(photo), photo.read_bytes())
    finally:
        lib.close()
    assert _ok("--library", url, "repair", "quarantine")["left_originals"] == [_sha(photo)]
    _import(url, [photo])
    assert _problems(url) == []


def test_restore_snapshot_is_refused_on_a_server_before_anything_is_opened(tmp_path: Path) -> None:
    nowhere = f"postgresql://nobody@/nodb?host={tmp_path / 'no-socket'}"
    said = _refused("--library", nowhere, "repair", "restore-snapshot")
    assert "is a clinic library: it has no database snapshots in backups/" in said
    assert "point-in-time recovery" in said and "tracker restore ARCHIVE.zip ADDRESS" in said
    assert "nothing was changed" in said


def test_rebuild_cache_of_an_encrypted_clinic_stores_ciphertext_and_drops_the_kept_copy(
    clinic: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, owner = clinic
    server_keys.encrypt_new(owner, PASSPHRASE, crypto_keys.MIN_KDF)
    monkeypatch.setenv("TRACKER_PASSPHRASE", PASSPHRASE)
    files = _jpegs(tmp_path / "in", 2, seed=6)
    _import(url, files)
    lost, damaged = (_sha(p) for p in files)
    _ok("--library", url, "repair", "rebuild-cache")
    _sql(owner, "DELETE FROM blob WHERE sha256 = :s AND kind <> 'original'", s=lost)
    _damage_chunk(owner, damaged, "previews")
    assert ("cache", damaged) in _problems(url)
    lib = ServerLibrary.open_server(url, passphrase=PASSPHRASE)
    assert lib.keys is not None
    kept = LocalThumbs(lib.keys)
    lib.close()
    kept.put(damaged, b"a stale kept thumbnail")
    assert kept.get(damaged) == b"a stale kept thumbnail"

    done = _ok("--library", url, "repair", "rebuild-cache")
    assert done == {"rebuilt": 2, "failed": 0, "failed_photos": [], "cancelled": False}
    assert kept.get(damaged) is None  # dropped: fetched again when shown
    assert _problems(url) == []
    with owner.connect() as conn:
        headers = conn.execute(
            sa.text("SELECT kind, header IS NOT NULL FROM blob WHERE sha256 = :s"), {"s": lost}
        ).all()
        chunks = b"".join(bytes(d) for d in conn.scalars(sa.text("SELECT data FROM blob_chunk")))
    assert sorted(headers) == [("original", True), ("previews", True), ("thumbs", True)]
    assert b"JFIF" not in chunks  # no picture in the clear on the server


# -- rights: what each role's repair does (docs/CLI.md's "## Clinic" table) ------------------------


def _blobs_digest(owner: Engine) -> str:
    with owner.connect() as conn:
        return str(
            conn.execute(
                sa.text(
                    "SELECT md5(coalesce(string_agg(b::text || c::text, ',' ORDER BY b::text, "
                    "c::text), '')) FROM blob b JOIN blob_chunk c USING (sha256, kind)"
                )
            ).scalar()
        )


def _login(pg_server: postgres.Server, url: str, owner: Engine, role: str) -> str:
    name = f"{role.replace('-', '_')}_{secrets.token_hex(4)}"
    password = f"secret of {name}"
    roles.add_user(owner, name, role, password)
    pg_server.admin(f"GRANT {postgres.PASSWORD_GROUP} TO {name}")
    return make_url(url).set(username=name, password=password).render_as_string(hide_password=False)


def test_each_role_repairs_what_it_may_and_the_server_refuses_the_rest_changing_nothing(
    clinic: tuple[str, Engine], pg_server: postgres.Server, tmp_path: Path
) -> None:
    url, owner = clinic
    files = _jpegs(tmp_path / "in", 3, seed=12)
    _import(url, files)
    _ok("--library", url, "repair", "rebuild-cache")
    missing, changed, _whole = (_sha(p) for p in files)
    logins = {role: _login(pg_server, url, owner, role) for role in roles.GROUPS}
    try:
        _sql(owner, "DELETE FROM blob WHERE sha256 = :s AND kind = 'original'", s=missing)
        _damage_chunk(owner, changed, "original")
        copies = str(tmp_path / "in")
        for role in (roles.FRONT_DESK, roles.ASSISTANT):
            for repair in (["rebuild-cache"], ["relink", "--changed", copies], ["quarantine"]):
                if role == roles.ASSISTANT and repair == ["quarantine"]:
                    continue  # nothing stray yet: below
                before = _blobs_digest(owner)
                said = _refused("--library", logins[role], "repair", *repair)
                assert f"it is {roles.ROLE_NAMES[role]} login" in said, (role, repair, said)
                assert "nothing was changed" in said and "secret of" not in said
                assert _blobs_digest(owner) == before, (role, repair)
        # An assistant adds stored files: a missing original is put back.
        done = _ok("--library", logins[roles.ASSISTANT], "repair", "relink", copies)
        assert done["relinked"] == 1 and done["still_missing"] == 0
        assert _problems(url) == [("changed_original", changed)]
        stray = hashlib.sha256(b"stray").hexdigest()
        _sql(owner, "INSERT INTO blob (sha256, kind, size, chunks, created_at) "
             "VALUES (:s, 'thumbs', 1, 1, now())", s=stray)  # fmt: skip
        before = _blobs_digest(owner)
        said = _refused("--library", logins[roles.ASSISTANT], "repair", "quarantine")
        assert "it is an assistant login" in said
        assert _kinds(owner, stray) == {"thumbs"}
        for role in (roles.ADMIN, roles.PRACTITIONER):
            rebuilt = _ok("--library", logins[role], "repair", "rebuild-cache")
            assert (rebuilt["rebuilt"], rebuilt["failed"]) == (2, 1)  # the damaged original
        done = _ok("--library", logins[roles.PRACTITIONER], "repair", "relink", "--changed", copies)
        assert done["replaced"] == 1
        assert _ok("--library", logins[roles.ADMIN], "repair", "quarantine")["removed"] == 1
        assert _problems(url) == []
        for login in logins.values():
            said = _refused("--library", login, "repair", "restore-snapshot")
            assert "has no database snapshots" in said
    finally:
        for login in logins.values():
            name = make_url(login).username
            pg_server.admin(f"DROP OWNED BY {name}")
            pg_server.admin(f"DROP ROLE {name}")


def test_quarantine_never_takes_a_photo_imported_meanwhile_for_a_stray(
    clinic: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another workstation imports a photo between the quarantine's reading of the photos
    and of the stored files: the two are read at one moment, so the new photo's thumbnail
    and original are in neither list (they were taken for strays, the thumbnail deleted)."""
    url, _owner = clinic
    (first,) = _jpegs(tmp_path / "a", 1)
    _ok("--library", url, "import", str(first), "--client", "Ana", "--area", "Arm")
    (new,) = _jpegs(tmp_path / "b", 1, seed=8)
    lib = ServerLibrary.open_server(url)
    real = type(lib.blobs).stored

    def stored(self: Any, s: Any) -> Any:
        _ok("--library", url, "import", str(new), "--client", "Ana", "--area", "Arm")
        return real(self, s)

    monkeypatch.setattr(type(lib.blobs), "stored", stored)
    try:
        done = server_repair.quarantine_orphans(lib)
    finally:
        monkeypatch.undo()
        lib.close()
    assert (done["removed"], done["left"]) == (0, 0), done
    assert _ok("--library", url, "check")["ok"] is True
