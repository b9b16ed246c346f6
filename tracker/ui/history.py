"""The undo history, and the base of every undoable command.

Each command holds the library and ids, and calls the core's services in ``do`` and
``revert``, never widgets. ``History`` drives the ``QUndoStack``: it runs a command's step
*before* moving the stack, so a step the core refuses (a rating out of range, a taken date,
an undo that would break what came after) shows its sentence and leaves the stack where it
was; a refusal that can never succeed clears the history with a visible note, so that the
stack never offers a step the library cannot take. After each step it says what kind of
data changed (``Change``) and which photos, so each view reloads only what it shows.
``Checked`` is the base of a step checked against other workstations' changes (issue 21).
"""

from __future__ import annotations

import enum
import logging
from typing import Any, ClassVar

import shiboken6
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack

from tracker.core.errors import DatabaseBusy, StaleEdit, TrackerError
from tracker.core.services import versions
from tracker.core.store.library import Library

log = logging.getLogger(__name__)


class Change(enum.Flag):
    """What a step changed, for the views to decide what to reload."""

    NOTHING = 0
    CLIENTS = enum.auto()
    AREAS = enum.auto()
    VISITS = enum.auto()
    PHOTOS = enum.auto()  # which photos a visit shows: added, removed, relabelled
    TREATMENT = enum.auto()
    RATINGS = enum.auto()
    ALIGNMENT = enum.auto()
    COLOUR = enum.auto()
    MEASURES = enum.auto()  # what the marks are measured from: a region, the sensitivity


class Command(QUndoCommand):
    """One undoable step. Subclasses set ``changes`` and implement ``do`` and ``revert``, each
    one transaction of the core (so a refused step changes nothing)."""

    changes: ClassVar[Change] = Change.NOTHING

    def __init__(self, lib: Library, text: str) -> None:
        super().__init__(text)
        self.lib = lib
        self._skip = False

    def do(self) -> None:
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError

    def photo_ids(self) -> frozenset[int]:
        """The photos this step touches (for the compare windows); empty when none."""
        return frozenset()

    # QUndoStack calls these when History moves it; History has run the step already.
    def redo(self) -> None:
        if self._skip:
            self._skip = False
            return
        self.do()

    def undo(self) -> None:
        if self._skip:
            self._skip = False
            return
        self.revert()


class Checked(Command):
    """A step checked against other workstations (issue 21): its first run names ``seen``,
    the version its editor showed, and is refused with ``StaleEdit`` when someone else
    changed the row since (a refused first run leaves no step behind); a redo (and each undo)
    names the values the step before left (``versions.Expect``), since this window's own
    later steps moved the version on. Each refused step changes nothing."""

    def __init__(self, lib: Library, text: str, seen: Any) -> None:
        super().__init__(lib, text)
        self.seen = seen
        self._done = False

    def checks(self, before: Any) -> dict[str, Any]:
        """``seen`` on the first run; then the values ``before`` that the undo left."""
        first, self._done = not self._done, True
        return {"seen": self.seen} if first else {"expect": versions.Expect(before)}


