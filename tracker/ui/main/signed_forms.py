"""The consent dialog's signed forms (issue 20): "Attach the signed form…" and "Open the form".

Both read files, so both run in workers: attaching reads the chosen file (checked by its
content, at most 20 MB) and keeps it (``services.consent_forms``); opening reads the form,
decrypted in memory in an encrypted library, and draws its pages there (a PDF's with QtPdf,
an image's with the app's decoder) as QImages. Nothing decrypted is written: the viewer shows
the pages, and the form leaves the app only as a copy saved where the person chooses ("Save a
copy…", a new file, recorded in the audit trail), never as a temporary file to hand to another
program.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QSize, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from tracker.core.domain.consent import FORM_LABELS, MAX_FORM_MB, FormKind
from tracker.core.errors import TrackerError
from tracker.core.services import consent_forms
from tracker.core.store.library import Library
from tracker.rendering.images import pil_to_qimage
from tracker.ui.settings import fit_on_screen
from tracker.ui.workers import Task, TaskRunner

FILTER = "Signed forms (*.pdf *.jpg *.jpeg *.png *.heic *.heif);;All files (*)"
PAGE_WIDTH = 900  # pixels a page is drawn at: a form's print reads well on screen
MAX_PAGES = 12  # a consent form is a page or two; a longer PDF shows its first pages


@dataclass(frozen=True)
class Loaded:
    """A form read for the viewer: what it is, and its pages drawn (or why they are not)."""

    form: consent_forms.StoredForm
    pages: list[QImage]
    note: str


def draw(kind: FormKind, data: bytes) -> tuple[list[QImage], str]:
    """The form's pages as images, drawn in memory, and a sentence when not all are shown."""
    if kind is not FormKind.PDF:
        # start-up time: the image decoders load when a form is first opened
        from tracker.core.imaging import decode

        try:
            return [pil_to_qimage(decode.load_upright(data, 2 * PAGE_WIDTH))], ""
        except (TrackerError, OSError, ValueError):
            return [], "This image cannot be shown here; save a copy to open it elsewhere."
    # start-up time: QtPdf loads when a PDF form is first opened
    from PySide6.QtPdf import QPdfDocument

    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    try:
        document.load(buffer)
        if document.status() != QPdfDocument.Status.Ready or document.pageCount() < 1:
            return [], "This PDF cannot be shown here; save a copy to open it in a PDF reader."
        pages = []
        for n in range(min(document.pageCount(), MAX_PAGES)):
            size = document.pagePointSize(n)
            scale = PAGE_WIDTH / max(size.width(), 1.0)
            pages.append(document.render(n, QSize(PAGE_WIDTH, round(size.height() * scale))))
        more = document.pageCount() - len(pages)
        note = (
            f"The first {len(pages)} pages are shown; {more} more are in the saved copy."
            if more
            else ""
        )
        return pages, note
    finally:
        document.close()
        buffer.close()


def load(lib: Library, consent_id: int) -> Loaded:
    """Read and draw consent ``consent_id``'s form (in a worker), noting the view in the trail."""
    data, form = consent_forms.read(lib, consent_id)
    consent_forms.note_opened(lib, form)
    pages, note = draw(form.kind, data)
    return Loaded(form, pages, note)


class FormViewer(QDialog):
    """A consent's signed form, shown from memory; "Save a copy…" writes it where the person
    chooses (a new file only)."""

    saved = Signal(str)  # the copy written

    def __init__(
        self, parent: QWidget | None, lib: Library, loaded: Loaded, runner: TaskRunner
    ) -> None:
        super().__init__(parent)
        self.lib, self.form, self.runner = lib, loaded.form, runner
        self.setWindowTitle(f"Signed form of consent {self.form.consent_id}")
        self.resize(PAGE_WIDTH // 2 + 120, 720)
        fit_on_screen(self)  # at 1024×700, 720 put Save a copy… and Close below the screen
        box = QVBoxLayout(self)
        held = "decrypted in memory only" if lib.keys is not None else "read into memory only"
        self.info = QLabel(
            f"{FORM_LABELS[self.form.kind]}, {self.form.size:,} bytes, {held}. To open it in "
            "another program, save a copy to a place you choose. " + loaded.note,
            self,
        )
        self.info.setWordWrap(True)
        box.addWidget(self.info)
        pages = QWidget(self)
        column = QVBoxLayout(pages)
        self.pages: list[QLabel] = []
        for image in loaded.pages:
            label = QLabel(pages)
            label.setPixmap(QPixmap.fromImage(image).scaledToWidth(PAGE_WIDTH // 2))
            column.addWidget(label)
            self.pages.append(label)
        scroll = QScrollArea(self)
        scroll.setWidget(pages)
        box.addWidget(scroll)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.save = QPushButton("&Save a copy…", self)
        buttons.addButton(self.save, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.save.clicked.connect(self._on_save_clicked)
        box.addWidget(buttons)

    def _on_save_clicked(self) -> None:
        start = Path.home() / f"consent-{self.form.consent_id}-form.{self.form.kind.value}"
        name, _ = QFileDialog.getSaveFileName(
            self,
            "Save a copy of the signed form",
            str(start),
            f"{FORM_LABELS[self.form.kind]} (*.{self.form.kind.value})",
            options=QFileDialog.Option.DontConfirmOverwrite,  # an existing file is refused
        )
        if not name:
            return
        out, ident = Path(name), self.form.consent_id

        def done(_form: object) -> None:
            self.info.setText(f"Saved a copy to {out}.")
            self.saved.emit(str(out))

        self.runner.start(
            lambda _t: consent_forms.export(self.lib, ident, out),
            finished=done,
            failed=self._on_save_failed,
        )

    def _on_save_failed(self, text: str) -> None:
        QMessageBox.warning(self, "Copy not saved", text)


class FormActions(QObject):
    """Attaching and opening forms for the consent dialog ``owner``."""

    attached = Signal(int)  # the consent that now holds a form
    shown = Signal(object)  # the FormViewer opened

    def __init__(self, owner: QWidget, lib: Library, runner: TaskRunner) -> None:
        super().__init__(owner)
        self.owner, self.lib, self.runner = owner, lib, runner

    def _warn(self, title: str) -> Callable[[str], None]:
        def said(text: str) -> None:
            QMessageBox.warning(self.owner, title, text)

        return said

    def attach(self, consent_id: int) -> Task | None:
        name, _ = QFileDialog.getOpenFileName(
            self.owner,
            f"Attach the signed form of consent {consent_id} (PDF, JPEG, PNG or HEIC, at most "
            f"{MAX_FORM_MB} MB)",
            str(Path.home()),
            FILTER,
        )
        if not name:
            return None
        path = Path(name)

        def work(_task: Task) -> int:
            data, _kind = consent_forms.read_form_file(path)
            consent_forms.attach(self.lib, consent_id, data, name=path.name)
            return consent_id

        return self.runner.start(
            work, finished=self.attached.emit, failed=self._warn("Form not attached")
        )

    def open(self, consent_id: int) -> Task:
        def show(loaded: Loaded) -> None:
            viewer = FormViewer(self.owner, self.lib, loaded, self.runner)
            self.shown.emit(viewer)
            viewer.open()

        return self.runner.start(
            lambda _t: load(self.lib, consent_id),
            finished=show,
            failed=self._warn("Form not opened"),
        )
