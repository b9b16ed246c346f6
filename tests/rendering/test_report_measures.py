"""The measures of the marks in the report and their chart (issue 18): the table's figures are
area_measures', an area without measures gets one line and no table, and the chart shades the
band around the baseline, dashes the control and draws no line through a visit not measured.

The measures are stored as the measuring service stores them (with the digest of their
inputs, so they are not stale), with values chosen here: the engine is tested on its own."""

from __future__ import annotations

import datetime as dt
import unicodedata
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PySide6.QtCharts import QAreaSeries, QChart, QLineSeries, QScatterSeries, QValueAxis
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from tests import helpers as h
from tests.rendering.conftest import DAYS, photo
from tracker.core.db.models import Measure
from tracker.core.domain.measures import CAVEAT, MEASURES
from tracker.core.queries import browse
from tracker.core.queries.measure_inputs import current_keys, inputs_key, jobs
from tracker.core.queries.measures import AreaMeasures, MeasurePoint, MeasureSeries, area_measures
from tracker.core.services import clients, measure
from tracker.core.store.library import Library
from tracker.rendering import report_measures as rm
from tracker.rendering.chart_measures import DARK, measure_chart
from tracker.rendering.chart_style import PRINT
from tracker.rendering.paged import Document, Table
from tracker.rendering.report import build_document, export_report
from tracker.rendering.report_parts import e

WIDTHS = (4.0, 3.5, 3.0, 2.5)  # the treated area's mean width at each of the four visits
CONTROL_WIDTH = 5.0


def _values(width: float, px_per_mm: float | None = 10.0) -> dict[str, Any]:
    """A measure as ``MarkMeasures.as_dict()`` gives it, every figure following the width."""
    scaled = px_per_mm is not None
    return {
        "px_per_mm": px_per_mm,
        "marks_found": True,
        "area_fraction": width / 20,
        "area_mm2": width * 100 if scaled else None,
        "length_mm": 100.0 if scaled else None,
        "mean_width_mm": width if scaled else None,
        "mean_width_px": width * 10,
        "delta_e00": width * 2,
        "delta_L": -width,
        "delta_a": width * 1.5,
        "delta_b": 1.0,
        "erythema_index_delta": width * 3,
        "melanin_index_delta": -1.0,
        "ita_marks": 30.0,
        "ita_skin": 35.0,
        "texture_index": 1.0 + width / 10 if scaled else None,
    }


def _store(lib: Library, photo_id: int, values: dict[str, Any] | None, error: str | None) -> None:
    """Store a measure as ``measure_photos`` does, from the photo's current inputs."""
    (job,) = jobs(lib, [photo_id]).values()
    assert not isinstance(job, str)
    with lib.session() as s:
        s.add(
            Measure(
                photo_id=photo_id,
                values=values,
                error=error,
                inputs=job.inputs,
                inputs_key=inputs_key(job.inputs),
            )
        )
        assert current_keys(s, [photo_id])[photo_id] == inputs_key(job.inputs)


def _photos(lib: Library, area: int) -> list[int]:
    """The area's photos (all of the front view), oldest first."""
    return [row.id for _day, row in browse.area_photos(lib, area)]


def _area(lib: Library, name: str) -> int:
    return next(a.id for a in browse.areas(lib, h.only_client(lib)) if a.name == name)


def treated(lib: Library) -> int:
    return _area(lib, "Lower abdomen")


@pytest.fixture
def measured(course: Library, tmp_path: Path) -> Library:
    """The rendering course's area measured at its four visits, and an untreated control area
    photographed and measured at the same visits."""
    area = treated(course)
    for pid, width in zip(_photos(course, area), WIDTHS, strict=True):
        _store(course, pid, _values(width), None)
    files = [photo(tmp_path / f"c{i}.jpg", d, 50 + i) for i, d in enumerate(DAYS)]
    h.import_files(course, files, area="Left hip")
    control = _area(course, "Left hip")
    for pid in _photos(course, control):
        _store(course, pid, _values(CONTROL_WIDTH), None)
    measure.set_control(course, area, control)
    return course


