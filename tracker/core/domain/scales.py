"""Rating scales, defined in code (not in the database) with their items, ranges and anchors.

A stored rating names its scale's key and version, so a scale can be revised later without
reinterpreting old ratings. Items and ranges follow the published instruments (POSAS 2.0,
GAIS); ``ctd`` is this app's own colour/texture/depth scale in the POSAS convention.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass

from tracker.core.db.models import RaterRole
from tracker.core.errors import ValidationError

PATIENT = RaterRole.PATIENT
PRACTITIONER = RaterRole.PRACTITIONER


@dataclass(frozen=True)
class Item:
    key: str
    label: str
    minimum: int
    maximum: int
    # Anchor labels at given values, e.g. {1: "like normal skin", 10: "worst imaginable"}.
    anchors: Mapping[int, str]
    whole_numbers: bool = True

    @property
    def decimals(self) -> int:
        """The item's resolution: whole numbers, or steps of 0.1."""
        return 0 if self.whole_numbers else 1

    def check(self, value: float) -> float:
        """The value in the item's resolution if it is allowed for this item, else
        ValidationError with a sentence."""
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValidationError(f"{self.key} must be a number, not {value}.")
        if not self.minimum <= value <= self.maximum:
            raise ValidationError(
                f"{self.key} must be between {self.minimum} and {self.maximum}; {value:g} is out of range."
            )
        scaled = value * 10**self.decimals
        if abs(scaled - round(scaled)) > 1e-6:
            raise ValidationError(
                f"{self.key} takes whole numbers only; {value:g} is not one."
                if self.whole_numbers
                else f"{self.key} takes steps of 0.1; {value:g} is finer."
            )
        return round(value, self.decimals) + 0.0  # in its resolution; never "-0"


class Analysis(enum.StrEnum):
    """How an instrument's ratings are analysed and reported (``domain/instruments.py``)."""

    CHANGE = "change"  # each item's change from the area's baseline (ctd)
    POSAS = "posas"  # the items' change, and the total of the items beside the overall opinion
    GRADE = "grade"  # a judgement against baseline: how many at each grade, the share improved
    LEVEL = "level"  # a judgement against baseline on a line: its value over time, as given


@dataclass(frozen=True)
class Scale:
    key: str
    version: int
    name: str
    description: str
    items: tuple[Item, ...]
    roles: frozenset[RaterRole]
    # True where a lower value means better (POSAS); False where higher is better (VAS).
    lower_is_better: bool = True
    analysis: Analysis = Analysis.CHANGE
    short: str = ""  # the name in a legend or a summary line, e.g. "POSAS observer"
    # Instruments in one family are shown side by side (POSAS's patient and observer forms).
    family: str = ""

    @property
    def total_items(self) -> tuple[Item, ...]:
        """The items a POSAS total adds up: every item but the overall opinion."""
        if self.analysis is not Analysis.POSAS:
            return ()
        return tuple(i for i in self.items if i.key != OVERALL_KEY)

    @property
    def total_range(self) -> tuple[int, int]:
        items = self.total_items
        return sum(i.minimum for i in items), sum(i.maximum for i in items)

    def total(self, values: Mapping[str, float]) -> float | None:
        """The POSAS total (sum of the items, the overall opinion apart), or None when the
        scale has no total or an item is missing: a total of five items is not a POSAS."""
        items = self.total_items
        if not items or any(i.key not in values for i in items):
            return None
        return sum(values[i.key] for i in items)

    def item(self, key: str) -> Item:
        for item in self.items:
            if item.key == key:
                return item
        known = ", ".join(i.key for i in self.items)
        raise ValidationError(f"The {self.key} scale has no item '{key}'; its items are {known}.")

    def check_role(self, role: RaterRole) -> None:
        """ValidationError unless ``role`` rates this scale."""
        if role not in self.roles:
            allowed = " or ".join(sorted(r.value for r in self.roles))
            raise ValidationError(
                f"The {self.key} scale is rated by the {allowed}, not the {role.value}."
            )

    def validate(self, role: RaterRole, values: Mapping[str, float | None]) -> dict[str, float]:
        """Checked values for a rating by ``role`` (an item given as None is one to clear, and
        only its key is checked); raises ValidationError on the first fault."""
        self.check_role(role)
        if not values:
            raise ValidationError(
                f"Give at least one value for the {self.key} scale, e.g. {self.items[0].key}=5."
            )
        checked: dict[str, float] = {}
        for key, value in values.items():
            item = self.item(key)
            if value is not None:
                checked[key] = item.check(value)
        return checked


