"""The parts of an area's section of the PDF report, as HTML and tables (``paged.Table``):
its course, each rated instrument summarised as it is reported, its visits, and every rating.

Every name and note is escaped here; numbers are written so that none needs a legend: items
by their full names, raters by name and role."""

from __future__ import annotations

import datetime as dt
import html

from tracker.core.db.models import RaterRole, RatingMethod
from tracker.core.domain.instruments import TOTAL, Change, Instrument, Rater, headline
from tracker.core.domain.scales import OVERALL_KEY, SCALES, Analysis, Scale
from tracker.core.queries.progress import Progress, VisitPoint
from tracker.rendering.paged import Table

MINUS = "−"
METHODS = {RatingMethod.IN_PERSON: "in person", RatingMethod.PHOTOS: "from photos"}


def e(value: object) -> str:
    return html.escape(str(value), quote=True)


def day(d: dt.date) -> str:
    return f"{d:%d %b %Y}"


def num(value: float, signed: bool = False) -> str:
    """A value to one decimal at most, with a true minus sign: "7", "6.5", "+1", "−2.5"."""
    text = f"{round(value, 1):+g}" if signed else f"{round(value, 1):g}"
    return text.replace("-", MINUS)


def course(data: Progress) -> str:
    """The course so far: sessions, days since baseline, the next suggested session."""
    if data.baseline is None:
        recorded = (
            f" {data.sessions_done} treatment session{'s' if data.sessions_done != 1 else ''} "
            "recorded."
            if data.sessions_done
            else ""
        )
        return (
            f"<p><b>Not started:</b> there are no photos or ratings of this area yet.{recorded}</p>"
        )
    untreated, _sep, photographed = data.course_words.partition(": ")
    parts = [
        f"<b>{untreated}:</b> {photographed}"
        if data.untreated
        else f"<b>Sessions done:</b> {data.sessions_done}",
        f"<b>Days since baseline:</b> {data.days_since_baseline} (baseline {day(data.baseline)})",
    ]
    if data.next_session is not None and data.overdue:
        parts.append(
            f"<b>Next session:</b> overdue since {data.next_session:%d %B %Y} "
            f"(every {data.interval_days} days)"
        )
    elif data.next_session is not None:
        parts.append(
            f"<b>Next suggested session:</b> {data.next_session:%d %B %Y} "
            f"(every {data.interval_days} days)"
        )
    return "<p>" + " &nbsp;·&nbsp; ".join(parts) + "</p>"


def raters_of(instrument: Instrument) -> list[Rater]:
    return list(dict.fromkeys(s.rater for s in instrument.series))


def who(rater: Rater, client: str) -> str:
    """A rater by name and role: "Dr Lee (practitioner)", "Ana Lima (patient)"."""
    return f"{rater.label(client)} ({rater.role.value})"


def _role_raters(
    data: Progress, instrument: Instrument, role: RaterRole, *, escape: bool = True
) -> str:
    """Who a role's values come from: "Dr Lee (practitioner)", "the mean of Dr Kim and Dr
    Lee (practitioners)"."""
    names = [r.label(data.client) for r in raters_of(instrument) if r.role is role]
    if len(names) == 1:
        text = f"{names[0]} ({role.value})"
    else:
        text = f"the mean of {', '.join(names[:-1])} and {names[-1]} ({role.value}s)"
    return e(text) if escape else text


def instrument_parts(data: Progress, instrument: Instrument) -> list[str | Table]:
    """An instrument's summary as its papers report it, and a note on how to read it."""
    scale = instrument.scale
    raters = ", ".join(who(r, data.client) for r in raters_of(instrument))
    count = f"{instrument.ratings} rating{'s' if instrument.ratings != 1 else ''}"
    note = [scale.description, f"{count}, by {raters}."]
    summary: list[str | Table]
    if scale.analysis is Analysis.GRADE:
        summary = [_grades(data, instrument)]
    elif scale.analysis is Analysis.LEVEL:
        summary = [_levels(data, instrument)]
    elif not instrument.changes:
        summary = [
            "<p>Rated at one visit so far, so there is no change from baseline yet; the "
            "ratings are listed below.</p>"
        ]
    else:
        summary = [_changes(data, instrument)]
        note.append(
            "Lower is better: a negative change is an improvement."
            if scale.lower_is_better
            else "Higher is better: a positive change is an improvement."
        )
        note.append("Where several raters of one role rated a visit, their mean is used.")
    finding = headline(instrument)  # the window's sentence
    return [
        f"<p><b>{e(finding)}</b></p>",
        *summary,
        f"<p><small>{e(' '.join(note))}</small></p>",
    ]


