"""The PDF report for a client (or one area). Per area: the course so far, the baseline photo
beside the latest of the area's reference view, each rated instrument summarised as it is
reported with its chart, the measures of the marks (``report_measures``), the visits
(treatment, notes, ratings) and every rating.

The document is laid out and printed by ``paged``, which keeps every table row on one page.
Photos come from the comparison renderer, so they are aligned and colour-balanced as the
compare window shows them, labelled, and carry no metadata. Needs a QApplication (the charts
are QtCharts scenes); the command line starts an offscreen one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter

from tracker import APP_NAME, __version__
from tracker.core.compare.render import CompareOptions, render
from tracker.core.domain.instruments import Instrument
from tracker.core.errors import NotFoundError, TrackerError, UsageError
from tracker.core.files import refuse_inside, write_atomically
from tracker.core.queries import browse
from tracker.core.queries.measures import area_measures
from tracker.core.queries.progress import Progress, progress
from tracker.core.queries.rows import PhotoRow
from tracker.core.store.library import Library
from tracker.rendering import report_measures
from tracker.rendering import report_parts as parts
from tracker.rendering.chart import build_chart, render_chart
from tracker.rendering.images import pil_to_qimage
from tracker.rendering.paged import PAGE_SIZES, Document, Printer, Table

Report = Callable[[int, int, str], None]
# A chart is laid out as on a screen this size and drawn at CHART_SCALE times it, so that its
# text prints at about the size the font asks for (the picture is 180 mm wide on an A4 page).
CHART_SIZE = (800, 300)
CHART_SCALE = 2.5
Charts = dict[tuple[int, str], QImage]  # (area id, scale key) → the instrument's chart


def _chart_image(data: Progress, instrument: Instrument) -> QImage:
    width, height = CHART_SIZE
    image = QImage(
        round(width * CHART_SCALE), round(height * CHART_SCALE), QImage.Format.Format_RGB32
    )
    image.fill(0xFFFFFF)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.scale(CHART_SCALE, CHART_SCALE)
        chart = build_chart(
            data, instrument, title=False, font_size=9, legend=Qt.AlignmentFlag.AlignRight
        )
        render_chart(painter, chart, width, height)
    finally:
        painter.end()
    return image


def reference_view(photos: list[tuple[dt.date, PhotoRow]], chosen: set[str]) -> str:
    """The view the before/after pair shows: of the views with a reference photo (``chosen``)
    if any, else of all, the most photographed (front first among equals)."""
    counts = Counter(row.view for _day, row in photos)
    among = [v for v in counts if v in chosen] or list(counts)
    return max(among, key=lambda v: (counts[v], v == "front", v))


def photo_pair(lib: Library, area_id: int) -> tuple[QImage, str] | None:
    """The area's baseline photo beside the latest of its reference view, as the compare
    window's "Compare with baseline" shows that latest photo: aligned, colour-balanced."""
    photos = browse.area_photos(lib, area_id)
    if not photos:
        return None
    views = {row.view for _day, row in photos}
    chosen = {v for v in views if browse.reference_photo(lib, area_id, v) is not None}
    view = reference_view(photos, chosen)
    latest_day, latest = next((d, r) for d, r in reversed(photos) if r.view == view)
    partner = browse.baseline_partner(lib, latest.id)
    if partner is None:
        return None
    partner_day = next(d for d, r in photos if r.id == partner)
    if partner_day >= latest_day:
        return None  # only the baseline so far
    # Colour balance is no option of the renderer: each photo's stored gains always apply.
    image = render(
        lib, [partner, latest.id], CompareOptions(mode="side", aligned=True, max_side=1400)
    )
    return pil_to_qimage(image), view


def area_ids(lib: Library, client_id: int, area_id: int | None = None) -> list[int]:
    """The areas the report covers: the one given, else every area of the client."""
    ids = [a.id for a in sorted(browse.areas(lib, client_id), key=lambda a: a.name)]
    name = browse.client_fields(lib, client_id).name
    if area_id is not None:
        if area_id not in ids:
            raise NotFoundError(f"There is no area with id {area_id} among the areas of {name}.")
        return [area_id]
    if not ids:
        raise UsageError(f"{name} has no areas yet, so there is nothing to report.")
    return ids


def chart_images(lib: Library, ids: list[int], today: dt.date | None = None) -> Charts:
    """The chart of each rated instrument of each area, keyed by (area id, scale key).
    QtCharts draws through a graphics scene, which belongs on the GUI thread: the window
    makes these there (``chart_steps``, one a turn of its event loop) and hands them to the
    worker that writes the PDF."""
    return dict(chart_steps(lib, ids, today))


