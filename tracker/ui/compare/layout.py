"""The compare window's layout: the canvas, the status line and the two toolbars, with every
action and control the behaviour (``CompareWindow``) connects. Layout only."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QMainWindow,
    QMenu,
    QSlider,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tracker import APP_NAME
from tracker.ui.compare.canvas import MODES, CompareCanvas
from tracker.ui.compare.controls import CaptionEdit, Guide, StatusLine, ZoomButton
from tracker.ui.history import History
from tracker.ui.icons import icon

MODE_LABELS = {
    "side": "Side by side",
    "wipe": "Wipe",
    "overlay": "Overlay",
    "blink": "Blink",
    "difference": "Difference",
}


class CompareLayout(QMainWindow):
    def __init__(self, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.setWindowTitle(f"Compare — {APP_NAME}")
        self.setWindowFlag(Qt.WindowType.Window)
        self.resize(1240, 780)
        self.canvas = CompareCanvas(self)
        # What to do now (or what the difference colours mean) above the photos, whole.
        self.guide = Guide(self)
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.guide)
        column.addWidget(self.canvas, 1)
        self.setCentralWidget(central)
        self.status: QLabel = StatusLine(self)
        self.statusBar().addWidget(self.status, 1)
        self._build_toolbars()

    def _action(
        self,
        text: str,
        icon_name: str,
        keys: Sequence[QKeySequence | str] = (),
        checkable: bool = False,
    ) -> QAction:
        action = QAction(icon(icon_name) if icon_name else QAction().icon(), text, self)
        action.setShortcuts([QKeySequence(k) for k in keys])
        action.setCheckable(checkable)
        self.addAction(action)
        return action

    def _build_toolbars(self) -> None:
        view = QToolBar("View", self)
        view.setObjectName("compare-view")
        view.setIconSize(QSize(20, 20))
        self.mode = QComboBox(self)
        for key in MODES:
            self.mode.addItem(MODE_LABELS[key], key)
        self.mode.setAccessibleName("Comparison mode")
        view.addWidget(QLabel(" Mode: ", self))
        view.addWidget(self.mode)
        self.vertical = QCheckBox("Divider upright", self)
        self.vertical.setChecked(True)
        self.vertical.setToolTip(
            "A vertical divider that moves left and right; untick for a horizontal one"
        )
        self.opacity = QSlider(Qt.Orientation.Horizontal, self)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.setFixedWidth(120)
        self.opacity.setAccessibleName("Opacity of the second photo")
        self.amplify = QDoubleSpinBox(self)
        self.amplify.setRange(1, 20)
        self.amplify.setValue(4)
        self.amplify.setPrefix("×")
        self.amplify.setAccessibleName("Amplify the difference")
        self.mode_widgets = {
            "wipe": [view.addWidget(self.vertical)],
            "overlay": [view.addWidget(QLabel(" Opacity ", self)), view.addWidget(self.opacity)],
            "difference": [view.addWidget(QLabel(" Amplify ", self)), view.addWidget(self.amplify)],
        }
        view.addSeparator()
        self.zoom_in = self._action(
            "Zoom in", "zoom-in", ["+", "=", QKeySequence(QKeySequence.StandardKey.ZoomIn)]
        )
        self.zoom_out = self._action(
            "Zoom out", "zoom-out", ["-", QKeySequence(QKeySequence.StandardKey.ZoomOut)]
        )
        self.fit = self._action("Fit", "fit", ["F"])
        self.actual = self._action("Zoom to 100 %", "", ["1"])
        self.zoom_button = ZoomButton(self.actual, self.fit, self)
        view.addAction(self.zoom_out)
        view.addWidget(self.zoom_button)
        view.addAction(self.zoom_in)
        view.addAction(self.fit)
        self.sync = QCheckBox("Move together", self)
        self.sync.setChecked(True)
        self.sync.setToolTip("Zoom and pan every photo at once; untick to move one on its own")
        self.aligned = QCheckBox("Aligned", self)
        self.aligned.setChecked(True)
        self.aligned.setToolTip("Show the photos through their stored alignment")
        self.labels = QCheckBox("Labels", self)
        self.labels.setChecked(True)
        self.ratings = QCheckBox("Ratings", self)
        self.ratings.setToolTip("Each photo's ratings under its label, on screen and in the export")
        for box in (self.sync, self.aligned, self.labels, self.ratings):
            view.addWidget(box)
        self.ruler = self._action("Ruler", "", ["R"], checkable=True)
        self.ruler.setToolTip(
            "Drag across a photo to measure it: in mm when its scale is known (R; Esc clears)"
        )
        self.addToolBar(view)
        self.addToolBarBreak()

        tools = QToolBar("Tools", self)
        tools.setObjectName("compare-tools")
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        tools.setIconSize(QSize(20, 20))
        self.choose = self._action("Choose photos…", "compare", ["Ctrl+K"])
        self.align = self._action("Mark landmarks", "", ["L"], checkable=True)
        self.apply_align = self._action("Apply alignment", "", ["Return"])
        self.clear_marks = self._action("Clear marks", "", [])
        self.reset_align = self._action("Reset alignment", "", [])
        self.auto_align = self._action("Align automatically", "", ["A"])
        self.auto_align.setToolTip(
            "Align the photos shown to the reference photo of their view, from the skin itself (A)"
        )
        self.align_view = self._action("Align all photos of this view", "", ["Shift+A"])
        self.align_view.setToolTip(
            "Align every photo of this area and view to its reference, in the background (Shift+A)"
        )
        self.neutral = self._action("Pick neutral patch", "", ["N"], checkable=True)
        self.reset_colour = self._action("Reset colour", "", [])
        self.export_action = self._action("Export…", "import", ["Ctrl+E"])
        self.caption = CaptionEdit(self)
        self.caption.setPlaceholderText("Optional: a line of text under the exported image")
        self.caption.setAccessibleName("Caption for the exported image")
        self.caption.setMaxLength(300)
        self.caption.passed = [self.export_action, self.choose]
        # Applying and clearing landmarks are offered beside the instructions, while marking.
        self.guide.add_actions("landmarks", [self.apply_align, self.clear_marks])
        self.undo, self.redo = self.history.actions(self)
        self.addAction(self.undo)
        self.addAction(self.redo)
        entries: tuple[QAction | None, ...] = (
            self.choose,
            None,
            self.auto_align,
            self.align,
            None,
            self.neutral,
            # With the other tools that take clicks on the photos: on the first row it pushed
            # the measures' More behind » on a 1024-pixel screen.
            self.ruler,
            None,
            self.undo,
            self.redo,
            None,
            self.export_action,
        )
        for entry in entries:
            tools.addSeparator() if entry is None else tools.addAction(entry)
        # Undo and redo name the edit they take back ("Undo add area Belly left"): as icons,
        # with that text as their tooltip, so the caption field keeps its room.
        for action, name in ((self.undo, "undo"), (self.redo, "redo")):
            action.setIcon(icon(name))
            button = tools.widgetForAction(action)
            if isinstance(button, QToolButton):
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        # The second choices are on their button's menu: aligning the whole view and undoing
        # alignments on the automatic alignment's, undoing colour balance on the neutral patch's.
        for action, more in (
            (self.auto_align, (self.align_view, None, self.reset_align)),
            (self.neutral, (self.reset_colour,)),
        ):
            button = tools.widgetForAction(action)
            if isinstance(button, QToolButton):
                menu = QMenu(button)
                for entry in more:
                    menu.addSeparator() if entry is None else menu.addAction(entry)
                button.setMenu(menu)
                button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.addToolBar(tools)
        # The caption has a line of its own under the photos: in the toolbar it was the first
        # thing pushed behind » on a 1024-pixel screen.
        below = QToolBar("Caption", self)
        below.setObjectName("compare-caption")
        below.setMovable(False)
        below.addWidget(QLabel(" Caption: ", self))
        below.addWidget(self.caption)
        self.addToolBar(Qt.ToolBarArea.BottomToolBarArea, below)