def _table(document: Document) -> Table:
    (table,) = [
        p for p in document.parts if isinstance(p, Table) and p.heading == "Change in each measure"
    ]
    return table


def _text(document: Document) -> str:
    return " ".join(p for p in document.parts if isinstance(p, str))


def test_the_table_gives_area_measures_figures(qapp: QApplication, measured: Library) -> None:
    data = area_measures(measured, treated(measured))
    width = data.series["mean_width_mm"]
    assert [p.value for p in width.points] == list(WIDTHS)
    assert width.band_source == "default" and width.band == pytest.approx(0.07 * 4.0)
    document = Document()
    rm.add_section(document, data, rm.chart_image(data))
    table = _table(document)
    assert table.head == [
        "Measure", "Unit", "Baseline", "Latest", "Change", "Band", "Control<br>change", "Reading"
    ]  # fmt: skip
    rows = {row[0]: row for row in table.rows}
    assert list(rows) == [MEASURES[k].label for k in rm.table_keys(data)]
    assert "Mean width in pixels" not in rows  # the width is in mm
    _label, unit, baseline, latest, change, band, control, words = rows["Mean width"]
    assert (unit, change, band, control) == ("mm", "−1.50", "±0.28", "0.00")
    assert baseline.startswith("4.00<br>") and "06 Jan 2025" in baseline
    assert latest.startswith("2.50<br>") and "31 Mar 2025" in latest
    assert words == width.words == "Fell by 1.50 mm, more than its 0.28 mm band."
    # Every row's change and band are the series' own, as the table writes them.
    for key in rm.table_keys(data):
        series = data.series[key]
        row = rows[series.info.label]
        assert row[4] == rm.number(series, series.change or 0.0, signed=True)
        assert row[5] == f"±{rm.number(series, series.band or 0.0)}"
    # The share of the region is shown in percent, as its unit says.
    share = rows["Share of the region marked"]
    assert share[1] == "%" and share[2].startswith("20.0<br>") and share[4] == "−7.5"
    # A signed difference keeps its sign; the caveat is said once, under the table.
    assert rows["Lightness difference (ΔL*)"][2].startswith("−4.0")
    assert document.parts[-1] == f"<p><small>{e(CAVEAT)}</small></p>"
    assert "Left hip" in _text(document) and "default band" in _text(document)