def chart_steps(
    lib: Library, ids: list[int], today: dt.date | None = None
) -> Iterator[tuple[tuple[int, str], QImage]]:
    """``chart_images``' charts one at a time (about 20 ms each), as they are drawn."""
    for area_id in ids:
        data = progress(lib, area_id, today=today)
        for instrument in data.rated:
            yield (area_id, instrument.scale.key), _chart_image(data, instrument)
        measures = report_measures.chart_image(area_measures(lib, area_id))
        if measures is not None:
            yield (area_id, report_measures.CHART_KEY), measures


def _area(lib: Library, document: Document, data: Progress, charts: Charts) -> None:
    document.add(f"<h2>{parts.e(data.area)}</h2>", parts.course(data))
    pair = photo_pair(lib, data.area_id)
    if pair is not None:
        image, view = pair
        document.figure(
            f"photos-{data.area_id}.png",
            image,
            f"Baseline and latest photos ({view} view)",
            "Aligned and colour-balanced as in the compare window.",
        )
    if data.rated:
        document.add(
            "<p>Each instrument is shown as its papers report it: item scores as change from "
            "the baseline, GAIS as how many ratings gave each grade, the VAS as given.</p>"
        )
    elif data.baseline is not None:
        document.add("<p>No ratings of this area yet.</p>")
    for instrument in data.rated:
        scale = instrument.scale
        key = (data.area_id, scale.key)
        summary = parts.instrument_parts(data, instrument)
        if key in charts:
            figure = document.figure(
                f"chart-{data.area_id}-{scale.key}.png", charts[key], scale.name
            )
            for part in summary:  # the chart and its table begin on one page
                if isinstance(part, Table):
                    part.keep_with = figure
        else:
            document.add(f"<h3>{parts.e(scale.name)}</h3>")
        document.add(*summary)
    report_measures.add_section(
        document,
        area_measures(lib, data.area_id),
        charts.get((data.area_id, report_measures.CHART_KEY)),
    )
    if data.visits:
        document.add(parts.visits_table(data))
        document.add(*parts.long_notes(data))
    if any(v.ratings for v in data.visits):
        document.add(parts.ratings_table(data))


def build_document(
    lib: Library,
    client_id: int,
    area_id: int | None = None,
    *,
    progress_cb: Report | None = None,
    today: dt.date | None = None,
    charts: Charts | None = None,
) -> Document:
    today = today or dt.date.today()
    ids = area_ids(lib, client_id, area_id)
    client_name = browse.client_fields(lib, client_id).name
    if charts is None:
        charts = chart_images(lib, ids, today)
    document = Document()
    document.add(
        f"<h1>Treatment progress: {parts.e(client_name)}</h1>",
        f"<p>Microneedling course report, made on {today:%d %B %Y} with {APP_NAME} {__version__}.</p>",
    )
    total = len(ids)
    for n, area in enumerate(ids):
        if progress_cb:
            progress_cb(n, total, "")
        _area(lib, document, progress(lib, area, today=today), charts)
    if progress_cb:
        progress_cb(total, total, "")
    return document


def write_pdf(document: Document, page: str = "a4") -> bytes:
    """The document as PDF bytes: paginated so that no table row is split, pages numbered."""
    printer = Printer(page, "Treatment progress report", APP_NAME)
    return printer.print(printer.lay_out(document))


def export_report(
    lib: Library,
    out: Path,
    *,
    client_id: int,
    area_id: int | None = None,
    page: str = "a4",
    progress_cb: Report | None = None,
    charts: Charts | None = None,
) -> dict[str, object]:
    if out.suffix.lower() != ".pdf":
        raise UsageError(f"{out.name}: the report is a PDF; choose a name ending in .pdf.")
    if page not in PAGE_SIZES:
        raise UsageError(f"Unknown page size '{page}'; use A4 or Letter.")
    if not out.parent.is_dir():
        raise UsageError(f"The folder {out.parent} does not exist.")
    refuse_inside(None if lib.server else lib.root, out)
    document = build_document(lib, client_id, area_id, progress_cb=progress_cb, charts=charts)
    pdf = write_pdf(document, page)
    if not pdf.startswith(b"%PDF"):
        raise TrackerError("The report could not be written as a PDF.")
    write_atomically(out, pdf)
    return {"file": str(out), "bytes": len(pdf)}
