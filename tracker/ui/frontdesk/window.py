"""The front desk's window (issue 21): a clinic library opened by a front-desk login.

The front desk sees the clients by name and their appointments (date and kind), adds a
client, books a visit and moves a booked one; nothing else of the library is read, as the
server's column grants allow nothing else (``db.roles``), and a line at the top says so.

Every read and write runs on the thread pool (``TaskRunner``): the server may be slow or
away. Each load carries a number, and a result that a newer load has overtaken is dropped,
so a quick search or a click on another client never shows an older answer. What fails
(a refusal, a lost link) is said in the status bar, and what was shown stays. Another
workstation's changes come in through ``listen`` (the main window's ``LiveChanges``, made by
whoever opens this window): they reload the lists, keeping the search and the selection.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QWidget,
)

from tracker import APP_NAME
from tracker.core.domain import rules
from tracker.core.queries import front_desk
from tracker.core.queries.front_desk import DeskClient, DeskVisit
from tracker.core.services import clients
from tracker.core.services import front_desk as desk
from tracker.core.text import written_date
from tracker.ui.frontdesk.dialogs import BookDialog, MoveDialog, NewClientDialog
from tracker.ui.frontdesk.view import DeskLayout
from tracker.ui.help_window import HelpWindow, command_name
from tracker.ui.models import KIND_LABELS, IdRole
from tracker.ui.settings import fit_on_screen
from tracker.ui.workers import Task, TaskRunner

if TYPE_CHECKING:
    from tracker.core.store.library import Library

log = logging.getLogger(__name__)

CLOSE_WAIT_S = 10.0


class Listening(Protocol):
    """What tells the window of another workstation's changes (``ui.main.live.LiveChanges``)."""

    def set_library(self, lib: Library | None) -> None: ...

    def stop(self) -> None: ...


