"""Changes made on another workstation, shown without a restart (issue 21: within 2 s).

For a library in a database, ``LiveChanges`` listens for what other sessions commit
(``core.db.notify.ChangeListener``: LISTEN/NOTIFY on its own connection, reconnecting by
itself) and reloads the window from the library shortly after: changes that come in a burst
(an import of many photos on another workstation) give one reload, ``SETTLE_MS`` after the
first. The window's own commits are not told back to it (their origin is its own).

Nothing here runs for a folder library: its server modules are not even loaded.

The listener's callback runs in its thread; it only emits a signal, which Qt queues to the
GUI thread. A reload while the person is typing in a field would lose what they typed, so it
waits until no editor of the visit panel has the focus (``busy``), looking again every
``SETTLE_MS``. The changes seen are counted (``changes``) for the tests and the status bar.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from tracker.core.errors import TrackerError

if TYPE_CHECKING:
    from tracker.core.store.library import Library

log = logging.getLogger(__name__)

SETTLE_MS = 300
# Written by reading, so what the window shows is the same: the audit trail (someone opened a
# client), and stored files alone (a thumbnail or preview another workstation made on first
# view; a photo's own row changes with any new photo, removal or move).
QUIET_TABLES = frozenset({"audit", "blob", "blob_chunk"})
POLL_MS = 100


def typing_in(panel: QWidget) -> bool:
    """Whether the person is typing in a field of ``panel`` (a reload would lose what they
    typed); a photo or a button with the focus is not typing."""
    focus = QApplication.focusWidget()
    if focus is None or not panel.isAncestorOf(focus):
        return False
    if isinstance(focus, QComboBox):
        return focus.isEditable()
    return isinstance(focus, (QLineEdit, QAbstractSpinBox, QPlainTextEdit, QTextEdit))


class LiveChanges(QObject):
    """Reloads the window (``reload``) when another workstation commits a change."""

    told = Signal()

    def __init__(
        self,
        reload: Callable[[], object],
        busy: Callable[[], bool],
        say: Callable[[str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._reload, self._busy, self._say = reload, busy, say
        self._listener: Any = None
        self.changes = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SETTLE_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self._poll = QTimer(self)  # until the listener LISTENs
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._on_poll_timeout)
        self.told.connect(self._on_told)

    @property
    def listening(self) -> bool:
        return self._listener is not None and bool(self._listener.wait_listening(0))

    def set_library(self, lib: Library | None) -> None:
        """Stop listening to the old library; listen to ``lib`` when it is in a database."""
        self.stop()
        if lib is None or lib.server is None:
            return
        # start-up time: the listener (and psycopg with it) loads for a clinic library only
        from tracker.core.db.notify import ChangeListener

        origin = getattr(lib, "origin", None)
        self._listener = ChangeListener(lib.engine, self._on_change, ignore_origin=origin).start()
        self._poll.start()

    def _on_change(self, change: Any) -> None:
        # In the listener's thread. Only quiet tables written (``QUIET_TABLES``): nothing this
        # window shows changed.
        if change.resync or set(change.tables) - QUIET_TABLES:
            self.told.emit()

    def stop(self) -> None:
        self._timer.stop()
        self._poll.stop()
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.stop()
            except TrackerError as exc:  # its thread is a daemon: it ends with the app
                log.warning("%s", exc)

    def _on_told(self) -> None:
        self.changes += 1
        if not self._timer.isActive():
            self._timer.start()

    def _on_timer_timeout(self) -> None:
        self._reload_when_free("Showing the changes saved on another workstation.")

    def _reload_when_free(self, note: str) -> None:
        if self._listener is None:
            return
        if self._busy():
            self._timer.start()  # look again once the person has left the field
            return
        try:
            self._reload()
        except TrackerError as exc:  # the server away: its sentence; the next change reloads
            self._say(str(exc))
            return
        if note:
            self._say(note)

    def _on_poll_timeout(self) -> None:
        # Listening now: what was committed between the window's loading and the LISTEN
        # would be missed, so one reload (a change, as far as the window can tell).
        if self._listener is None:
            self._poll.stop()
        elif self.listening:
            self._poll.stop()
            self._reload_when_free("")