def test_the_pdf_shows_the_measures_of_each_area(
    qapp: QApplication, measured: Library, tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    export_report(measured, out, client_id=h.only_client(measured), area_id=treated(measured))
    reader = pypdf.PdfReader(str(out))
    # NFKC: the PDF's text has the font's ligatures ("ﬁ") where the words have two letters.
    text = unicodedata.normalize(
        "NFKC", "".join("".join(page.extract_text().split()) for page in reader.pages)
    )
    for words in (
        "Measures of the marks",
        "Solid line and dots: Lower abdomen. Dashed line and squares: Left hip, the untreated control.",
        "Change in each measure",
        "Mean width mm 4.00",
        "Fell by 1.50 mm, more than its 0.28 mm band.",
        CAVEAT,
    ):
        assert "".join(words.split()) in text, words


def test_no_table_without_measures(qapp: QApplication, course: Library) -> None:
    # Photos never measured: one line says so, and there is no table and no chart.
    document = build_document(course, h.only_client(course), today=dt.date(2025, 5, 1))
    assert not any(
        isinstance(p, Table) and p.heading == "Change in each measure" for p in document.parts
    )
    assert not any(name.startswith("measures-") for name in document.images)
    assert "none, because its photos have not been measured yet" in _text(document)
    # An area without photos has nothing to say about measures at all.
    clients.add_area(course, h.only_client(course), "Hips")
    hips = _area(course, "Hips")
    empty = Document()
    rm.add_section(empty, area_measures(course, hips), None)
    assert empty.parts == []
    # Photos that failed: the line gives the reason.
    first = _photos(course, treated(course))[0]
    _store(course, first, None, "Photo 1 was not measured: no skin is left beside the marks.")
    failed = Document()
    rm.add_section(failed, area_measures(course, treated(course)), None)
    assert failed.parts == [
        "<p><b>Measures of the marks:</b> none, because its photos could not be measured "
        "(Photo 1 was not measured: no skin is left beside the marks.).</p>"
    ]


def _series(
    values: list[float | None], controls: list[float | None] | None = None
) -> MeasureSeries:
    days = [dt.date(2026, 1, 5) + dt.timedelta(days=30 * n) for n in range(len(values))]
    controls = controls or [None] * len(values)
    points = [
        MeasurePoint(n + 1, d, n, 100 + n, v, c)
        for n, (d, v, c) in enumerate(zip(days, values, controls, strict=True))
    ]
    return MeasureSeries(
        "mean_width_mm", MEASURES["mean_width_mm"], points, 0.3, "retest", None, ""
    )


def _lines(chart: QChart) -> list[QLineSeries]:
    return [s for s in chart.series() if type(s) is QLineSeries]


def test_the_chart_shades_the_band_and_dashes_the_control(qapp: QApplication) -> None:
    font = QFont()
    series = _series([4.0, 3.6, 3.1], [5.0, 5.1, 4.9])
    chart = measure_chart(series, font, by_session=True, control_name="Left hip")
    (band,) = [s for s in chart.series() if isinstance(s, QAreaSeries)]
    upper, lower = band.upperSeries(), band.lowerSeries()
    assert upper is not None and lower is not None
    # Across the whole chart, at the baseline's value ± the band.
    assert [p.y() for p in upper.points()] == pytest.approx([4.3, 4.3])
    assert [p.y() for p in lower.points()] == pytest.approx([3.7, 3.7])
    assert [p.x() for p in upper.points()] == [-0.5, 2.5]
    assert band.name() == "Band ±0.30 mm (retest pair)"
    measure_line, control = _lines(chart)
    assert [(p.x(), p.y()) for p in measure_line.points()] == [(0, 4.0), (1, 3.6), (2, 3.1)]
    assert measure_line.pen().style() == Qt.PenStyle.SolidLine
    assert [p.y() for p in control.points()] == [5.0, 5.1, 4.9]
    assert control.pen().style() == Qt.PenStyle.DashLine
    assert control.name() == "Left hip (control)"
    y = chart.axes(Qt.Orientation.Vertical)[0]
    assert isinstance(y, QValueAxis) and y.min() == 0 and y.max() >= 5.1
    assert y.titleText() == "mm, lower is better ↓"
    # Without a control, no dashed line; dark: drawn on a dark ground.
    alone = measure_chart(_series([4.0, 3.0]), font, by_session=False, dark=True)
    assert len(_lines(alone)) == 1
    assert alone.backgroundBrush().color().lightness() < 60
    light = measure_chart(_series([4.0, 3.0]), font, by_session=False)
    assert _lines(light)[0].pen().color() == PRINT.items[0]
    assert _lines(alone)[0].pen().color() == DARK.items[0] != PRINT.items[0]


def test_no_line_is_drawn_through_a_visit_not_measured(qapp: QApplication) -> None:
    chart = measure_chart(_series([4.0, None, 3.0, 2.5]), QFont(), by_session=True)
    runs = [[p.x() for p in line.points()] for line in _lines(chart)]
    assert runs == [[0.0], [2.0, 3.0]]  # the line stops before the visit and starts after it
    (missing,) = [s for s in chart.series() if isinstance(s, QScatterSeries)]
    assert [p.x() for p in missing.points()] == [1.0] and missing.name() == "Not measured"
    # Nothing measured at all: no band (no baseline value), no line, every visit marked.
    empty = measure_chart(_series([None, None]), QFont(), by_session=True)
    assert not [s for s in empty.series() if isinstance(s, QAreaSeries)] and not _lines(empty)


def test_without_the_card_the_charts_are_in_pixels(qapp: QApplication, course: Library) -> None:
    for pid, width in zip(_photos(course, treated(course)), WIDTHS, strict=True):
        _store(course, pid, _values(width, px_per_mm=None), None)
    data: AreaMeasures = area_measures(course, treated(course))
    assert not data.scale_known
    assert rm.main_keys(data) == ["mean_width_px", "area_fraction", "delta_e00"]
    assert "mean_width_px" in rm.table_keys(data) and "mean_width_mm" not in rm.table_keys(data)
    image = rm.chart_image(data)
    assert image is not None and image.height() == round(2 * rm.CELL[1] * rm.SCALE)
    document = Document()
    rm.add_section(document, data, image)
    assert "no calibration card, so sizes are in pixels" in _text(document)


def test_a_visit_not_measured_stays_in_the_series_and_the_change_skips_it(
    qapp: QApplication, course: Library, tmp_path: Path
) -> None:
    """The second visit's photo failed and the last one's was never measured: both visits stay
    in the series without a value (the chart breaks its line there), and the change is between
    the first and the last visits measured, which the words say."""
    area = treated(course)
    pids = _photos(course, area)
    _store(course, pids[0], _values(4.0), None)
    _store(course, pids[1], None, "Photo 2 was not measured: no skin is left beside the marks.")
    _store(course, pids[2], _values(3.0), None)
    data = area_measures(course, area)
    width = data.series["mean_width_mm"]
    assert [p.photo_id for p in width.points] == pids
    assert [p.value for p in width.points] == [4.0, None, 3.0, None]
    assert [p.session for p in width.points] == [0, 1, 2, 3]
    assert width.change == pytest.approx(-1.0)
    assert width.words == (
        "Fell by 1.00 mm, more than its 0.28 mm band. The last visit, 31 Mar 2025, has no "
        "measure: the change is from 6 Jan 2025 to 3 Mar 2025."
    )
    assert (data.unmeasured, data.stale) == (1, 0)
    # The table's latest is the last visit measured; the key explains the hollow marks.
    document = Document()
    rm.add_section(document, data, rm.chart_image(data))
    rows = {row[0]: row for row in _table(document).rows}
    _label, _unit, baseline, latest, change, _band, words = rows["Mean width"]
    assert baseline.startswith("4.00<br>") and latest.startswith("3.00<br>")
    assert "03 Mar 2025" in latest and change == "−1.00" and words == width.words
    assert "1 photo could not be measured" in _text(document) and "1 not measured yet" in (
        _text(document)
    )
    assert "A hollow circle on the axis" in rm._key(data)
    chart = measure_chart(width, QFont(), by_session=True)
    assert [[p.x() for p in line.points()] for line in _lines(chart)] == [[0.0], [2.0]]
    (missing,) = [s for s in chart.series() if isinstance(s, QScatterSeries)]
    assert [p.x() for p in missing.points()] == [1.0, 3.0]
    # The control subtracted: the control measured at every visit, the same visits are kept.
    files = [photo(tmp_path / f"c{i}.jpg", d, 50 + i) for i, d in enumerate(DAYS)]
    h.import_files(course, files, area="Left hip")
    control = _area(course, "Left hip")
    for pid, value in zip(_photos(course, control), (5.0, 5.0, 5.5, 5.5), strict=True):
        _store(course, pid, _values(value), None)
    measure.set_control(course, area, control)
    taken_out = area_measures(course, area, subtract_control=True).series["mean_width_mm"]
    assert [p.value for p in taken_out.points] == [4.0, None, 2.5, None]
    assert [p.control for p in taken_out.points] == [5.0, 5.0, 5.5, 5.5]
    assert taken_out.change == pytest.approx(-1.5)
    assert taken_out.words.endswith(
        "The last visit, 31 Mar 2025, has no measure of both areas: the change is from "
        "6 Jan 2025 to 3 Mar 2025."
    )
