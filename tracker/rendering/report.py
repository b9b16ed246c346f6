"""The PDF report for a client (or one area): course summary, baseline beside latest photos,
the progress chart, and a table of visits with treatment records and ratings.

Written with Qt's PDF writer from one rich-text document, which paginates (tables split
between rows) and numbers the pages. Photos come from the comparison renderer, so they are
aligned and colour-balanced as stored, labelled, and carry no metadata. Needs a QApplication
(the chart is a QtCharts scene); the command line starts an offscreen one.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF, Qt, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

from tracker import APP_NAME, __version__
from tracker.core.compare.render import CompareOptions, render
from tracker.core.errors import NotFoundError, TrackerError, UsageError
from tracker.core.files import write_atomically
from tracker.core.queries import browse
from tracker.core.queries.progress import Progress, progress
from tracker.core.store.library import Library
from tracker.rendering.chart import build_chart, render_chart
from tracker.rendering.images import pil_to_qimage

PAGE_SIZES = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
Report = Callable[[int, int, str], None]


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _chart_image(data: Progress, width_px: int, height_px: int) -> QImage:
    image = QImage(width_px, height_px, QImage.Format.Format_RGB32)
    image.fill(0xFFFFFF)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        chart = build_chart(
            data, title=False, font_size=int(height_px / 48), legend=Qt.AlignmentFlag.AlignBottom
        )
        render_chart(painter, chart, width_px, height_px)
    finally:
        painter.end()
    return image


def _photo_pair(lib: Library, data: Progress) -> tuple[QImage, str] | None:
    """The baseline and latest photos of the area's most photographed view, aligned."""
    photos = browse.area_photos(lib, data.area_id)
    if len(photos) < 2:
        return None
    views: dict[str, list[tuple[dt.date, int]]] = {}
    for day, row in photos:
        views.setdefault(row.view, []).append((day, row.id))
    view, shots = max(views.items(), key=lambda kv: (len(kv[1]), kv[0] == "front"))
    if len({d for d, _ in shots}) < 2:
        return None
    first, last = shots[0][1], shots[-1][1]
    image = render(lib, [first, last], CompareOptions(mode="side", aligned=True, max_side=1400))
    return pil_to_qimage(image), view


def _summary(data: Progress) -> str:
    parts = [
        f"<b>Sessions done:</b> {data.sessions_done}",
        f"<b>Days since baseline:</b> {data.days_since_baseline}"
        if data.days_since_baseline is not None
        else "",
        f"<b>Next suggested session:</b> {data.next_session:%d %B %Y} (every {data.interval_days} days)"
        if data.next_session
        else "",
    ]
    text = " &nbsp;·&nbsp; ".join(p for p in parts if p)
    if data.mean_change:
        labels = {i.key: i.label for i in data.scale.items}
        changes = ", ".join(f"{_e(labels[k])} {v:+.1f}" for k, v in data.mean_change.items())
        direction = "lower is better" if data.scale.lower_is_better else "higher is better"
        text += f"<br><b>Mean change since baseline</b> ({direction}): {changes}"
    return f"<p>{text}</p>"


def _changes_table(data: Progress) -> str:
    if not data.changes:
        return "<p><i>Not enough ratings yet to show change from baseline.</i></p>"
    head = "<tr><th>Item</th><th>Rater</th><th>Baseline</th><th>Latest</th><th>Change</th><th>%</th></tr>"
    body = "".join(
        f"<tr><td>{_e(c.label)}</td><td>{_e(c.role.value)}</td><td align='right'>{c.baseline:g}</td>"
        f"<td align='right'>{c.latest:g}</td><td align='right'>{c.change:+g}</td>"
        f"<td align='right'>{'' if c.percent is None else f'{c.percent:+.0f}%'}</td></tr>"
        for c in data.changes
    )
    return f"<table border='0.5' cellspacing='0' cellpadding='3' width='100%'>{head}{body}</table>"


