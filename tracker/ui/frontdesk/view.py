"""The front desk's window as laid out (``window`` gives it its behaviour): the line saying
what this login is not shown, the clients with their search on the left, the chosen client's
visits and the desk's buttons on the right, and the menus. Layout only: nothing here reads the
library or decides anything."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from tracker.ui.frontdesk.models import ClientsModel, VisitsModel

WITHHELD = (
    "This login is the front desk's: photos, ratings and treatment records are not shown, "
    "nor notes and dates of birth."
)


class DeskLayout(QMainWindow):
    """The widgets and actions of the front desk's window, made and placed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowFlag(Qt.WindowType.Window)
        self._build()
        self._build_actions()
        self.resize(1000, 640)

    def _build(self) -> None:
        self.notice = QLabel(WITHHELD, self)
        self.notice.setWordWrap(True)
        self.notice.setAccessibleName("What this login is not shown")
        self.notice.setFrameShape(QFrame.Shape.StyledPanel)
        self.notice.setMargin(6)
        self.notice.setStyleSheet(
            "QLabel { background: palette(alternate-base); color: palette(window-text); }"
        )
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Find a client by name")
        self.search.setAccessibleName("Find a client by name")
        self.search.setClearButtonEnabled(True)
        self.clients = ClientsModel(self)
        self.client_list = self._table(self.clients, "Clients")
        self.client_list.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.client_list.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.none_found = QLabel("", self)
        self.none_found.setWordWrap(True)
        self.none_found.hide()
        self.add_client_button = QPushButton("&Add client…", self)
        left = QWidget(self)
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.search)
        column.addWidget(self.client_list, 1)
        column.addWidget(self.none_found)
        column.addWidget(self.add_client_button)

        self.heading = QLabel("", self)
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)  # a name is text, never markup
        font = QFont(self.heading.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.heading.setAccessibleName("Client")
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)
        self.visits = VisitsModel(self)
        self.visit_list = self._table(self.visits, "Visits")
        header = self.visit_list.horizontalHeader()
        header.setStretchLastSection(True)
        # As wide as their longest text, with no rows too (an empty table squeezed them).
        metrics = self.visit_list.fontMetrics()
        for section, widest in enumerate(("30 Sep 2026", "Follow-up")):
            header.resizeSection(
                section, metrics.horizontalAdvance(widest) + 4 * metrics.averageCharWidth()
            )
        self.book_button = QPushButton("&Book a visit…", self)
        self.move_button = QPushButton("&Change date or kind…", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.book_button)
        buttons.addWidget(self.move_button)
        buttons.addStretch(1)
        right = QWidget(self)
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.heading)
        column.addWidget(self.summary)
        column.addWidget(self.visit_list, 1)
        column.addLayout(buttons)

        splitter = QSplitter(self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 640])
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.addWidget(self.notice)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _table(self, model: Any, name: str) -> QTableView:
        view = QTableView(self)
        view.setModel(model)
        view.setAccessibleName(name)
        view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setTextElideMode(Qt.TextElideMode.ElideRight)
        view.setWordWrap(False)
        view.setShowGrid(False)
        view.setAlternatingRowColors(True)
        view.verticalHeader().hide()
        view.setMinimumWidth(220)
        return view

    def _build_actions(self) -> None:
        menu = self.menuBar().addMenu("&Desk")
        self.add_client_action = self._action(menu, "&Add client…", QKeySequence.StandardKey.New)
        self.book_action = self._action(menu, "&Book a visit…", "Ctrl+B")
        self.move_action = self._action(menu, "&Change date or kind…", "Ctrl+E")
        menu.addSeparator()
        self.find_action = self._action(menu, "&Find a client", QKeySequence.StandardKey.Find)
        self.refresh_action = self._action(menu, "&Refresh", QKeySequence.StandardKey.Refresh)
        menu.addSeparator()
        self.close_action = self._action(menu, "C&lose", QKeySequence.StandardKey.Close)
        help_menu = self.menuBar().addMenu("&Help")
        self.help_action = self._action(
            help_menu, "The &front desk", QKeySequence.StandardKey.HelpContents
        )

    def _action(self, menu: Any, text: str, key: Any) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(key))
        menu.addAction(action)
        return action