class History(QObject):
    """The undo stack of one window and its compare windows, driven only through here."""

    changed = Signal(object, object)  # Change, frozenset of photo ids
    noted = Signal(str)  # a sentence for the status bar: the history was cleared, and why
    failed = Signal(str)  # a refused undo or redo, to be shown to the person

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.stack = QUndoStack(self)
        self._actions: dict[int, tuple[QAction, QAction]] = {}
        self._paused = ""
        self.stack.indexChanged.connect(self._update_actions)
        self.stack.cleanChanged.connect(self._update_actions)

    def push(self, command: Command) -> None:
        """Apply ``command`` now (raising the core's error if it is refused, with nothing
        changed), then make it undoable."""
        command.do()
        self._record(command)

    def push_done(self, command: Command) -> None:
        """Make undoable a step that has already happened (an import that ran in a worker)."""
        self._record(command)

    def _record(self, command: Command) -> None:
        changes, ids = command.changes, command.photo_ids()
        command._skip = True
        self.stack.push(command)  # may merge it into the top command and delete it
        self.changed.emit(changes, ids)

    def pause(self, reason: str) -> None:
        """Hold undo and redo while ``reason`` lasts (an import is running: a step taken back
        under it could pull a file from under the import); ``""`` lets them go again."""
        self._paused = reason
        self._update_actions()

    def undo(self) -> bool:
        if self._paused:
            self.failed.emit(self._paused)
            return False
        index = self.stack.index()
        if index == 0:
            return False
        command = self.stack.command(index - 1)
        assert isinstance(command, Command)
        try:
            command.revert()
        except Exception as exc:  # the edge of the history: whatever fails, the stack stays true
            self._refused(exc, f"“{command.text()}” could not be undone", command)
            return False
        changes, ids = command.changes, command.photo_ids()
        command._skip = True
        self.stack.undo()
        self.changed.emit(changes, ids)
        return True

    def redo(self) -> bool:
        if self._paused:
            self.failed.emit(self._paused)
            return False
        index = self.stack.index()
        if index >= self.stack.count():
            return False
        command = self.stack.command(index)
        assert isinstance(command, Command)
        try:
            command.do()
        except Exception as exc:  # the edge of the history: whatever fails, the stack stays true
            self._refused(exc, f"“{command.text()}” could not be redone", command)
            return False
        changes, ids = command.changes, command.photo_ids()
        command._skip = True
        self.stack.redo()
        self.changed.emit(changes, ids)
        return True

    def _refused(self, exc: Exception, what: str, command: Command) -> None:
        if isinstance(exc, DatabaseBusy):
            # Another program is writing for a moment: the step stays, to be tried again.
            self.failed.emit(f"{what}: {exc}")
            return
        if isinstance(exc, TrackerError):
            reason = str(exc)
        else:  # not a refusal the core words: a fault, logged with its traceback
            log.error("An undo step failed", exc_info=exc)
            reason = f"something unexpected went wrong ({type(exc).__name__}); it is in the log."
        self.stack.clear()
        self.failed.emit(f"{what}: {reason} The undo history was cleared.")
        self.noted.emit("The undo history was cleared: a step could not be taken back.")
        if isinstance(exc, StaleEdit):  # someone else changed it: show the fresh values
            self.changed.emit(command.changes, command.photo_ids())

    def clear(self, note: str = "") -> None:
        """Forget every step (another library, or a change that cannot be undone: ``note``
        says which, in the status bar)."""
        had = self.stack.count() > 0
        self.stack.clear()
        if note and had:
            self.noted.emit(note)

    def actions(self, parent: QObject) -> tuple[QAction, QAction]:
        """Undo and Redo actions, with the platform's keys, whose text names the step
        ("Undo import of 12 photos")."""
        undo = QAction("&Undo", parent)
        undo.setShortcuts(QKeySequence.StandardKey.Undo)
        redo = QAction("&Redo", parent)
        redo.setShortcuts(QKeySequence.StandardKey.Redo)
        undo.triggered.connect(self.undo)
        redo.triggered.connect(self.redo)
        key = id(undo)
        self._actions[key] = (undo, redo)
        # Forgotten when their window goes, so no update ever reaches a deleted action.
        undo.destroyed.connect(lambda _obj=None, key=key: self._actions.pop(key, None))
        self._update_actions()
        return undo, redo

    def _update_actions(self) -> None:
        if not shiboken6.isValid(self.stack):
            return  # the history itself is going
        for undo, redo in list(self._actions.values()):
            if not (shiboken6.isValid(undo) and shiboken6.isValid(redo)):
                continue
            undo.setEnabled(self.stack.canUndo() and not self._paused)
            redo.setEnabled(self.stack.canRedo() and not self._paused)
            undo.setText(f"&Undo {self.stack.undoText()}".strip())
            redo.setText(f"&Redo {self.stack.redoText()}".strip())
