"""Each rating instrument analysed as its papers report it, from plain facts (no database).

- ``ctd`` and the POSAS items: each item's change from the area's baseline, per rater role,
  absolute and as a percentage of the baseline value;
- POSAS 2.0 (patient and observer): also the total of the six items (6–60) and the overall
  opinion (1–10), each over time and as change from baseline;
- GAIS: already a judgement against baseline, so never a "change": per visit and role, how many
  ratings gave each grade, and the share improved (grades 1–3);
- the improvement VAS: also a judgement against baseline, so its value over time as given.

Several raters of one role at one visit (two practitioners) are kept apart in the series, one
line each, and averaged into the role's value for the change from baseline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tracker.core.db.models import RaterRole, RatingMethod
from tracker.core.domain.scales import Analysis, Scale

TOTAL = "total"
IMPROVED_GRADES = (1, 2, 3)  # GAIS: very much improved, much improved, improved


@dataclass(frozen=True)
class Rater:
    role: RaterRole
    name: str  # "" when none was given

    def label(self, client: str) -> str:
        """Who rated, as people read it: the name given; the client for an unnamed patient
        (the patient is the client); "Practitioner (unnamed)" otherwise."""
        if self.name:
            return self.name
        if self.role is RaterRole.PATIENT:
            return client or "Patient"
        return "Practitioner (unnamed)"


@dataclass(frozen=True)
class RatingFact:
    """One stored rating, as the analysis needs it."""

    visit_id: int
    date: dt.date
    rater: Rater
    method: RatingMethod
    values: dict[str, float]


@dataclass(frozen=True)
class Point:
    visit_id: int
    date: dt.date
    value: float


@dataclass(frozen=True)
class Series:
    """One line of a chart: one item (or the POSAS total) of one instrument by one rater."""

    scale: str
    item: str  # an item's key, or TOTAL
    label: str  # the item's full name, e.g. "Pigmentation", "Total (6–60)"
    rater: Rater
    points: tuple[Point, ...]


@dataclass(frozen=True)
class Change:
    """One item's (or the total's) change from baseline for one rater role: the role's value at
    its first rated visit of the area against its latest (raters of the role averaged)."""

    scale: str
    item: str
    label: str
    role: RaterRole
    baseline: float
    baseline_date: dt.date
    latest: float
    latest_date: dt.date
    change: float  # latest − baseline
    percent: float | None  # of the baseline value; None when it was 0
    improved: bool | None  # by the scale's direction; None when unchanged
    raters: int = 1  # the most raters of the role whose mean one end of the change is
    same_raters: bool = True  # whether the same raters rated the baseline and the latest

    @property
    def rated_by(self) -> str:
        """The role, how many raters' mean it is when more than one, and whether the two ends
        are other people's: "practitioner (mean of 2)", "practitioner (other raters)"."""
        notes = [f"mean of {self.raters}"] if self.raters > 1 else []
        if not self.same_raters:
            notes.append("other raters at the two dates")
        return self.role.value + (f" ({', '.join(notes)})" if notes else "")


@dataclass(frozen=True)
class Grades:
    """A GAIS at one visit for one rater role: how many ratings gave each grade."""

    visit_id: int
    date: dt.date
    role: RaterRole
    counts: tuple[tuple[int, int], ...]  # (grade, how many), every grade of the scale in order
    total: int
    improved: int  # ratings at grades 1–3

    @property
    def share_improved(self) -> float:
        return self.improved / self.total if self.total else 0.0


@dataclass(frozen=True)
class Level:
    """A VAS's latest value for one rater role (raters of the role averaged), as given."""

    role: RaterRole
    value: float
    date: dt.date
    visits: int  # how many visits the role rated it at


@dataclass(frozen=True)
class Instrument:
    """Everything one instrument says about one area."""

    scale: Scale
    series: tuple[Series, ...]
    changes: tuple[Change, ...]  # CHANGE and POSAS scales
    grades: tuple[Grades, ...]  # GRADE scales
    levels: tuple[Level, ...]  # LEVEL scales
    ratings: int  # how many ratings there are


