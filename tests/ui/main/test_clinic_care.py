"""The window's Library ▸ Check, repairs and Back up on a clinic library (issue 21): the
server's check (``core.care.server_check``), repairs (``server_repair``) and backup
(``server_backup``), as the command line makes them, off the GUI thread. The server's blobs
are damaged by hand, as its owner, with SQL (as tests/cli/test_cli_clinic_repair.py does);
only the modal dialogs (file choosers, message boxes) are answered here."""

from __future__ import annotations

import hashlib
import json
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog, QPushButton
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select

from tests import postgres
from tests.cli.test_cli_clinic_repair import (
    PASSPHRASE,
    _damage_chunk,
    _import,
    _jpegs,
    _kinds,
    _sha,
    _sql,
)
from tests.conftest import run_cli
from tests.ui.conftest import open_window
from tracker.core.care import server_repair
from tracker.core.care.backups import MANIFEST
from tracker.core.care.check_report import CheckReport
from tracker.core.care.server_backup import encrypted_refusal
from tracker.core.crypto import keys as crypto_keys
from tracker.core.db import roles, server
from tracker.core.db.models import Audit
from tracker.core.domain.consent import Action
from tracker.core.errors import UsageError
from tracker.core.store import server_keys
from tracker.core.store.server_library import ServerLibrary
from tracker.ui import dialogs
from tracker.ui.main import care_server
from tracker.ui.main.care import CheckDialog
from tracker.ui.main.window import MainWindow
from tracker.ui.settings import Preferences
from tracker.ui.workers import Task, TaskRunner

WAIT_MS = 30000
Opener = Callable[[], MainWindow]


@pytest.fixture(autouse=True)
def _no_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("TRACKER_LIBRARY", "TRACKER_CLINIC_PASSWORD", "TRACKER_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the kept thumbnails


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The window's message boxes, answered: what each said."""
    shown: dict[str, list[str]] = {"info": [], "error": []}
    monkeypatch.setattr(QMessageBox, "information", lambda _p, _t, text: shown["info"].append(text))
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: shown["error"].append(text))
    return shown


@pytest.fixture
def clinic(pg_server: postgres.Server) -> Iterator[tuple[str, Engine]]:
    """A clinic library and its owner's engine (for the damage done by hand)."""
    with pg_server.clinic() as url:
        owner = server.make_pg_engine(url)
        try:
            yield url, owner
        finally:
            owner.dispose()


@pytest.fixture
def shown(
    qtbot: QtBot, prefs: Preferences, runner: TaskRunner, clinic: tuple[str, Engine]
) -> Iterator[Callable[[], MainWindow]]:
    """Opens the window on the clinic library (once the test's damage is done); closed after."""
    opened: list[tuple[MainWindow, ServerLibrary]] = []

    def open_it() -> MainWindow:
        lib = ServerLibrary.open_server(clinic[0])
        window = open_window(qtbot, prefs, runner, lib)
        opened.append((window, lib))
        return window

    yield open_it
    for window, lib in opened:
        window.set_library(None)
        assert runner.wait(WAIT_MS)
        lib.close()


def _checked(qtbot: QtBot, window: MainWindow) -> tuple[CheckReport, CheckDialog]:
    with qtbot.waitSignal(window.care.checked, timeout=WAIT_MS) as blocker:
        window.care.check()
    report = blocker.args[0]
    assert isinstance(report, CheckReport)
    dialog = window.care.dialog
    assert isinstance(dialog, CheckDialog)
    return report, dialog


def _repaired(
    qtbot: QtBot, window: MainWindow, said: dict[str, list[str]], button: QPushButton
) -> str:
    """Click one of the check dialog's repairs; what the window said of it."""
    before = len(said["info"])
    with qtbot.waitSignal(window.care.repaired, timeout=WAIT_MS):
        button.click()
    qtbot.waitUntil(lambda: len(said["info"]) > before, timeout=WAIT_MS)
    return said["info"][-1]


