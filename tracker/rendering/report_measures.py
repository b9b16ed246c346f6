"""The measures of the marks in an area's section of the PDF report (issue 18): the main
measures charted over the visits (mean width, area, colour difference, texture index), each
with its band shaded and the untreated control dashed beside it; a table of every measure
with its baseline, latest value, change, band and what the change means; and the caveats in
one sentence (``measures.CAVEAT``).

An area with nothing measured gets one line saying why (or nothing when it has no photos),
never an empty table. The charts are drawn on the GUI thread (``chart_image``), like the
rating charts, and handed to the worker that lays out the PDF.
"""

from __future__ import annotations

from PySide6.QtGui import QFont, QImage, QPainter

from tracker.core.domain.measures import CAVEAT, MEASURE_KEYS, MEASURES
from tracker.core.queries.measures import AreaMeasures, MeasureSeries
from tracker.rendering.chart import render_chart
from tracker.rendering.chart_measures import measure_chart, shown
from tracker.rendering.paged import Document, Table
from tracker.rendering.report_parts import MINUS, day, e

HEADING = "Measures of the marks"
CHART_KEY = "measures"  # the key of an area's measures figure among the report's charts
# Charted when the photos show the card (sizes in mm), else the same in pixels and shares.
MAIN = ("mean_width_mm", "area_mm2", "delta_e00", "texture_index")
MAIN_WITHOUT_SCALE = ("mean_width_px", "area_fraction", "delta_e00")
# Each chart of the 2 × 2 figure as laid out on a screen this size, drawn at SCALE times it
# (the figure is the text's width: 180 mm on A4).
CELL = (400, 270)
SCALE = 2.5


def _values(series: MeasureSeries) -> list[float]:
    return [p.value for p in series.points if p.value is not None]


def measured(data: AreaMeasures) -> bool:
    """Whether any photo of the area's view has a measure to show."""
    return any(_values(s) for s in data.series.values())


def main_keys(data: AreaMeasures) -> list[str]:
    """The measures charted: the main ones that have values."""
    keys = MAIN if data.scale_known else MAIN_WITHOUT_SCALE
    return [k for k in keys if k in data.series and _values(data.series[k])]


def table_keys(data: AreaMeasures) -> list[str]:
    """The measures in the table: every one with a value (the width in pixels only when there
    is none in millimetres)."""
    keys = [k for k in MEASURE_KEYS if k in data.series and _values(data.series[k])]
    if "mean_width_mm" in keys:
        keys = [k for k in keys if k != "mean_width_px"]
    return keys


