"""The main window. For now a plain window that shows which library is open and what it holds;
the everyday workflow (clients, areas, timeline, visit panel) comes with the main-window issue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from tracker import APP_NAME


@dataclass(frozen=True)
class LibrarySummary:
    root: Path
    clients: int
    areas: int
    visits: int
    photos: int


class MainWindow(QMainWindow):
    def __init__(self, summary: LibrarySummary) -> None:
        super().__init__()
        self.setWindowTitle(f"{APP_NAME} — {summary.root.name or summary.root}")
        self.resize(1280, 800)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        self.summary_label = QLabel(
            f"<h2>{APP_NAME}</h2>"
            f"<p>Library: {summary.root}</p>"
            f"<p>{summary.clients} client(s), {summary.areas} area(s), "
            f"{summary.visits} visit(s), {summary.photos} photo(s).</p>",
            body,
        )
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.summary_label.setWordWrap(True)
        self.summary_label.setAccessibleName("Library summary")
        layout.addWidget(self.summary_label)
        self.setCentralWidget(body)