POSAS_ANCHORS = {1: "like normal skin", 10: "worst scar imaginable"}
OVERALL_KEY = "overall"
OVERALL = Item(OVERALL_KEY, "Overall opinion", 1, 10, {1: "as normal skin", 10: "very different"})


def _posas(keys_labels: list[tuple[str, str]]) -> tuple[Item, ...]:
    return (*(Item(k, label, 1, 10, POSAS_ANCHORS) for k, label in keys_labels), OVERALL)


SCALES: dict[str, Scale] = {
    scale.key: scale
    for scale in (
        Scale(
            key="ctd",
            version=1,
            name="Colour, texture, depth",
            description="How the marks look, each from 1 (like normal skin) to 10 (worst imaginable).",
            items=(
                Item("colour", "Colour", 1, 10, {1: "like normal skin", 10: "worst imaginable"}),
                Item("texture", "Texture", 1, 10, {1: "like normal skin", 10: "worst imaginable"}),
                Item("depth", "Depth", 1, 10, {1: "like normal skin", 10: "worst imaginable"}),
            ),
            roles=frozenset({PATIENT, PRACTITIONER}),
            short="Colour/texture/depth",
        ),
        Scale(
            key="posas2-patient",
            version=2,
            name="POSAS 2.0, patient scale",
            description="The patient's own assessment, each item from 1 (as normal skin) to 10.",
            items=_posas(
                [
                    ("pain", "Pain"),
                    ("itching", "Itching"),
                    ("colour", "Colour"),
                    ("stiffness", "Stiffness"),
                    ("thickness", "Thickness"),
                    ("irregularity", "Irregularity"),
                ]
            ),
            roles=frozenset({PATIENT}),
            analysis=Analysis.POSAS,
            short="POSAS patient",
            family="posas2",
        ),
        Scale(
            key="posas2-observer",
            version=2,
            name="POSAS 2.0, observer scale",
            description="The practitioner's assessment, each item from 1 (normal skin) to 10.",
            items=_posas(
                [
                    ("vascularity", "Vascularity"),
                    ("pigmentation", "Pigmentation"),
                    ("thickness", "Thickness"),
                    ("relief", "Relief"),
                    ("pliability", "Pliability"),
                    ("surface_area", "Surface area"),
                ]
            ),
            roles=frozenset({PRACTITIONER}),
            analysis=Analysis.POSAS,
            short="POSAS observer",
            family="posas2",
        ),
        Scale(
            key="gais",
            version=1,
            name="Global Aesthetic Improvement Scale",
            description="Improvement against baseline, from 1 (very much improved) to 5 (worse).",
            items=(
                Item(
                    "overall",
                    "Improvement since baseline",
                    1,
                    5,
                    {
                        1: "very much improved",
                        2: "much improved",
                        3: "improved",
                        4: "no change",
                        5: "worse",
                    },
                ),
            ),
            roles=frozenset({PATIENT, PRACTITIONER}),
            analysis=Analysis.GRADE,
            short="GAIS",
        ),
        Scale(
            key="improvement-vas",
            version=1,
            name="Improvement since baseline (0–10)",
            description="A visual analogue scale of improvement, 0 (none) to 10 (complete).",
            items=(
                Item(
                    "overall",
                    "Improvement since baseline",
                    0,
                    10,
                    {0: "no improvement", 10: "complete improvement"},
                    whole_numbers=False,
                ),
            ),
            roles=frozenset({PATIENT, PRACTITIONER}),
            lower_is_better=False,
            analysis=Analysis.LEVEL,
            short="Improvement VAS",
        ),
    )
}

DEFAULT_SCALE = "ctd"


def scale_or_default(key: str) -> Scale:
    """An area's scale, or the default one when its key is of a newer version of the app (a
    stored key is never refused on reading)."""
    return SCALES.get(key) or SCALES[DEFAULT_SCALE]


def get_scale(key: str) -> Scale:
    try:
        return SCALES[key]
    except KeyError:
        known = ", ".join(SCALES)
        raise ValidationError(
            f"There is no rating scale '{key}'; the scales are {known}."
        ) from None