def chart_image(data: AreaMeasures, font_size: int = 9) -> QImage | None:
    """The main measures' charts, two to a row, as one picture; None when nothing is measured."""
    keys = main_keys(data)
    if not keys:
        return None
    columns, rows = 2, (len(keys) + 1) // 2
    width, height = CELL
    image = QImage(
        round(width * columns * SCALE),
        round(height * rows * SCALE),
        QImage.Format.Format_RGB32,
    )
    image.fill(0xFFFFFF)
    font = QFont()
    font.setPointSize(font_size)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(SCALE, SCALE)
        for n, key in enumerate(keys):
            chart = measure_chart(
                data.series[key],
                font,
                by_session=False,
                control_name=data.control_name,
                title=MEASURES[key].label,
                compact=True,
            )
            painter.save()
            painter.translate(width * (n % columns), height * (n // columns))
            render_chart(painter, chart, width, height)
            painter.restore()
    finally:
        painter.end()
    return image


def number(series: MeasureSeries, value: float, signed: bool = False) -> str:
    """A value in its unit's figures (the unit is in its own column), a true minus sign."""
    decimals = series.info.decimals
    text = (
        f"{shown(series, value):+.{decimals}f}"
        if signed
        else f"{shown(series, value):.{decimals}f}"
    )
    if text.lstrip("+-").strip("0.") == "":
        text = text.lstrip("+-")  # no "−0.0"
    return text.replace("-", MINUS)


def _unit(series: MeasureSeries) -> str:
    """The unit as the table's column gives it (a CIELAB difference has none but its own)."""
    unit = series.info.unit
    return "%" if unit == "% of region" else unit


def _row(data: AreaMeasures, series: MeasureSeries) -> list[str]:
    known = [p for p in series.points if p.value is not None]
    first, last = known[0], known[-1]
    assert first.value is not None and last.value is not None
    signed = series.info.signed
    change = "—" if series.change is None else number(series, series.change, signed=True)
    band = "—" if series.band is None else f"±{number(series, series.band)}"
    row = [
        e(series.info.label),
        e(_unit(series)),
        f"{number(series, first.value, signed)}<br><small>{day(first.date)}</small>",
        f"{number(series, last.value, signed)}<br><small>{day(last.date)}</small>"
        if len(known) > 1
        else "—",
        change,
        band,
        e(series.words),
    ]
    if data.control_name is not None:
        controls = [p.control for p in series.points if p.control is not None]
        row.insert(
            6,
            number(series, controls[-1] - controls[0], signed=True) if len(controls) > 1 else "—",
        )
    return row


def table(data: AreaMeasures) -> Table:
    """Every measure with a value: baseline, latest, change, band and what the change means."""
    control = data.control_name is not None
    head = ["Measure", "Unit", "Baseline", "Latest", "Change", "Band"]
    if control:
        head.append("Control<br>change")
    head.append("Reading")
    return Table(
        head=head,
        rows=[_row(data, data.series[k]) for k in table_keys(data)],
        widths=(19, 7, 12, 12, 9, 8, 9, 24) if control else (21, 7, 12, 12, 10, 9, 29),
        right=frozenset({2, 3, 4, 5, 6} if control else {2, 3, 4, 5}),
        heading="Change in each measure",
        level=4,
    )


def _source(data: AreaMeasures) -> str:
    """Where the figures come from: the view, the band, the control, what is missing."""
    view = e(data.view or "")
    shown_photos = sum(1 for p in data.photos if p.values is not None)
    parts = [
        f"From {shown_photos} measured photo{'s' if shown_photos != 1 else ''} of the {view} view."
    ]
    if data.retest is not None:
        parts.append("Each band is from the baseline's retest pair (two photos a minute apart).")
    else:
        parts.append(
            "No retest pair was taken, so each band is the app's default band; two photos of the "
            "view at the baseline would give this area's own."
        )
    if data.control_name is not None:
        parts.append(
            f"The untreated control area, {e(data.control_name)}, is dashed beside it: what "
            "changed there was not the treatment."
        )
    if not data.scale_known:
        parts.append("The photos show no calibration card, so sizes are in pixels.")
    failed = [p for p in data.photos if p.error]
    if failed:
        parts.append(
            f"{len(failed)} photo{'s' if len(failed) != 1 else ''} could not be measured "
            f"({e(failed[0].error)})."
        )
    if data.unmeasured:
        parts.append(f"{data.unmeasured} not measured yet.")
    if data.stale:
        parts.append(
            f"{data.stale} measured before a region, alignment or colour balance changed; "
            "the app measures them again when it is open."
        )
    return "<p>" + " ".join(parts) + "</p>"


def _key(data: AreaMeasures) -> str:
    """The charts' key, said once under them."""
    parts = [f"Solid line and dots: {e(data.area_name)}."]
    if data.control_name is not None:
        parts.append(f"Dashed line and squares: {e(data.control_name)}, the untreated control.")
    parts.append(
        "Shading: the measure's band around its baseline value; a later point outside it is a "
        "change worth believing."
    )
    if any(p.value is None for k in main_keys(data) for p in data.series[k].points):
        parts.append("A hollow circle on the axis: a visit whose photo could not be measured.")
    return " ".join(parts)


def why_not(data: AreaMeasures) -> str | None:
    """The one line an area without measures gets, or None when it has no photos to measure."""
    if not data.photos:
        return None
    failed = next((p.error for p in data.photos if p.error), None)
    if failed is not None:
        reason = f"its photos could not be measured ({e(failed)})"
    else:
        reason = "its photos have not been measured yet (the app measures them when it is open)"
    return f"<p><b>Measures of the marks:</b> none, because {reason}.</p>"


def add_section(document: Document, data: AreaMeasures, chart: QImage | None) -> None:
    """The area's measures: the charts (under the section's heading, so the two share a
    page), where the figures come from, the table and the caveats; one line when none."""
    if not measured(data):
        line = why_not(data)
        if line is not None:
            document.add(line)
        return
    figure = None
    if chart is None:
        document.add(f"<h3>{HEADING}</h3>", _source(data))
    else:
        figure = document.figure(f"measures-{data.area_id}.png", chart, HEADING, _key(data))
        document.add(_source(data))
    measures = table(data)
    measures.keep_with = figure
    document.add(measures, f"<p><small>{e(CAVEAT)}</small></p>")
