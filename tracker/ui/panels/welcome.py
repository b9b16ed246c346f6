"""The welcome page of an empty library: three ways in."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from tracker import APP_NAME
from tracker.ui.icons import icon


class WelcomePage(QWidget):
    start_requested = Signal()
    sample_requested = Signal()
    open_requested = Signal()
    help_requested = Signal(str)  # a help topic's key

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        title = QLabel(f"<h1>Welcome to {APP_NAME}</h1>", self)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(title)
        intro = QLabel(
            "Keep dated photos of each treated area at every session, see them side by side, and "
            "rate the marks' colour, texture and depth as the course goes on.<br>"
            "Everything stays on this computer: nothing is ever sent anywhere.",
            self,
        )
        intro.setWordWrap(True)
        intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
        intro.setFixedWidth(600)
        intro.setMinimumHeight(intro.heightForWidth(600))
        layout.addWidget(intro, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(24)
        self.start = self._button(
            "start", "&Start tracking", "Name the first area you are treating, then add its photos."
        )
        self.sample = self._button(
            "sample", "Open the s&ample library", "Look around a made-up six-month course first."
        )
        self.open = self._button(
            "open", "&Open a library…", "Choose a library folder you already have."
        )
        for button in (self.start, self.sample, self.open):
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(16)
        self.help_links = QLabel(
            "New here? Read <a href='topic:getting-started'>Getting started</a> and "
            "<a href='topic:photos'>How to take photos that compare well</a>. "
            "F1 opens the help at any time.",
            self,
        )
        self.help_links.setTextFormat(Qt.TextFormat.RichText)
        self.help_links.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.help_links.setWordWrap(True)
        self.help_links.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.help_links.setFixedWidth(600)
        self.help_links.setMinimumHeight(self.help_links.heightForWidth(600))
        layout.addWidget(self.help_links, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self.start.setDefault(True)
        self._connect_signals()

    def _button(self, icon_name: str, text: str, hint: str) -> QPushButton:
        button = QPushButton(icon(icon_name), f"{text}\n{hint}", self)
        button.setIconSize(QSize(28, 28))
        button.setMinimumSize(QSize(440, 64))
        button.setStyleSheet("text-align: left; padding: 8px 16px")
        button.setAccessibleName(text.replace("&", "").rstrip("…"))
        button.setAccessibleDescription(hint)
        return button

    def _connect_signals(self) -> None:
        self.start.clicked.connect(self.start_requested)
        self.sample.clicked.connect(self.sample_requested)
        self.open.clicked.connect(self.open_requested)
        self.help_links.linkActivated.connect(self._on_help_links_link_activated)

    def _on_help_links_link_activated(self, link: str) -> None:
        self.help_requested.emit(link.removeprefix("topic:"))
