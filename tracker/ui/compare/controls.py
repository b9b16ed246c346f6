"""The compare window's own controls: the guide above the photos (what to click now, or what
the difference mode's colours mean), the zoom readout that is also the 100 % button, the
status line that shows a long sentence whole in its tooltip, and the caption field that lets
the window's shortcuts through. Layout and painting only; the window says what to show."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QRect, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QSizePolicy,
    QToolButton,
    QWidget,
)

# What to do while a tool is on: shown whole above the photos, so that nothing is cut off and
# the photos do not move while points are being clicked (it is shown before the first click).
GUIDES = {
    "landmarks": (
        "Click the same landmarks on each photo, in the same order: a mole, a scar, the navel, "
        "the end of a mark. 2 points fix shift, turn and size; 3 or more also correct a photo "
        "taken a little from the side. Then Apply alignment (Enter); Clear marks starts again."
    ),
    "neutral": (
        "Click a neutral patch on each photo: the grey card if there is one, else evenly lit "
        "untreated skin. The first photo's patch sets the brightness the others are matched to."
    ),
    "ruler": (
        "Drag across a photo to measure it, in mm where the photo's scale is known (from the "
        "calibration card). Esc clears the line."
    ),
}

# The difference image is each colour channel's difference times the amplification, so a
# swatch is worked out the same way from skin and the skin changed in one way.
SKIN = (200, 150, 130)
CHANGES = (
    ("the same in both", SKIN),
    ("redder or less red", (205, 120, 115)),  # blood shows mostly in the green channel
    ("lighter or darker", (218, 172, 156)),
)
LEGEND_TIP = (
    "Each pixel shows how much its colour differs between the two photos, amplified. Black is "
    "unchanged; the brighter, the bigger the change. The tint says what changed, not which "
    "photo is redder or lighter: compare the photos themselves for that. Photos taken in "
    "different light differ everywhere, so balance their colour on a neutral patch first."
)


def difference_colour(before: Sequence[int], after: Sequence[int], amplify: float) -> QColor:
    """The colour the difference mode draws where ``before`` became ``after``."""
    r, g, b = (min(255, round(abs(x - y) * amplify)) for x, y in zip(before, after, strict=True))
    return QColor(r, g, b)


class Swatch(QWidget):
    """A small square of one colour, outlined so that black shows on a dark palette too."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.colour = QColor(0, 0, 0)
        self.setFixedSize(16, 16)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect().adjusted(1, 1, -1, -1), self.colour)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))


class Guide(QFrame):
    """A band above the photos: a tool's instructions, or the difference mode's legend."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(self.backgroundRole().AlternateBase)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 10, 6)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setAccessibleName("What to do")
        row.addWidget(self.text, 1)
        self.legend = QWidget(self)
        legend = QHBoxLayout(self.legend)
        legend.setContentsMargins(0, 0, 0, 0)
        self.swatches: list[Swatch] = []
        self.legend_words: list[QLabel] = []
        for words, _colour in CHANGES:
            swatch = Swatch(self.legend)
            label = QLabel(words, self.legend)
            legend.addWidget(swatch)
            legend.addWidget(label)
            legend.addSpacing(12)
            self.swatches.append(swatch)
            self.legend_words.append(label)
        self.legend.setToolTip(LEGEND_TIP)
        row.addWidget(self.legend)
        self.row = row
        self.buttons: dict[str, list[QToolButton]] = {}
        self.hide()

    def add_actions(self, tool: str, actions: Sequence[QAction]) -> None:
        """Buttons for ``actions`` beside the tool's instructions, shown while it is on: they
        are needed only then, and the toolbar keeps its room."""
        for action in actions:
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.hide()
            self.row.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
            self.buttons.setdefault(tool, []).append(button)

    def show_for(self, tool: str | None, mode: str, amplify: float) -> None:
        """The guide of ``tool`` ("landmarks", "neutral", "ruler") while it is on; else, in the
        difference mode, the legend of its colours; else nothing."""
        for name, buttons in self.buttons.items():
            for button in buttons:
                button.setVisible(name == tool)
        if tool is not None:
            self.text.setText(GUIDES[tool])
            self.legend.hide()
        elif mode == "difference":
            self.text.setText(
                f"Difference, amplified ×{amplify:g}: black is unchanged, brighter is more "
                "changed. Tints:"
            )
            for swatch, (_words, after) in zip(self.swatches, CHANGES, strict=True):
                swatch.colour = difference_colour(SKIN, after, amplify)
                swatch.update()
            self.legend.show()
        else:
            self.hide()
            return
        self.show()


class ZoomButton(QToolButton):
    """The zoom readout, which is also the button for 100 % (one photo pixel a screen pixel)
    and, on its menu, for other zooms: one control for what the zoom is and for setting it."""

    zoom_chosen = Signal(float)

    def __init__(self, actual: QAction, fit: QAction, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.actual = actual
        self.setAutoRaise(True)
        self.setAccessibleName("Zoom")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.clicked.connect(actual.trigger)
        menu = QMenu(self)
        menu.addAction(fit)
        menu.addAction(actual)
        for percent in (25, 50, 200, 400):
            level = menu.addAction(f"{percent} %")
            level.triggered.connect(lambda _on=False, z=percent / 100: self.zoom_chosen.emit(z))
        self.setMenu(menu)
        self.show_zoom(1.0)

    def show_zoom(self, zoom: float) -> None:
        percent = round(zoom * 100)
        self.setText(f"{percent} %")
        keys = self.actual.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        self.setToolTip(f"Shown at {percent} %. Click for 100 % ({keys}); the arrow for others.")


class StatusLine(QLabel):
    """One line that never changes the window's layout (a wrapping status would resize the
    canvas under the pointer while points are clicked): a sentence too long for it ends in
    "…", and its tooltip holds it whole."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text if self.fontMetrics().horizontalAdvance(text) > self.width() else "")

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(
            QRect(rect), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), shown
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.setText(self.text())  # the tooltip follows whether it fits


class CaptionEdit(QLineEdit):
    """The caption field. A line edit takes Ctrl+E (end of line) and Ctrl+K (delete to the end)
    for itself on Linux, so the window's Export and Choose photos did nothing while it had the
    focus; the keys of ``passed`` go to the window's actions instead."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.passed: list[QAction] = []

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            pressed = QKeySequence(event.keyCombination())
            if any(pressed in action.shortcuts() for action in self.passed):
                event.ignore()  # not the field's: the shortcut map gives it to the action
                return True
        return super().event(event)
