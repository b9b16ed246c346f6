"""The left column: the client list (practitioner mode) and the chosen client's areas."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tracker.ui.icons import icon
from tracker.ui.models import AreaListModel, ClientListModel, IdRole
from tracker.ui.panels.fitting import wrap_list


def _tool(icon_name: str, tip: str, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setIcon(icon(icon_name))
    button.setIconSize(QSize(18, 18))
    button.setToolTip(tip)
    button.setAccessibleName(tip)
    button.setAutoRaise(True)
    return button


class Sidebar(QWidget):
    client_chosen = Signal(int)
    area_chosen = Signal(int)
    search_changed = Signal(str)
    add_client_requested = Signal()
    edit_client_requested = Signal()
    add_area_requested = Signal()
    edit_area_requested = Signal()

    def __init__(
        self, clients: ClientListModel, areas: AreaListModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)

        self.client_box = QWidget(self)
        box = QVBoxLayout(self.client_box)
        box.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("<b>Clients</b>", self.client_box), 1)
        self.add_client = _tool("client-add", "Add a client", self.client_box)
        self.edit_client = _tool("settings", "Edit the chosen client", self.client_box)
        head.addWidget(self.add_client)
        head.addWidget(self.edit_client)
        box.addLayout(head)
        self.search = QLineEdit(self.client_box)
        self.search.setPlaceholderText("Find a client (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Find a client")
        self.search.setToolTip(
            "Part of a name (capitals and accents do not matter: chloe finds Chloé), or a "
            "date of birth as 14 Mar 1988 or 1988-03-14"
        )
        box.addWidget(self.search)
        self.client_list = QListView(self.client_box)
        self.client_list.setModel(clients)
        self.client_list.setAccessibleName("Clients")
        self.client_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # One line per client: the view need not measure hundreds of rows one by one.
        self.client_list.setUniformItemSizes(True)
        # A long name is shortened with "…" (its tooltip has it whole), never scrolled to.
        self.client_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.client_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        box.addWidget(self.client_list, 1)
        layout.addWidget(self.client_box, 3)

        head = QHBoxLayout()
        self.areas_title = QLabel("<b>Treated areas</b>", self)
        head.addWidget(self.areas_title, 1)
        self.add_area = _tool("area-add", "Add an area", self)
        self.edit_area = _tool("settings", "Edit the chosen area", self)
        head.addWidget(self.add_area)
        head.addWidget(self.edit_area)
        layout.addLayout(head)
        self.area_list = QListView(self)
        self.area_list.setModel(areas)
        self.area_list.setAccessibleName("Treated areas")
        self.area_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.area_list.setSpacing(2)
        wrap_list(self.area_list, bold_first=True)  # a long area name wraps, whole
        layout.addWidget(self.area_list, 2)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.client_list.selectionModel().currentChanged.connect(
            self._on_client_list_current_changed
        )
        self.area_list.selectionModel().currentChanged.connect(self._on_area_list_current_changed)
        self.search.textChanged.connect(self.search_changed)
        self.add_client.clicked.connect(self.add_client_requested)
        self.edit_client.clicked.connect(self.edit_client_requested)
        self.add_area.clicked.connect(self.add_area_requested)
        self.edit_area.clicked.connect(self.edit_area_requested)

    def set_practitioner_mode(self, on: bool) -> None:
        self.client_box.setVisible(on)

    def select_client(self, client_id: int | None) -> None:
        self._select(self.client_list, client_id)

    def select_area(self, area_id: int | None) -> None:
        self._select(self.area_list, area_id)

    @staticmethod
    def _select(view: QListView, ident: int | None) -> None:
        model = view.model()
        for row in range(model.rowCount()):
            index = model.index(row, 0)
            if index.data(IdRole) == ident:
                view.setCurrentIndex(index)
                return
        if model.rowCount():
            view.setCurrentIndex(model.index(0, 0))

    def _on_client_list_current_changed(self, current: object, _previous: object) -> None:
        ident = current.data(IdRole)  # type: ignore[attr-defined]
        if ident is not None:
            self.client_chosen.emit(ident)

    def _on_area_list_current_changed(self, current: object, _previous: object) -> None:
        ident = current.data(IdRole)  # type: ignore[attr-defined]
        if ident is not None:
            self.area_chosen.emit(ident)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()
