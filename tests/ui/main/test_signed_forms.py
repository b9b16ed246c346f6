"""The consent dialog's signed forms (issue 20): attached and opened off the GUI thread, shown
from memory, saved only to a new file the person picks; nothing decrypted left in the library."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRect
from PySide6.QtGui import QPainter, QPdfWriter, QScreen
from PySide6.QtWidgets import QFileDialog, QMessageBox, QTableWidget
from pytestqt.qtbot import QtBot

from tests.helpers import only_client
from tracker.core.crypto.keys import MIN_KDF
from tracker.core.domain.consent import Action, Purpose
from tracker.core.services import audit, consent, consent_forms
from tracker.core.store import encrypted
from tracker.core.store.library import Library
from tracker.ui.main import privacy, signed_forms

PASS = "a passphrase for the window's forms"


def _pdf(pages: int = 2) -> bytes:
    """A real PDF, as Qt writes one: ``pages`` pages of text."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    painter = QPainter(writer)
    for n in range(pages):
        if n:
            writer.newPage()
        painter.drawText(200, 200, f"I agree to teaching use. Page {n + 1}.")
    painter.end()
    buffer.close()
    return bytes(data.data())


def _cell(table: QTableWidget, row: int, column: int) -> str:
    item = table.item(row, column)
    assert item is not None
    return item.text()


@pytest.fixture
def said(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    out: list[str] = []

    def tell(_parent: object, _title: str, text: str) -> QMessageBox.StandardButton:
        out.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", tell)
    monkeypatch.setattr(QMessageBox, "information", tell)
    return out


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Library]:
    with Library.open(tmp_path / "lib", create=True) as opened:
        yield opened


def _dialog(qtbot: QtBot, lib: Library) -> privacy.ConsentDialog:
    consent.add(lib, only_client(lib), Purpose.TEACHING, identifiable=False)
    dialog = privacy.ConsentDialog(None, lib, only_client(lib), "Me")
    qtbot.addWidget(dialog)
    dialog.table.selectRow(0)
    return dialog


def _choose(monkeypatch: pytest.MonkeyPatch, kind: str, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, kind, lambda *a, **k: (str(path), ""))


def _attach(qtbot: QtBot, dialog: privacy.ConsentDialog) -> None:
    with qtbot.waitSignal(dialog.forms.attached, timeout=20000):
        dialog.attach.click()


def _open(qtbot: QtBot, dialog: privacy.ConsentDialog) -> signed_forms.FormViewer:
    with qtbot.waitSignal(dialog.forms.shown, timeout=20000) as shown:
        dialog.open_form.click()
    viewer = shown.args[0]
    assert isinstance(viewer, signed_forms.FormViewer)
    qtbot.addWidget(viewer)
    return viewer


def test_a_form_is_attached_opened_and_saved_to_a_new_file_only(
    qtbot: QtBot, lib: Library, said: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, lib)
    assert _cell(dialog.table, 0, 5) == "—"
    dialog.open_form.click()
    assert said == [
        "This consent (teaching, de-identified, all photos) holds no signed form; attach it first."
    ]
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(_pdf())
    _choose(monkeypatch, "getOpenFileName", scan)
    _attach(qtbot, dialog)
    assert _cell(dialog.table, 0, 5) == "PDF"
    ident = dialog.rows[0].id
    assert consent_forms.read(lib, ident)[0] == scan.read_bytes()
    # A 1024×700 screen (the offscreen one is 800×800): the viewer made 720 tall put its
    # buttons below the bottom.
    small = QRect(0, 0, 1024, 660)
    monkeypatch.setattr(QScreen, "availableGeometry", lambda _screen: small)
    viewer = _open(qtbot, dialog)
    assert len(viewer.pages) == 2
    assert all(not p.pixmap().isNull() and p.pixmap().width() > 100 for p in viewer.pages)
    assert "read into memory only" in viewer.info.text()
    # Its buttons on the screen: it is never taller or wider than the screen's room.
    assert viewer.height() <= small.height() and viewer.width() <= small.width()
    out = tmp_path / "copy.pdf"
    _choose(monkeypatch, "getSaveFileName", out)
    with qtbot.waitSignal(viewer.saved, timeout=20000):
        viewer.save.click()
    assert out.read_bytes() == scan.read_bytes()
    (tmp_path / "taken.pdf").write_bytes(b"mine")
    _choose(monkeypatch, "getSaveFileName", tmp_path / "taken.pdf")
    viewer.save.click()
    qtbot.waitUntil(lambda: len(said) == 2, timeout=20000)
    assert "taken.pdf already exists" in said[1]
    assert (tmp_path / "taken.pdf").read_bytes() == b"mine"
    kept = [(e.action, e.detail) for e in audit.entries(lib)][-3:]
    assert kept == [
        (Action.CONSENT, "form attached: PDF, scan.pdf"),
        (Action.VIEWED, "signed form"),
        (Action.EXPORTED, "signed form: copy.pdf"),
    ]
    viewer.close()


def test_a_file_that_is_no_form_is_refused_with_its_sentence(
    qtbot: QtBot, lib: Library, said: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, lib)
    notes = tmp_path / "form.pdf"
    notes.write_text("she said yes")
    _choose(monkeypatch, "getOpenFileName", notes)
    dialog.attach.click()
    qtbot.waitUntil(lambda: bool(said), timeout=20000)
    assert said == [
        f"{notes} is not a PDF, JPEG, PNG or HEIC file by its contents (whatever its name "
        "says), so it cannot be kept as a signed form."
    ]
    assert consent.consents(lib)[0].form is None


def test_in_an_encrypted_library_the_form_is_shown_and_nothing_plain_is_left(
    qtbot: QtBot, said: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lib, _recovery = encrypted.create(tmp_path / "lib", PASS, MIN_KDF)
    try:
        dialog = _dialog(qtbot, lib)
        photo = io.BytesIO()
        Image.effect_noise((300, 400), 50).convert("RGB").save(photo, "JPEG")
        scan = tmp_path / "phone.jpg"
        scan.write_bytes(photo.getvalue())
        _choose(monkeypatch, "getOpenFileName", scan)
        _attach(qtbot, dialog)
        assert _cell(dialog.table, 0, 5) == "JPEG"
        viewer = _open(qtbot, dialog)
        (page,) = viewer.pages
        assert page.pixmap().height() > page.pixmap().width()  # upright, as scanned
        assert "decrypted in memory only" in viewer.info.text()
        viewer.close()
        assert said == []
        for dirpath, _dirs, names in os.walk(lib.root):
            for name in names:
                held = (Path(dirpath) / name).read_bytes()
                assert b"\xff\xd8\xff" not in held[:16] and photo.getvalue()[100:164] not in held
    finally:
        lib.close()
