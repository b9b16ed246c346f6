"""Opening compare windows: with the baseline, or on photos chosen in the grid or a picker."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tracker.core.queries import browse
from tracker.ui.compare.picker import PhotoPicker, photo_choices
from tracker.ui.compare.window import CompareWindow
from tracker.ui.main import consenting
from tracker.ui.main.controller import Window, WindowController
from tracker.ui.settings import fit_on_screen


class CompareController(WindowController):
    def __init__(self, window: Window) -> None:
        super().__init__(window)
        self.windows: list[CompareWindow] = []

    def _connect_signals(self) -> None:
        w = self.window
        w.menus.compare_baseline.triggered.connect(self._on_compare_baseline)
        w.menus.compare.triggered.connect(self._on_compare_photos)
        w.panel.grid.compare_action.triggered.connect(self._on_compare_baseline)
        w.panel.grid.compare_selected_action.triggered.connect(self._on_compare_photos)

    def close_all(self) -> None:
        for window in list(self.windows):
            window.close()
        self.windows = []

    def open(self, photo_ids: list[int]) -> CompareWindow | None:
        w = self.window
        if w.lib is None:
            return None
        if not 2 <= len(photo_ids) <= 4:
            w.show_error(f"Compare 2 to 4 photos; {len(photo_ids)} were chosen.")
            return None
        window = CompareWindow(w.lib, photo_ids, w.runner, w.history, w.as_widget(), w.client_id)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.prefs = w.prefs
        window.consent_gate = consenting.compare_gate(window, w.lib, w.prefs.mode)
        # The ways of looking the person chose last time (not the alignment or the links of
        # zoom and pan, which are for one comparison).
        for key, widget in (
            ("mode", window.mode),
            ("vertical", window.vertical),
            ("opacity", window.opacity),
            ("labels", window.labels),
            ("ratings", window.ratings),
        ):
            w.prefs.remember(f"compare/{key}", widget)
        # Closed windows delete themselves: forget each one then, never touch it after.
        window.destroyed.connect(lambda _obj=None, w=window: self._forget(w))
        if w.lib.read_only is not None:  # the photos can be looked at, not aligned or balanced
            for edit in (window.align, window.auto_align, window.align_view, window.neutral):
                edit.setEnabled(False)
            window.measure_tools.set_read_only()
            window.setWindowTitle(f"{window.windowTitle()} (read-only)")
        fit_on_screen(window)
        window.show()
        self.windows.append(window)
        return window

    def _forget(self, window: CompareWindow) -> None:
        self.windows = [w for w in self.windows if w is not window]

    def _on_compare_baseline(self) -> None:
        """This visit's selected (or first) photo beside the same area and view at baseline."""
        w = self.window
        if w.lib is None:
            return
        ids = w.panel.grid.selected_ids() or [p.id for p in w.photos.rows()[:1]]
        if not ids:
            w.show_error(
                "This visit has no photos of this area to compare; choose a visit with photos."
            )
            return
        partner = browse.baseline_partner(w.lib, ids[0])
        if partner is None:
            w.show_error("There is no other photo of this area at the baseline to compare with.")
            return
        self.open([partner, ids[0]])

    def _on_compare_photos(self) -> None:
        """Photos selected in the grid, or a choice among all of the area's photos."""
        w = self.window
        if w.lib is None or w.area_id is None:
            return
        selected = w.panel.grid.selected_ids()
        if 2 <= len(selected) <= 4:
            self.open(selected)
            return
        choices, every, default = photo_choices(w.lib, w.area_id, w.client_id)
        if len(choices) < 2:
            w.show_error("This area has fewer than two photos; import more to compare them.")
            return
        chosen = PhotoPicker.ask(w.as_widget(), choices, default, every, w.thumbs)
        if chosen:
            self.open(chosen)
