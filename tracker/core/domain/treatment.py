"""A treatment record's fields and their limits: what was done to one area at one visit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from tracker.core.errors import UsageError, ValidationError
from tracker.core.text import check_name

# Limits, also enforced by the database's CHECK constraints.
DEPTH_MM = (0.1, 3.5)
PASSES = (1, 20)
PAIN = (0, 10)
DOWNTIME_DAYS = (0, 60)


@dataclass(frozen=True)
class TreatmentInput:
    """A treatment record as the user gave it; None means "not given"."""

    device: str | None = None
    needle_depth_mm: float | None = None
    passes: int | None = None
    topical: str | None = None
    anaesthetic: str | None = None
    reaction: str | None = None
    pain: int | None = None
    downtime_days: int | None = None
    practitioner: str | None = None

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


TREATMENT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(TreatmentInput))
# What a course repeats from one session to the next, and a new visit may start from: how the
# area was treated. How the skin reacted, the pain and the downtime are the visit's own.
REPEATED_FIELDS: tuple[str, ...] = ("device", "needle_depth_mm", "passes", "topical")


def repeated(record: Mapping[str, Any] | None) -> dict[str, Any]:
    """The fields of ``record`` that a next session may repeat, those that were given."""
    r = record or {}
    return {k: r[k] for k in REPEATED_FIELDS if r.get(k) is not None}


def summary(record: Mapping[str, Any]) -> str:
    """A record's repeated fields in a few words: "pen, 1.5 mm, 3 passes, PRP"."""
    parts = [
        str(record["device"]) if record.get("device") else "",
        f"{record['needle_depth_mm']:g} mm" if record.get("needle_depth_mm") else "",
        (f"{record['passes']} pass" + ("es" if record["passes"] != 1 else ""))
        if record.get("passes")
        else "",
        str(record["topical"]) if record.get("topical") else "",
    ]
    return ", ".join(p for p in parts if p)


def check_treatment(values: Mapping[str, Any]) -> dict[str, Any]:
    """``values`` (field → value, None to clear a field) checked against the limits, with text
    fields trimmed; raises ValidationError naming the first field that is wrong."""
    unknown = set(values) - set(TREATMENT_FIELDS)
    if unknown:
        raise UsageError(f"A treatment record has no field {sorted(unknown)[0]!r}.")
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            out[key] = None
        elif key == "needle_depth_mm":
            # In the record's resolution, hundredths of a millimetre (the window steps 0.25).
            out[key] = round(_in_range("needle depth", value, *DEPTH_MM, unit="mm"), 2) + 0.0
        elif key == "passes":
            out[key] = int(_in_range("passes", value, *PASSES))
        elif key == "pain":
            out[key] = int(_in_range("pain", value, *PAIN))
        elif key == "downtime_days":
            out[key] = int(_in_range("downtime", value, *DOWNTIME_DAYS, unit="days"))
        elif key == "reaction":
            out[key] = str(value).strip() or None
        else:
            label = {"topical": "topical agent"}.get(key, key)
            out[key] = check_name(str(value), label)
    return out


def _in_range(label: str, value: float, lo: float, hi: float, unit: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"The {label} must be a number; {value!r} is not one.")
    if label != "needle depth" and value != int(value):
        raise ValidationError(f"The {label} takes whole numbers; {value:g} is not one.")
    if not lo <= value <= hi:
        suffix = f" {unit}" if unit else ""
        raise ValidationError(
            f"The {label} must be between {lo:g} and {hi:g}{suffix}; {value:g} is out of range."
        )
    return value
