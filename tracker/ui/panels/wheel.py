"""Scrolling a panel never changes a value: a spin box, combo box or date field under the
mouse wheel takes the wheel only once it has the keyboard focus (clicked or tabbed into);
otherwise the wheel scrolls the panel around it, as a person scrolling down expects."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QWidget


class _WheelGuard(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.Wheel
            and isinstance(watched, QWidget)
            and not watched.hasFocus()
        ):
            # Not for this widget: ignored, the event goes on to the scroll area around it.
            event.ignore()
            return True
        return False


_GUARD = _WheelGuard()


def guard_wheel(*widgets: QWidget) -> None:
    for widget in widgets:
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(_GUARD)