def test_the_windows_check_reports_a_damaged_original_with_the_servers_hints(
    qtbot: QtBot,
    shown: Opener,
    clinic: tuple[str, Engine],
    tmp_path: Path,
    said: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, owner = clinic
    files = _jpegs(tmp_path / "in", 2, seed=21)
    ids = _import(url, files)
    damaged = _sha(files[0])
    _damage_chunk(owner, damaged, "original")
    window = shown()
    report, dialog = _checked(qtbot, window)
    assert said["error"] == []
    assert report.photos_checked == 2
    assert [(p.kind, p.sha256) for p in report.problems] == [("changed_original", damaged)]
    assert dialog.list.count() == 1
    assert dialog.list.item(0).text().startswith(f"Photo {ids[damaged]}: ")
    assert not dialog.relink.isHidden()
    assert "the damaged stored copy is replaced" in dialog.advice.text()
    assert "quarantine" not in dialog.advice.text()  # a server keeps nothing in one

    # Relink from a folder that holds the photo as it was imported puts it back.
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: str(tmp_path / "in"))
    text = _repaired(qtbot, window, said, dialog.relink)
    assert "Put back 1 changed original(s); 0 still changed." in text, text
    assert "The damaged stored copies were replaced" in text and "kept in" not in text
    report, _dialog = _checked(qtbot, window)
    assert report.ok, report.problems


def test_rebuild_thumbnails_from_the_window_mends_a_damaged_thumbnail(
    qtbot: QtBot,
    shown: Opener,
    clinic: tuple[str, Engine],
    tmp_path: Path,
    said: dict[str, list[str]],
) -> None:
    url, owner = clinic
    files = _jpegs(tmp_path / "in", 2, seed=22)
    _import(url, files)
    lib = ServerLibrary.open_server(url)
    try:
        server_repair.rebuild_cache(lib)  # made at import or on first view: made now
    finally:
        lib.close()
    damaged = _sha(files[1])
    _damage_chunk(owner, damaged, "thumbs")
    window = shown()
    report, dialog = _checked(qtbot, window)
    assert [(p.kind, p.sha256) for p in report.problems] == [("cache", damaged)]
    assert "Rebuild thumbnails makes the damaged thumbnails" in dialog.advice.text()
    assert dialog.relink.isHidden() and dialog.quarantine.isHidden()
    text = _repaired(qtbot, window, said, dialog.rebuild)
    assert text == "Rebuilt thumbnails and previews of 2 photo(s).", text
    report, _dialog = _checked(qtbot, window)
    assert report.ok, report.problems
    assert said["error"] == []


class _CancelledAfterFirst(Task):
    """A task whose Cancel is pressed as the first photo's progress is reported."""

    def __init__(self) -> None:
        super().__init__(lambda _task: None)
        self.reports: list[tuple[int, int]] = []

    def report(self, done: int, total: int, what: str = "") -> None:
        super().report(done, total, what)
        self.reports.append((done, total))
        self.cancel()


def test_a_cancelled_rebuild_stops_between_photos_and_says_so(
    clinic: tuple[str, Engine], tmp_path: Path
) -> None:
    url, owner = clinic
    files = _jpegs(tmp_path / "in", 3, seed=28)
    ids = _import(url, files)
    lib = ServerLibrary.open_server(url)
    try:
        server_repair.rebuild_cache(lib)  # a thumbnail of each to damage
        for path in files:
            _damage_chunk(owner, _sha(path), "thumbs")
        first = min(ids, key=ids.__getitem__)  # the rebuild goes by photo id
        task = _CancelledAfterFirst()
        text = care_server.repair(lib, "rebuild", None, [], task)
        assert task.reports == [(1, 3)]
        assert text.startswith("Rebuilt thumbnails and previews of 1 photo(s). The rebuild was "
                               "stopped before the end, as asked"), text  # fmt: skip
        assert "Rebuild thumbnails again to make them all" in text
        with lib.session() as s:
            damaged = {sha for sha in ids if lib.blobs.verify(s, "thumbs", sha) is not None}
        assert damaged == set(ids) - {first}  # the photo done stays done, the others wait
    finally:
        lib.close()


def test_the_windows_rebuild_of_a_clinic_library_can_be_cancelled(
    qtbot: QtBot, shown: Opener, clinic: tuple[str, Engine], tmp_path: Path,
    said: dict[str, list[str]],
) -> None:  # fmt: skip
    """Its progress dialog has a Cancel button (the quarantine's has none: one transaction)."""
    url, _owner = clinic
    _import(url, _jpegs(tmp_path / "in", 1, seed=29))
    window = shown()
    for what, cancel in (("rebuild", True), ("quarantine", False)):
        with qtbot.waitSignal(window.care.repaired, timeout=WAIT_MS):
            window.care.repair(what)
        progress = window.findChildren(QProgressDialog)[-1]  # the repair's, the newest
        buttons = [b.text() for b in progress.findChildren(QPushButton)]
        assert ("Cancel" in buttons) is cancel, (what, buttons)
    qtbot.waitUntil(lambda: len(said["info"]) == 2, timeout=WAIT_MS)
    assert said["info"][0] == "Rebuilt thumbnails and previews of 1 photo(s).", said["info"]
    assert said["error"] == []


