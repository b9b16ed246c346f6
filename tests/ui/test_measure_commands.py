"""The undoable steps of what the marks are measured from (issue 18 review): choosing an area's
untreated control marks that area as a control, and the undo takes the mark back off it when
the step put it there (not when it was a control already), so that an undone choice leaves
the library as it was; a refused choice marks nothing."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from tests import helpers as h
from tracker.core.errors import ValidationError
from tracker.core.queries import listing
from tracker.core.services import clients
from tracker.core.services import measure as measuring
from tracker.core.store.library import Library
from tracker.ui.history import History
from tracker.ui.measure_commands import AreaSteps, SetControl


def _state(lib: Library) -> dict[str, tuple[bool, str | None]]:
    """Each area's name: whether it is a control, and the control it is compared with."""
    return {a["name"]: (a["is_control"], a["control"]) for a in listing.areas(lib)}


def test_undoing_the_choice_of_a_control_is_exact(qapp: QApplication, library: Library) -> None:
    me = h.only_client(library)
    hips, arm, leg = (clients.add_area(library, me, n) for n in ("Hips", "Arm", "Leg"))
    history = History()
    start = _state(library)
    assert start == {"Hips": (False, None), "Arm": (False, None), "Leg": (False, None)}

    history.push(SetControl(library, hips, arm))
    chosen = _state(library)
    assert chosen["Hips"] == (False, "Arm") and chosen["Arm"] == (True, None)
    assert history.undo()
    assert _state(library) == start  # Arm is not left marked as an untreated control
    assert history.redo()
    assert _state(library) == chosen

    # An area that was a control already stays one when the choice of it is undone.
    measuring.set_is_control(library, leg, True)
    marked = _state(library)
    history.push(SetControl(library, hips, leg))
    assert _state(library)["Hips"] == (False, "Leg")
    assert history.undo()
    assert _state(library) == marked and marked["Arm"] == (True, None)

    # No control: the undo puts the one before back, still marked.
    history.push(SetControl(library, hips, None))
    assert _state(library)["Hips"] == (False, None)
    assert history.undo()
    assert _state(library) == marked

    # A refused choice (its own control) marks nothing, alone or as part of an area's step.
    with pytest.raises(ValidationError, match="cannot be its own control"):
        history.push(SetControl(library, arm, arm))
    with pytest.raises(ValidationError, match="cannot be its own control"):
        history.push(AreaSteps(library, "edit Leg", [SetControl(library, leg, leg)]))
    assert _state(library) == marked
    clean = clients.add_area(library, me, "Back")
    with pytest.raises(ValidationError, match="cannot be its own control"):
        history.push(SetControl(library, clean, clean))
    assert _state(library)["Back"] == (False, None)