def _visits_table(data: Progress) -> str:
    items = data.scale.items
    by_role: dict[tuple[int, str], list[str]] = {}
    for series in data.series:
        for point in series.points:
            by_role.setdefault((point.visit_id, series.role.value), []).append(
                f"{series.label[:1]}{point.value:g}"
            )
    head = "<tr><th>Date</th><th>Visit</th><th>Treatment</th><th>Pain</th><th>Ratings</th></tr>"
    rows = []
    for v in data.visits:
        t = v.treatment or {}
        treat = ", ".join(
            p
            for p in (
                str(t.get("device") or ""),
                f"{t['needle_depth_mm']:g} mm" if t.get("needle_depth_mm") else "",
                f"{t['passes']} passes" if t.get("passes") else "",
                str(t.get("topical") or ""),
                str(t.get("anaesthetic") or ""),
                f"reaction: {t['reaction']}" if t.get("reaction") else "",
                f"downtime {t['downtime_days']} d" if t.get("downtime_days") is not None else "",
            )
            if p
        )
        ratings = "<br>".join(
            f"{role}: {' '.join(by_role[(v.visit_id, role)])}"
            for role in ("patient", "practitioner")
            if (v.visit_id, role) in by_role
        )
        kind = v.kind.value.replace("-", " ") + (f" {v.session}" if v.session else "")
        day = "" if v.days_since_baseline is None else f"<br>day {v.days_since_baseline}"
        rows.append(
            f"<tr><td>{v.date:%d %b %Y}{day}</td><td>{_e(kind)}</td><td>{_e(treat)}</td>"
            f"<td align='right'>{'' if t.get('pain') is None else t['pain']}</td><td>{ratings}</td></tr>"
        )
    legend = ", ".join(f"{i.label[:1]} = {_e(i.label)}" for i in items)
    return (
        f"<table border='0.5' cellspacing='0' cellpadding='3' width='100%'>{head}{''.join(rows)}</table>"
        f"<p><small>Ratings: {legend}; {_e(data.scale.description)}</small></p>"
    )


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


def chart_images(lib: Library, ids: list[int], today: dt.date | None = None) -> dict[int, QImage]:
    """The charts as images. QtCharts draws through a graphics scene, which belongs on the GUI
    thread: the window makes these there and hands them to the worker that writes the PDF."""
    out = {}
    for area_id in ids:
        data = progress(lib, area_id, today=today)
        if data.series:
            out[area_id] = _chart_image(data, 2000, 1000)
    return out


def build_document(
    lib: Library,
    client_id: int,
    area_id: int | None = None,
    *,
    progress_cb: Report | None = None,
    today: dt.date | None = None,
    charts: dict[int, QImage] | None = None,
) -> QTextDocument:
    today = today or dt.date.today()
    ids = area_ids(lib, client_id, area_id)
    client_name = browse.client_fields(lib, client_id).name
    if charts is None:
        charts = chart_images(lib, ids, today)
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    parts = [
        "<html><body style='font-family: sans-serif; font-size: 10pt'>",
        f"<h1>Treatment progress: {_e(client_name)}</h1>",
        f"<p>Microneedling course report, made on {today:%d %B %Y} with {APP_NAME} {__version__}.</p>",
    ]
    total = len(ids)
    for n, area_id in enumerate(ids, start=1):
        if progress_cb:
            progress_cb(n - 1, total, "")
        data = progress(lib, area_id, today=today)
        parts.append(f"<h2>{_e(data.area)}</h2>")
        parts.append(f"<p>Rated on the {_e(data.scale.name)} scale.</p>")
        parts.append(_summary(data))
        pair = _photo_pair(lib, data)
        if pair is not None:
            image, view = pair
            name = f"photos-{area_id}.png"
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
            parts.append(
                f"<p><b>Baseline and latest photos</b> ({_e(view)} view)<br>"
                f"<img src='{name}' width='640'></p>"
            )
        if area_id in charts:
            name = f"chart-{area_id}.png"
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), charts[area_id])
            parts.append(f"<p><b>Ratings over time</b><br><img src='{name}' width='640'></p>")
        parts.append("<h3>Change from baseline</h3>")
        parts.append(_changes_table(data))
        parts.append("<h3>Visits</h3>")
        parts.append(_visits_table(data))
    parts.append("</body></html>")
    doc.setHtml("".join(parts))
    if progress_cb:
        progress_cb(total, total, "")
    return doc


def write_pdf(doc: QTextDocument, page: str = "a4") -> bytes:
    """The document as PDF bytes, paginated with page numbers."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle("Treatment progress report")
    writer.setCreator(APP_NAME)
    writer.setResolution(300)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(PAGE_SIZES[page]),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 15),
            QPageLayout.Unit.Millimeter,
        )
    )
    doc.documentLayout()  # lay out before printing
    doc.setPageSize(QSizeF())  # let print() paginate to the writer and number the pages
    doc.print_(writer)
    buffer.close()
    return bytes(data.data())


def export_report(
    lib: Library,
    out: Path,
    *,
    client_id: int,
    area_id: int | None = None,
    page: str = "a4",
    progress_cb: Report | None = None,
    charts: dict[int, QImage] | None = None,
) -> dict[str, object]:
    if out.suffix.lower() != ".pdf":
        raise UsageError(f"{out.name}: the report is a PDF; choose a name ending in .pdf.")
    if page not in PAGE_SIZES:
        raise UsageError(f"Unknown page size '{page}'; use A4 or Letter.")
    if not out.parent.is_dir():
        raise UsageError(f"The folder {out.parent} does not exist.")
    doc = build_document(lib, client_id, area_id, progress_cb=progress_cb, charts=charts)
    pdf = write_pdf(doc, page)
    if not pdf.startswith(b"%PDF"):
        raise TrackerError("The report could not be written as a PDF.")
    write_atomically(out, pdf)
    return {"file": str(out), "bytes": len(pdf)}