class FrontDeskWindow(DeskLayout):
    """Clients on the left (with a search by name), the chosen one's visits on the right."""

    def __init__(
        self,
        lib: Library,
        runner: TaskRunner,
        where: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.lib: Library | None = lib
        self.runner = runner
        self.live: Listening | None = None
        self.help_window: HelpWindow | None = None
        self.all_clients: list[DeskClient] = []
        self.client_id: int | None = None
        self._loads = 0  # numbers each load; a result of an older one is dropped
        self._tasks: set[Task] = set()
        self._unreached = False  # the last load failed: say so when one works again
        self.setWindowTitle(f"{APP_NAME} — front desk — {where}")
        self._connect_signals()
        self._enable()

    def _connect_signals(self) -> None:
        self.search.textChanged.connect(self._on_search_text_changed)
        self.client_list.selectionModel().currentRowChanged.connect(
            self._on_client_list_current_row_changed
        )
        self.visit_list.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.visit_list.doubleClicked.connect(lambda _i: self.move_visit())
        self.add_client_button.clicked.connect(self.add_client)
        self.book_button.clicked.connect(self.book_visit)
        self.move_button.clicked.connect(self.move_visit)
        self.add_client_action.triggered.connect(self.add_client)
        self.book_action.triggered.connect(self.book_visit)
        self.move_action.triggered.connect(self.move_visit)
        self.find_action.triggered.connect(self._on_find_action_triggered)
        self.refresh_action.triggered.connect(self.refresh)
        self.close_action.triggered.connect(self.close)
        self.help_action.triggered.connect(self.show_help)

    # -- what is shown -----------------------------------------------------------------------

    def listen(self, live: Listening) -> None:
        """Reload on another workstation's changes, told by ``live`` (stopped on close)."""
        self.live = live
        live.set_library(self.lib)

    def say(self, text: str) -> None:
        """A sentence in the status bar, until the next one."""
        self.statusBar().showMessage(text)

    def refresh(self, *, quiet: bool = False) -> None:
        """Load the clients again (and the chosen one's visits), on the thread pool.
        ``quiet``: a failure is not said (after a failed change, whose sentence stays)."""
        lib, client_id = self.lib, self.client_id
        if lib is None:
            return
        self._loads += 1
        number = self._loads
        self._run(
            lambda _t: (front_desk.clients(lib), _visits_of(lib, client_id)),
            lambda found: self._on_loaded(number, client_id, *found),
            failed=(lambda _m: None) if quiet else self._on_load_failed,
        )

    def _on_load_failed(self, message: str) -> None:
        self._unreached = True
        self.say(message)

    def _on_loaded(
        self,
        number: int,
        client_id: int | None,
        rows: list[DeskClient],
        shown: list[DeskVisit] | None,
    ) -> None:
        if number != self._loads:
            return  # overtaken by a newer load
        self.all_clients = rows
        self._show_clients()
        if self._unreached:
            self._unreached = False
            self.say("The server answers again; what is shown is up to date.")
        if shown is not None and client_id == self.client_id:
            self._show_visits(shown)

    def _show_clients(self) -> None:
        rows = front_desk.matching(self.all_clients, self.search.text())
        keep = self.client_id
        self.clients.set_rows(rows)
        at = self.clients.row_of(keep)
        if at is None and rows and keep is None:
            at = 0
        if at is not None:
            self.client_list.selectionModel().setCurrentIndex(
                self.clients.index(at, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        elif keep is not None:
            self._choose(None)
        wanted = self.search.text().strip()
        self.none_found.setText(
            f"No client's name holds “{wanted}”." if wanted and not rows else ""
        )
        self.none_found.setVisible(bool(wanted and not rows))
        if not self.all_clients:
            self.none_found.setText("There are no clients yet: add the first one.")
            self.none_found.show()

    def _choose(self, client_id: int | None) -> None:
        changed = client_id != self.client_id
        self.client_id = client_id
        client = self.client()
        self.heading.setText(client.name if client is not None else "No client chosen")
        self.summary.setText(self._summary(client))
        if client is None:
            self.visits.set_rows([])
        elif changed:
            self.visits.set_rows([])
            self._load_visits()
        self._enable()

    def _summary(self, client: DeskClient | None) -> str:
        if client is None:
            return "Choose a client on the left, or add one."
        said = [f"{client.visits} visit{'' if client.visits == 1 else 's'}"]
        if client.next_visit is not None:
            said.append(f"next on {written_date(client.next_visit)}")
        if client.last_visit is not None:
            said.append(f"last on {written_date(client.last_visit)}")
        return "; ".join(said) + "."

    def _load_visits(self) -> None:
        lib, client_id = self.lib, self.client_id
        if lib is None or client_id is None:
            return
        self._loads += 1
        number = self._loads
        self._run(
            lambda _t: front_desk.visits(lib, client_id),
            lambda shown: self._on_visits_loaded(number, client_id, shown),
        )

    def _on_visits_loaded(self, number: int, client_id: int, shown: list[DeskVisit]) -> None:
        if number == self._loads and client_id == self.client_id:
            self._show_visits(shown)

    def _show_visits(self, shown: Sequence[DeskVisit]) -> None:
        keep = self.visit()
        self.visits.set_rows(shown)
        at = self.visits.row_of(keep.id if keep is not None else None)
        if at is not None:
            self.visit_list.selectRow(at)
        self._enable()

    def client(self) -> DeskClient | None:
        return next((c for c in self.all_clients if c.id == self.client_id), None)

    def visit(self) -> DeskVisit | None:
        index = self.visit_list.currentIndex()
        if not index.isValid() or not 0 <= index.row() < len(self.visits.rows):
            return None
        return self.visits.rows[index.row()]

    def _enable(self) -> None:
        has_client = self.client() is not None
        visit = self.visit()
        movable = visit is not None and visit.booked()
        for widget in (self.book_button, self.book_action):
            widget.setEnabled(has_client)
        for widget in (self.move_button, self.move_action):
            widget.setEnabled(movable)
        tip = (
            "Choose a visit still to come."
            if visit is None
            else "Give the visit another date or kind."
            if movable
            else "A past visit holds the practitioner's record of that day: only a practitioner changes it."
        )
        self.move_button.setToolTip(tip)
        self.move_action.setStatusTip(tip)

    # -- what the desk does ------------------------------------------------------------------

    def add_client(self) -> None:
        lib = self.lib
        answer = NewClientDialog.ask_new(self)
        if answer is None or lib is None:
            return
        fields = {"date_of_birth": answer.date_of_birth}
        self.say(f"Adding {answer.name}…")

        def added(client_id: int) -> None:
            self.say(f"Added {answer.name}.")
            self.search.clear()  # the new client is shown, whatever was searched
            self._choose(client_id)
            self.refresh()

        self._change(lambda _t: clients.add_client(lib, answer.name, fields), added)

    def book_visit(self) -> None:
        lib, client = self.lib, self.client()
        if lib is None or client is None:
            return
        shown = self.visits.rows
        kind = rules.new_visit_kind(
            None, has_baseline=any(v.kind.value == "baseline" for v in shown)
        )
        taken = {v.date for v in shown}
        answer = BookDialog.ask_for(self, client.name, _next_free(taken), kind, taken)
        if answer is None:
            return
        said = f"a {KIND_LABELS[answer.kind.value].lower()} visit for {client.name} on {written_date(answer.day)}"
        self.say(f"Booking {said}…")

        def booked(_visit_id: int) -> None:
            self.say(f"Booked {said}.")
            self.refresh()

        self._change(
            lambda _t: desk.book_visit(lib, client.id, answer.day, answer.kind, answer.notes),
            booked,
        )

    def move_visit(self) -> None:
        lib, client, visit = self.lib, self.client(), self.visit()
        if lib is None or client is None or visit is None or not visit.booked():
            return
        taken = {v.date for v in self.visits.rows if v.id != visit.id}
        answer = MoveDialog.ask_for(self, client.name, visit.date, visit.kind, taken)
        if answer is None or (answer.day, answer.kind) == (visit.date, visit.kind):
            return
        said = f"{client.name}'s visit of {written_date(visit.date)}"

        def moved(_version: int) -> None:
            self.say(
                f"Moved {said} to {written_date(answer.day)} "
                f"({KIND_LABELS[answer.kind.value].lower()})."
            )
            self.refresh()

        self._change(
            lambda _t: desk.move_visit(lib, visit.id, answer.day, answer.kind, seen=visit.version),
            moved,
        )

    def show_help(self) -> HelpWindow:
        """The help window on the clinic topic, whose last section is the front desk's."""
        if self.help_window is None:
            actions = (
                self.add_client_action,
                self.book_action,
                self.move_action,
                self.find_action,
                self.refresh_action,
                self.close_action,
                self.help_action,
            )
            sections = [("Front desk", [(command_name(a), a) for a in actions])]
            self.help_window = HelpWindow(sections, None, self)
            fit_on_screen(self.help_window)
        self.help_window.show_topic("clinic")
        self.help_window.show()
        self.help_window.raise_()
        return self.help_window

    # -- the thread pool ---------------------------------------------------------------------

    def _change(self, work: Callable[[Task], Any], done: Callable[[Any], None]) -> None:
        """A change on the thread pool, then ``done`` here. A refusal is said, and what is
        shown is loaded again (it may be what someone else changed meanwhile)."""

        def failed(message: str) -> None:
            self.say(message)
            self.refresh(quiet=True)

        self._run(work, done, failed=failed)

    def _run(
        self,
        work: Callable[[Task], Any],
        done: Callable[[Any], None],
        *,
        failed: Callable[[str], None] | None = None,
    ) -> None:
        """``work`` on the thread pool, then ``done`` (or ``failed``, with the sentence)
        here; the task is kept until it ends, so that closing waits for it."""
        task = self.runner.start(work, finished=done, failed=failed or self.say)
        self._tasks.add(task)
        task.signals.finished.connect(lambda _r, t=task: self._tasks.discard(t))
        task.signals.failed.connect(lambda _m, t=task: self._tasks.discard(t))

    def _on_search_text_changed(self, _text: str) -> None:
        self._show_clients()

    def _on_find_action_triggered(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _on_client_list_current_row_changed(self, current: Any, _previous: Any) -> None:
        self._choose(self.clients.data(current, IdRole) if current.isValid() else None)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop listening, let the running tasks end, and close the library."""
        if self.live is not None:
            self.live.stop()
        for task in list(self._tasks):
            task.done.wait(CLOSE_WAIT_S)
        lib, self.lib = self.lib, None
        if lib is not None:
            lib.close()
        super().closeEvent(event)


def _visits_of(lib: Library, client_id: int | None) -> list[DeskVisit] | None:
    return None if client_id is None else front_desk.visits(lib, client_id)


def _next_free(taken: set[dt.date], today: dt.date | None = None) -> dt.date:
    """The first day from today the client has no visit on: what a booking starts from."""
    day = today or dt.date.today()
    while day in taken:
        day += dt.timedelta(days=1)
    return day