def test_removing_stray_files_from_the_window_removes_a_picture_and_names_an_original(
    qtbot: QtBot,
    shown: Opener,
    clinic: tuple[str, Engine],
    tmp_path: Path,
    said: dict[str, list[str]],
) -> None:
    url, owner = clinic
    _import(url, _jpegs(tmp_path / "in", 1, seed=23))
    picture, original = hashlib.sha256(b"p").hexdigest(), hashlib.sha256(b"o").hexdigest()
    for sha, kind in ((picture, "thumbs"), (original, "original")):
        _sql(owner, "INSERT INTO blob (sha256, kind, size, chunks, created_at) "
             "VALUES (:s, :k, 1, 1, now())", s=sha, k=kind)  # fmt: skip
        _sql(owner, "INSERT INTO blob_chunk (sha256, kind, seq, data) "
             "VALUES (:s, :k, 0, '\\x62')", s=sha, k=kind)  # fmt: skip
    window = shown()
    report, dialog = _checked(qtbot, window)
    assert sorted(p.sha256 for p in report.problems) == sorted([picture, original])
    assert dialog.quarantine.text() == "Remove stray thumbnails and previews"
    assert "a stray original is only named and stays where it is" in dialog.advice.text()
    text = _repaired(qtbot, window, said, dialog.quarantine)
    assert text.startswith("Removed 1 stored thumbnail(s) or preview(s)"), text
    assert original[:12] in text and "were left where they are" in text
    assert _kinds(owner, picture) == set() and _kinds(owner, original) == {"original"}


def _answer_save(monkeypatch: pytest.MonkeyPatch, out: Path) -> list[object]:
    """The save dialog answered with ``out``; each time it was shown, in the list returned."""
    asked: list[object] = []

    def answer(*args: object) -> tuple[str, str]:
        asked.append(args)
        return str(out), "Backup archive (*.zip)"

    monkeypatch.setattr(QFileDialog, "getSaveFileName", answer)
    return asked


