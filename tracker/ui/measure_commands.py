"""The undoable edits of what the marks are measured from (issue 18): a region drawn on a
view's reference photo, the sensitivity of the marks found, and the untreated control an area
is compared with. Each calls the core's service, which returns what it replaced, so that undo
puts exactly that back. Each is ``Checked`` (issue 21): its first run names the version shown
(a region's; none for the sensitivity, read as it is stepped), its undo and redo the values
the step before left, so another workstation's change in between is refused, not undone."""

from __future__ import annotations

from collections.abc import Sequence

from tracker.core.services import measure as measuring
from tracker.core.services import versions
from tracker.core.store.library import Library
from tracker.ui.history import Change, Checked, Command

Point = tuple[float, float]
REGION_WORDS = {"marks": "the marks' region", "skin": "the skin patch"}


class SetRegion(Checked):
    """Draw, edit or clear (``points`` None) one region of an area's view; ``seen`` is the
    region's version the window showed (0: none drawn)."""

    changes = Change.MEASURES

    def __init__(
        self,
        lib: Library,
        area_id: int,
        view: str,
        kind: str,
        points: Sequence[Point] | None,
        seen: int | None = None,
    ) -> None:
        what = REGION_WORDS.get(kind, kind)
        super().__init__(lib, f"{'clear' if points is None else 'draw'} {what} of {view}", seen)
        self.area_id, self.view, self.kind = area_id, view, kind
        self.points = None if points is None else [(float(x), float(y)) for x, y in points]
        self.before: list[Point] | None = None

    def do(self) -> None:
        checks = self.checks(self.before)
        old = measuring.set_region(
            self.lib, self.area_id, self.view, self.kind, self.points, **checks
        )
        before = old.marks if self.kind == "marks" else old.skin
        self.before = None if before is None else [(float(x), float(y)) for x, y in before]

    def revert(self) -> None:
        expect = versions.Expect(self.points)  # the outline the step left
        measuring.set_region(
            self.lib, self.area_id, self.view, self.kind, self.before, expect=expect
        )


class SetSensitivity(Checked):
    """How faint a mark is still found in an area (None: the engine's default). It counts in
    the area's version, so the main window reads its areas again (``Change.AREAS``)."""

    changes = Change.AREAS | Change.MEASURES

    def __init__(self, lib: Library, area_id: int, value: float | None) -> None:
        super().__init__(lib, "change the sensitivity of the marks found", None)
        self.area_id, self.value = area_id, value
        self.before: float | None = None

    def do(self) -> None:
        checks = self.checks(self.before)
        self.before = measuring.set_sensitivity(self.lib, self.area_id, self.value, **checks)

    def revert(self) -> None:
        expect = versions.Expect(self.value)
        measuring.set_sensitivity(self.lib, self.area_id, self.before, expect=expect)


class SetControl(Checked):
    """The untreated area an area's measures are compared with (None: no control). Choosing
    it marks it as an untreated control (``set_control``); the undo takes that mark back off
    an area that was not one before, so the step is undone exactly. ``seen``: the area's
    version the area dialog showed, when the control is all it changes."""

    changes = Change.AREAS | Change.MEASURES

    def __init__(
        self, lib: Library, area_id: int, control_area_id: int | None, seen: int | None = None
    ) -> None:
        text = "compare with no control" if control_area_id is None else "choose the control"
        super().__init__(lib, text, seen)
        self.area_id, self.control_area_id = area_id, control_area_id
        self.before: int | None = None
        self.was_control = False  # whether the chosen area was a control before the step

    def do(self) -> None:
        chosen = self.control_area_id
        self.was_control = chosen is not None and measuring.set_is_control(self.lib, chosen, True)
        try:
            checks = self.checks(self.before)  # its redo: the control the undo put back
            self.before = measuring.set_control(self.lib, self.area_id, chosen, **checks)
        except Exception:
            self._unmark()
            raise

    def revert(self) -> None:
        # Checked first: a refusal leaves the chosen area marked, as the step left it.
        expect = versions.Expect(self.control_area_id)
        measuring.set_control(self.lib, self.area_id, self.before, expect=expect)
        self._unmark()

    def _unmark(self) -> None:
        """Take the mark back off the chosen area if the step put it there (no other area is
        compared with it then: ``set_control`` marks every area it names)."""
        if self.control_area_id is not None and not self.was_control:
            measuring.set_is_control(self.lib, self.control_area_id, False)


class AreaSteps(Command):
    """An area's details and its control, saved together as one step: a refused part takes
    back the parts done before it, so the step is all or nothing."""

    changes = Change.AREAS | Change.MEASURES

    def __init__(self, lib: Library, text: str, steps: Sequence[Command]) -> None:
        super().__init__(lib, text)
        self.steps = list(steps)

    def do(self) -> None:
        done: list[Command] = []
        try:
            for step in self.steps:
                step.do()
                done.append(step)
        except Exception:
            for step in reversed(done):
                step.revert()
            raise

    def revert(self) -> None:
        for step in reversed(self.steps):
            step.revert()

    def photo_ids(self) -> frozenset[int]:
        return frozenset().union(*(step.photo_ids() for step in self.steps))