def _order(scale: Scale, change: Change) -> tuple[int, str]:
    """POSAS: the items, then the total, then the overall opinion; else the items in order."""
    keys = [i.key for i in scale.items if i.key != OVERALL_KEY] + [TOTAL, OVERALL_KEY]
    return (keys.index(change.item) if change.item in keys else len(keys), change.role.value)


def _changes(data: Progress, instrument: Instrument) -> Table:
    scale = instrument.scale
    roles = list(dict.fromkeys(c.role for c in instrument.changes))
    # One role: who rated is said once, under the table, not on every row.
    several = len(roles) > 1
    rows = []
    for c in sorted(instrument.changes, key=lambda c: _order(scale, c)):
        label = e(c.label)
        if c.item == TOTAL:
            label = f"<b>{label}</b>"
        elif c.item == OVERALL_KEY and scale.analysis is Analysis.POSAS:
            item = scale.item(OVERALL_KEY)
            label = f"{label} ({item.minimum}–{item.maximum})"
        verdict = "no change" if c.improved is None else "better" if c.improved else "worse"
        percent = "" if c.percent is None else f" ({num(c.percent, signed=True)}%)"
        rows.append(
            [
                label,
                *([_role_raters(data, instrument, c.role)] if several else []),
                f"{num(c.baseline)} <small>({day(c.baseline_date)})</small>",
                f"{num(c.latest)} <small>({day(c.latest_date)})</small>",
                f"{num(c.change, signed=True)}{percent}, {verdict}",
            ]
        )
    heading = "Change from baseline"
    if not several:
        heading += f": {_role_raters(data, instrument, roles[0], escape=False)}"
    return Table(
        head=["Item", *(["Rated by"] if several else []), "Baseline", "Latest", "Change"],
        rows=rows,
        widths=(18, 24, 18, 18, 22) if several else (28, 22, 22, 28),
        heading=heading,
        level=4,
    )


def _grades(data: Progress, instrument: Instrument) -> Table:
    item = instrument.scale.items[0]
    grades = list(range(item.minimum, item.maximum + 1))
    rows = []
    for g in instrument.grades:
        visit = data.visit(g.visit_id)
        names = [
            s.rater.label(data.client)
            for s in instrument.series
            if s.rater.role is g.role and any(p.visit_id == g.visit_id for p in s.points)
        ]
        counts = dict(g.counts)
        rows.append(
            [
                _visit_day(visit),
                f"{e(', '.join(names))} ({g.role.value}{'s' if len(names) > 1 else ''})",
                *[str(counts[n]) if counts.get(n) else "–" for n in grades],
                f"<b>{g.improved} of {g.total}</b> ({g.share_improved:.0%})",
            ]
        )
    return Table(
        head=[
            "Visit",
            "Rated by",
            *[f"{n}<br><small>{e(item.anchors.get(n, ''))}</small>" for n in grades],
            "Improved (grades 1–3)",
        ],
        rows=rows,
        widths=(14, 24, 9, 9, 9, 9, 9, 17),
        right=frozenset(range(2, 2 + len(grades))),
        heading="Ratings at each grade",
        level=4,
    )