def test_the_windows_backup_of_a_clinic_library_is_an_archive_restore_accepts(
    qtbot: QtBot,
    shown: Opener,
    clinic: tuple[str, Engine],
    tmp_path: Path,
    said: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, _owner = clinic
    files = _jpegs(tmp_path / "in", 3, seed=24)
    _import(url, files)
    out = tmp_path / "backups" / "clinic.zip"
    out.parent.mkdir()
    _answer_save(monkeypatch, out)
    window = shown()
    with qtbot.waitSignal(window.care.backed_up, timeout=WAIT_MS) as blocker:
        window.care.backup()
    assert blocker.args == [str(out)]
    qtbot.waitUntil(lambda: bool(said["info"]), timeout=WAIT_MS)
    assert said["error"] == []
    assert said["info"][-1].startswith(f"Backed up 4 files to {out}."), said["info"]
    with zipfile.ZipFile(out) as zf:
        listed = {f["sha256"] for f in json.loads(zf.read(MANIFEST))["files"]}
    assert {_sha(p) for p in files} <= listed
    lib = window.care.lib
    assert lib is not None
    with lib.session() as s:
        entries = s.scalars(select(Audit.detail).where(Audit.action == Action.BACKED_UP.value))
        assert list(entries) == [out.name]
    done = run_cli("restore", str(out), str(tmp_path / "restored"), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["photos"] == 3


def test_an_assistants_backup_from_the_window_is_refused_with_the_servers_sentence(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    pg_server: postgres.Server,
    clinic: tuple[str, Engine],
    tmp_path: Path,
    said: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, owner = clinic
    _import(url, _jpegs(tmp_path / "in", 1, seed=25))
    login = f"assistant_{uuid.uuid4().hex[:8]}"
    roles.add_user(owner, login, roles.ASSISTANT, "not asked on this socket")
    try:
        lib = ServerLibrary.open_server(url.replace("postgres@", f"{login}@"))
        window = open_window(qtbot, prefs, runner, lib)
        try:
            folder = tmp_path / "backups"
            folder.mkdir()
            asked = _answer_save(monkeypatch, folder / "clinic.zip")
            window.care.backup()
            qtbot.waitUntil(lambda: bool(said["error"]), timeout=WAIT_MS)
            assert runner.wait(WAIT_MS)
        finally:
            window.set_library(None)
            assert runner.wait(WAIT_MS)
            lib.close()
        assert asked == []  # refused before the file is chosen
        assert said["info"] == []
        assert len(said["error"]) == 1
        text = said["error"][0]
        assert text.startswith(f"Your login {login} may not "), text
        assert "it is an assistant login" in text and "nothing was changed" in text, text
        assert list(folder.iterdir()) == []  # no archive, no part of one
    finally:
        pg_server.admin(f"DROP OWNED BY {login}")
        pg_server.admin(f"DROP ROLE IF EXISTS {login}")


def test_an_encrypted_clinic_librarys_backup_from_the_window_is_refused_before_the_file(
    qtbot: QtBot,
    prefs: Preferences,
    runner: TaskRunner,
    clinic: tuple[str, Engine],
    tmp_path: Path,
    said: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, owner = clinic
    server_keys.encrypt_new(owner, PASSPHRASE, crypto_keys.MIN_KDF)
    lib = ServerLibrary.open_server(url, passphrase=PASSPHRASE)
    window = open_window(qtbot, prefs, runner, lib)
    try:
        asked = _answer_save(monkeypatch, tmp_path / "clinic.zip")
        window.care.backup()
        qtbot.waitUntil(lambda: bool(said["error"]), timeout=WAIT_MS)
        assert runner.wait(WAIT_MS)
    finally:
        window.set_library(None)
        assert runner.wait(WAIT_MS)
        lib.close()
    assert asked == [] and said["info"] == []
    assert said["error"] == [encrypted_refusal(lib.server)], said["error"]
    assert "are encrypted, and this backup would hold them in plain" in said["error"][0]
    assert not (tmp_path / "clinic.zip").exists()


def test_a_damaged_clinic_library_is_backed_up_from_the_window_only_when_asked_to(
    qtbot: QtBot,
    shown: Opener,
    clinic: tuple[str, Engine],
    tmp_path: Path,
    said: dict[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, owner = clinic
    files = _jpegs(tmp_path / "in", 2, seed=26)
    ids = _import(url, files)
    _damage_chunk(owner, _sha(files[0]), "original")
    asked: list[str] = []

    def confirm(_parent: object, _title: str, question: str, _action: str) -> bool:
        asked.append(question)
        return True

    monkeypatch.setattr(dialogs, "confirm", confirm)
    out = tmp_path / "clinic.zip"
    _answer_save(monkeypatch, out)
    window = shown()
    with qtbot.waitSignal(window.care.backed_up, timeout=WAIT_MS):
        window.care.backup()
    assert len(asked) == 1 and "Library ▸ Check the library says how" in asked[0], asked
    qtbot.waitUntil(lambda: bool(said["info"]), timeout=WAIT_MS)
    assert "Left out 1 damaged original(s)" in said["info"][-1], said["info"]
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read(MANIFEST))
    assert [d["photo_id"] for d in manifest["left_out"]] == [ids[_sha(files[0])]]
    assert _sha(files[0]) not in {f["sha256"] for f in manifest["files"]}
    assert _sha(files[1]) in {f["sha256"] for f in manifest["files"]}


def test_a_cancelled_clinic_backup_writes_nothing(
    clinic: tuple[str, Engine], tmp_path: Path
) -> None:
    url, _owner = clinic
    _import(url, _jpegs(tmp_path / "in", 1, seed=27))
    task = Task(lambda _task: None)
    task.cancel()  # as the progress dialog's Cancel does, before the first file is stored
    (tmp_path / "out").mkdir()
    lib = ServerLibrary.open_server(url)
    try:
        with pytest.raises(UsageError, match=r"^The backup was cancelled; nothing was written\.$"):
            care_server.backup(lib, tmp_path / "out" / "clinic.zip", force=False, task=task)
        assert list((tmp_path / "out").iterdir()) == []
        with lib.session() as s:
            assert s.scalar(select(Audit.id).where(Audit.action == Action.BACKED_UP.value)) is None
    finally:
        lib.close()