def item_label(scale: Scale, key: str) -> str:
    if key == TOTAL:
        low, high = scale.total_range
        return f"Total ({low}–{high})"
    return next((i.label for i in scale.items if i.key == key), key)


def describe(scale: Scale, values: Mapping[str, float]) -> str:
    """One rating's values in words, naming each number: "colour 7, texture 6, depth 5";
    "total 32 (6–60), overall 6"; "much improved (2)"; "6.5 of 10"."""
    if scale.analysis is Analysis.GRADE:
        item = scale.items[0]
        value = values.get(item.key)
        if value is None:
            return "no grade"
        return f"{item.anchors.get(int(value), f'{value:g}')} ({value:g})"
    if scale.analysis is Analysis.LEVEL:
        item = scale.items[0]
        value = values.get(item.key)
        return "no value" if value is None else f"{value:g} of {item.maximum}"
    if scale.analysis is Analysis.POSAS:
        total = scale.total(values)
        low, high = scale.total_range
        parts = [f"total {total:g} ({low}–{high})" if total is not None else "total incomplete"]
        if "overall" in values:
            parts.append(f"overall {values['overall']:g}")
        return ", ".join(parts)
    return (
        ", ".join(f"{i.label.lower()} {values[i.key]:g}" for i in scale.items if i.key in values)
        or "no values"
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _change(
    scale: Scale,
    item: str,
    role: RaterRole,
    by_visit: dict[int, tuple[dt.date, list[tuple[Rater, float]]]],
) -> Change | None:
    if len(by_visit) < 2:
        return None
    ordered = sorted(by_visit.values(), key=lambda dv: dv[0])
    (first_day, first), (last_day, last) = ordered[0], ordered[-1]
    baseline, latest = _mean([v for _r, v in first]), _mean([v for _r, v in last])
    delta = latest - baseline
    return Change(
        scale=scale.key,
        item=item,
        label=item_label(scale, item),
        role=role,
        baseline=baseline,
        baseline_date=first_day,
        latest=latest,
        latest_date=last_day,
        change=delta,
        percent=(100 * delta / baseline) if baseline else None,
        improved=None if delta == 0 else (delta < 0) == scale.lower_is_better,
        raters=max(len({r for r, _v in first}), len({r for r, _v in last})),
        same_raters={r for r, _v in first} == {r for r, _v in last},
    )


def _keys(scale: Scale) -> list[str]:
    keys = [i.key for i in scale.items]
    if scale.analysis is Analysis.POSAS:
        keys.append(TOTAL)
    return keys


def _value(scale: Scale, key: str, values: dict[str, float]) -> float | None:
    return scale.total(values) if key == TOTAL else values.get(key)


def analyse(scale: Scale, facts: Iterable[RatingFact]) -> Instrument:
    """The instrument's series, and its changes, grades or levels, from its ratings of one area
    (``facts``, any order). Series are per item and rater; changes and levels per role."""
    facts = sorted(facts, key=lambda f: (f.date, f.visit_id))
    raters = sorted({f.rater for f in facts}, key=lambda r: (r.role.value, r.name))
    series: list[Series] = []
    changes: list[Change] = []
    for key in _keys(scale):
        for rater in raters:
            points = tuple(
                Point(f.visit_id, f.date, v)
                for f in facts
                if f.rater == rater and (v := _value(scale, key, f.values)) is not None
            )
            if points:
                series.append(Series(scale.key, key, item_label(scale, key), rater, points))
        if scale.analysis in (Analysis.CHANGE, Analysis.POSAS):
            for role in sorted({r.role for r in raters}, key=lambda r: r.value):
                by_visit: dict[int, tuple[dt.date, list[tuple[Rater, float]]]] = {}
                for f in facts:
                    v = _value(scale, key, f.values)
                    if f.rater.role is role and v is not None:
                        by_visit.setdefault(f.visit_id, (f.date, []))[1].append((f.rater, v))
                change = _change(scale, key, role, by_visit)
                if change is not None:
                    changes.append(change)
    return Instrument(
        scale=scale,
        series=tuple(series),
        changes=tuple(changes),
        grades=tuple(_grades(scale, facts)) if scale.analysis is Analysis.GRADE else (),
        levels=tuple(_levels(scale, facts)) if scale.analysis is Analysis.LEVEL else (),
        ratings=len(facts),
    )


def _grades(scale: Scale, facts: list[RatingFact]) -> list[Grades]:
    item = scale.items[0]
    grouped: dict[tuple[int, RaterRole], tuple[dt.date, list[int]]] = {}
    for f in facts:
        if item.key in f.values:
            grouped.setdefault((f.visit_id, f.rater.role), (f.date, []))[1].append(
                int(f.values[item.key])
            )
    out = []
    for (visit_id, role), (day, grades) in grouped.items():
        counts = tuple((g, grades.count(g)) for g in range(item.minimum, item.maximum + 1))
        out.append(
            Grades(
                visit_id=visit_id,
                date=day,
                role=role,
                counts=counts,
                total=len(grades),
                improved=sum(1 for g in grades if g in IMPROVED_GRADES),
            )
        )
    return sorted(out, key=lambda g: (g.date, g.role.value))


def _levels(scale: Scale, facts: list[RatingFact]) -> list[Level]:
    item = scale.items[0]
    out = []
    for role in sorted({f.rater.role for f in facts}, key=lambda r: r.value):
        by_visit: dict[int, tuple[dt.date, list[float]]] = {}
        for f in facts:
            if f.rater.role is role and item.key in f.values:
                by_visit.setdefault(f.visit_id, (f.date, []))[1].append(f.values[item.key])
        if by_visit:
            day, values = max(by_visit.values(), key=lambda dv: dv[0])
            out.append(Level(role, _mean(values), day, len(by_visit)))
    return out


def day_text(day: dt.date) -> str:
    """A date as the findings write it: "3 Mar 2025"."""
    return f"{day.day} {day:%b %Y}"


MINUS = "−"  # a true minus sign, as findings are typeset


def _signed(value: float) -> str:
    text = f"{value:+.1f}".replace("+0.0", "0").replace("-0.0", "0").replace(".0", "")
    return text.replace("-", MINUS)


def headline(instrument: Instrument) -> str:
    """The instrument's finding in one sentence, as its papers report it, e.g. "Total (6–60),
    practitioner: 33 on 6 Jan 2025 → 23 on 3 Mar 2025 (−10, −30%)"; "Latest, 3 Mar 2025:
    practitioner 3 of 4 improved (75%)"; "Latest: patient 6.5 of 10 (3 Mar 2025)"."""
    scale = instrument.scale
    if not instrument.ratings:
        return f"No ratings on the {scale.name} scale yet."
    if scale.analysis is Analysis.GRADE:
        if not instrument.grades:
            return "No grades given yet."
        last = max(g.date for g in instrument.grades)
        parts = [
            f"{g.role.value} {g.improved} of {g.total} improved ({100 * g.share_improved:.0f}%)"
            for g in instrument.grades
            if g.date == last
        ]
        return f"Latest, {day_text(last)}: " + "; ".join(parts) + "."
    if scale.analysis is Analysis.LEVEL:
        maximum = scale.items[0].maximum
        return (
            "Latest: "
            + "; ".join(
                f"{lv.role.value} {lv.value:g} of {maximum} ({day_text(lv.date)})"
                for lv in instrument.levels
            )
            + "."
        )
    wanted = [c for c in instrument.changes if c.item == TOTAL] or list(instrument.changes)
    if not wanted:
        return "One rating so far: change from baseline needs a second."
    parts = []
    for c in wanted:
        percent = f", {_signed(c.percent)}%" if c.percent is not None else ""
        parts.append(
            f"{c.label}, {c.rated_by}: {c.baseline:g} on {day_text(c.baseline_date)} → "
            f"{c.latest:g} on {day_text(c.latest_date)} ({_signed(c.change)}{percent})"
        )
    better = "lower is better" if scale.lower_is_better else "higher is better"
    return "; ".join(parts) + f" ({better})."