def _levels(data: Progress, instrument: Instrument) -> Table:
    item = instrument.scale.items[0]
    raters = raters_of(instrument)
    values = {(s.rater, p.visit_id): p.value for s in instrument.series for p in s.points}
    rows = []
    for visit in data.visits:
        if any((r, visit.visit_id) in values for r in raters):
            cells = [values.get((r, visit.visit_id)) for r in raters]
            rows.append(
                [
                    _visit_day(visit),
                    *["" if v is None else f"{num(v)} of {item.maximum}" for v in cells],
                ]
            )
    share = max(10, 70 // max(1, len(raters)))
    return Table(
        head=["Visit", *[e(who(r, data.client)) for r in raters]],
        rows=rows,
        widths=(30, *([share] * len(raters))),
        right=frozenset(range(1, 1 + len(raters))),
        heading="Its value at each visit",
        level=4,
    )


def _visit_day(visit: VisitPoint) -> str:
    session = f"<br><small>session {visit.session}</small>" if visit.session else ""
    return f"{day(visit.date)}{session}"


def treatment(t: dict[str, object] | None) -> str:
    t = t or {}
    parts = [
        str(t.get("device") or ""),
        f"{t['needle_depth_mm']:g} mm" if t.get("needle_depth_mm") else "",
        f"{t['passes']} passes" if t.get("passes") else "",
        str(t.get("topical") or ""),
        f"anaesthetic: {t['anaesthetic']}" if t.get("anaesthetic") else "",
        f"reaction: {t['reaction']}" if t.get("reaction") else "",
        f"downtime {t['downtime_days']} d" if t.get("downtime_days") is not None else "",
        f"pain {t['pain']}/10" if t.get("pain") is not None else "",
        f"by {t['practitioner']}" if t.get("practitioner") else "",
    ]
    return e(", ".join(p for p in parts if p))


NOTE_IN_TABLE = 1000  # characters of a visit's note shown in its row
NOTE_IN_FULL = 20_000  # characters of a long note shown after the table, the rest in the app


def _note_cell(v: VisitPoint) -> str:
    if len(v.notes) <= NOTE_IN_TABLE:
        return e(v.notes)
    return (
        f"{e(v.notes[:NOTE_IN_TABLE].rstrip())}… <i>(continued under “Notes in full”, "
        f"{day(v.date)})</i>"
    )


def long_notes(data: Progress) -> list[str]:
    """The notes too long for the visits table, each in full after it (up to NOTE_IN_FULL
    characters: a report is read on paper; the rest stays in the app). Kept to paragraphs,
    so a long note costs its length to lay out, not a table row's relayouts."""
    notes = [v for v in data.visits if len(v.notes) > NOTE_IN_TABLE]
    if not notes:
        return []
    out = ["<h3>Notes in full</h3>"]
    for v in notes:
        shown = v.notes[:NOTE_IN_FULL]
        out.append(f"<p><b>{day(v.date)}</b></p>")
        out.extend(f"<p>{e(line)}</p>" for line in shown.splitlines() if line.strip())
        if len(v.notes) > NOTE_IN_FULL:
            rest = len(v.notes) - NOTE_IN_FULL
            out.append(
                f"<p><i>The note goes on for {rest:,} more characters; the whole of it is in "
                "the app, in the visit's notes.</i></p>"
            )
    return out


def visits_table(data: Progress) -> Table:
    """The area's visits: what was done, the notes, and each rating in words."""
    rows = []
    for v in data.visits:
        kind = v.kind.value.replace("-", " ")
        if v.session:
            kind += f", session {v.session}"
        since = (
            ""
            if v.days_since_baseline is None
            else f"<br><small>day {v.days_since_baseline}</small>"
        )
        photos = (
            f"<br><small>{v.photos} photo{'s' if v.photos != 1 else ''}</small>" if v.photos else ""
        )
        ratings = "<br>".join(e(r.summary) for r in v.ratings)
        rows.append(
            [
                f"{day(v.date)}{since}",
                f"{e(kind)}{photos}",
                treatment(v.treatment),
                _note_cell(v),
                ratings,
            ]
        )
    return Table(
        head=["Date", "Visit", "Treatment", "Notes", "Ratings"],
        rows=rows,
        widths=(12, 12, 22, 22, 32),
        heading="Visits",
    )


def values_text(scale: Scale, values: dict[str, float]) -> str:
    """Every value of a rating by its item's full name, and what it adds up to."""
    if scale.analysis in (Analysis.GRADE, Analysis.LEVEL):
        item = scale.items[0]
        value = values.get(item.key)
        if value is None:
            return ""
        if scale.analysis is Analysis.GRADE:
            return f"{num(value)} ({item.anchors.get(int(value), '')})"
        return f"{num(value)} of {item.maximum}"
    parts = [
        f"{i.label} {num(values[i.key])}"
        for i in scale.items
        if i.key in values and i.key != OVERALL_KEY
    ]
    text = ", ".join(parts)
    total = scale.total(values)
    if scale.analysis is Analysis.POSAS:
        low, high = scale.total_range
        text += (
            f"; total {num(total)} ({low}–{high})" if total is not None else "; total incomplete"
        )
    if OVERALL_KEY in values and any(i.key == OVERALL_KEY for i in scale.items):
        text += f"; {scale.item(OVERALL_KEY).label} {num(values[OVERALL_KEY])}"
    return text


def ratings_table(data: Progress) -> Table:
    """Every rating of the area, as it was given."""
    rows = []
    for v in data.visits:
        for r in v.ratings:
            scale = SCALES.get(r.scale_key)  # None: a scale of a newer version, shown by its key
            rows.append(
                [
                    day(v.date),
                    e(scale.short or scale.name) if scale else e(r.scale_key),
                    e(r.rater),
                    r.role.value,
                    METHODS.get(r.method, r.method.value),
                    e(values_text(scale, r.values))
                    if scale
                    else e(", ".join(f"{k} {num(x)}" for k, x in r.values.items())),
                ]
            )
    return Table(
        head=["Date", "Scale", "Rater", "Role", "Method", "Values"],
        rows=rows,
        widths=(13, 15, 13, 12, 10, 37),
        heading="Every rating",
    )
