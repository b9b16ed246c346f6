"""The calibration card as a PDF page to print at home (``tracker card``, Help ▸ Print a
calibration card): the card at its true size, drawn from its layout (``core.imaging.card``),
with a 100 mm line to check the print's scale and short instructions.

Everything is drawn in millimetres on a page without margins, so the card is exactly its size
when the page is printed at 100 %; the markers are vector squares, not a picture, so no
printer resamples them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QPen

from tracker import APP_NAME
from tracker.core.errors import TrackerError, UsageError
from tracker.core.files import write_atomically
from tracker.core.imaging.card import CARD, CardLayout, marker_cells

PAPERS = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
RESOLUTION = 1200  # dots per inch: a marker's cell edge within 0.02 mm of where it belongs
INK = QColor(0, 0, 0)

INSTRUCTIONS = (
    "Print this page at actual size: choose 100 % (or “Actual size”) and turn off “Fit to "
    "page”, “Shrink to fit” or “Scale to fit”. Use plain white matt paper, and black-and-white "
    "(greyscale) printing if your printer offers it.",
    "Check the size before you cut: the line below must measure 100 mm with a ruler, and the "
    "card's own ruler 50 mm. If either is off, print again at actual size: a card printed at "
    "the wrong size gives wrong millimetres.",
    "Cut the card out along the dashed line. Keep it flat, clean and dry, and do not laminate "
    "it (it would shine).",
    "In each photo, lay the card flat on the skin beside the marks, not over them: the whole "
    "card in the frame, in the same light as the skin, out of shadow and glare.",
    "Print a new card when this one is creased, stained or faded.",
)


class _Page:
    """A painter on the page in millimetres: every length below is in mm."""

    def __init__(self, painter: QPainter) -> None:
        self.painter = painter
        self.k = RESOLUTION / 25.4  # device dots per mm

    def rect(self, x: float, y: float, w: float, h: float) -> QRectF:
        return QRectF(x * self.k, y * self.k, w * self.k, h * self.k)

    def fill(self, x: float, y: float, w: float, h: float, colour: QColor) -> None:
        self.painter.fillRect(self.rect(x, y, w, h), colour)

    def line(
        self, x0: float, y0: float, x1: float, y1: float, width: float, dashed: bool = False
    ) -> None:
        pen = QPen(INK if not dashed else QColor(110, 110, 110))
        pen.setWidthF(width * self.k)
        pen.setCapStyle(Qt.PenCapStyle.FlatCap)
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        self.painter.setPen(pen)
        self.painter.drawLine(QPointF(x0 * self.k, y0 * self.k), QPointF(x1 * self.k, y1 * self.k))

    def text(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        text: str,
        points: float,
        flags: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
        bold: bool = False,
    ) -> float:
        """Text wrapped in the box; returns the height it took, in mm."""
        font = QFont()
        font.setPointSizeF(points)
        font.setBold(bold)
        self.painter.setFont(font)
        self.painter.setPen(INK)
        box = self.rect(x, y, w, h)
        wrap = int(flags | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap)
        used = self.painter.boundingRect(box, wrap, text)
        self.painter.drawText(box, wrap, text)
        return used.height() / self.k


def _draw_card(page: _Page, card: CardLayout, left: float, top: float) -> None:
    """The card with its top-left corner at (left, top), its outline dashed to cut along."""
    page.fill(left, top, card.width_mm, card.height_mm, QColor(255, 255, 255))
    for marker in card.markers:
        cells = marker_cells(marker.id)
        cell = marker.size_mm / len(cells)
        for row, line in enumerate(cells):
            for col, black in enumerate(line):
                if black:
                    x, y = left + marker.x_mm + col * cell, top + marker.y_mm + row * cell
                    # A hair wider than the cell, so that neighbouring cells leave no seam.
                    page.fill(x, y, cell + 0.01, cell + 0.01, INK)
    for patch in card.patches:
        grey = QColor(patch.srgb, patch.srgb, patch.srgb)
        page.fill(left + patch.x_mm, top + patch.y_mm, patch.size_mm, patch.size_mm, grey)
    ruler_top = top + card.ruler_y_mm
    x0 = left + card.ruler_x_mm
    page.line(x0, ruler_top, x0 + card.ruler_mm, ruler_top, 0.15)
    for tick in card.ruler_ticks():
        x = left + tick.x_mm
        page.line(x, ruler_top, x, ruler_top + tick.length_mm, 0.12)
        if tick.label:
            page.text(x - 3, ruler_top + 5.3, 6, 3, tick.label, 6, Qt.AlignmentFlag.AlignHCenter)
    page.text(x0 + card.ruler_mm + 1.5, ruler_top + 0.6, 10, 3, "cm", 6)
    caption = f"{APP_NAME} calibration card\nPrinted at 100 %, its ruler is 50 mm long."
    page.text(
        left + 20, top + 50, card.width_mm - 40, 10, caption, 6, Qt.AlignmentFlag.AlignHCenter
    )
    # The cut line, just outside the card so that the cut keeps its white border whole.
    for x0_, y0_, x1_, y1_ in (
        (0, 0, card.width_mm, 0),
        (card.width_mm, 0, card.width_mm, card.height_mm),
        (card.width_mm, card.height_mm, 0, card.height_mm),
        (0, card.height_mm, 0, 0),
    ):
        page.line(left + x0_, top + y0_, left + x1_, top + y1_, 0.2, dashed=True)


def card_pdf(paper: str = "a4") -> bytes:
    """The page, as PDF bytes."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle("Calibration card")
    writer.setCreator(APP_NAME)
    writer.setResolution(RESOLUTION)
    size = QPageSize(PAPERS[paper])
    writer.setPageLayout(
        QPageLayout(
            size,
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),
            QPageLayout.Unit.Millimeter,
        )
    )
    width = size.size(QPageSize.Unit.Millimeter).width()
    painter = QPainter(writer)
    try:
        page = _Page(painter)
        margin = 20.0
        text_width = width - 2 * margin
        y = 18.0
        y += page.text(margin, y, text_width, 12, "Calibration card", 18, bold=True) + 1
        y += page.text(
            margin,
            y,
            text_width,
            12,
            f"For {APP_NAME}: it gives each photo its scale in millimetres and a colour balance.",
            10,
        )
        y += 4
        for n, paragraph in enumerate(INSTRUCTIONS, start=1):
            y += page.text(margin, y, text_width, 30, f"{n}.  {paragraph}", 10) + 2
        y += 6
        # The 100 mm check line, with a tick at each centimetre.
        x0 = (width - 100) / 2
        page.line(x0, y + 3, x0 + 100, y + 3, 0.25)
        for cm in range(11):
            page.line(x0 + 10 * cm, y + 3, x0 + 10 * cm, y + (0 if cm in (0, 10) else 1.5), 0.2)
        page.text(
            x0,
            y + 4.5,
            100,
            6,
            "This line is 100 mm (10 cm) long.",
            9,
            Qt.AlignmentFlag.AlignHCenter,
        )
        y += 20
        _draw_card(page, CARD, (width - CARD.width_mm) / 2, y)
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def write_card(out: Path, paper: str = "a4") -> dict[str, object]:
    if out.suffix.lower() != ".pdf":
        raise UsageError(f"{out.name}: the card is a PDF; choose a name ending in .pdf.")
    if paper not in PAPERS:
        raise UsageError(f"Unknown paper size '{paper}'; use A4 or Letter.")
    if not out.parent.is_dir():
        raise UsageError(f"The folder {out.parent} does not exist.")
    pdf = card_pdf(paper)
    if not pdf.startswith(b"%PDF"):
        raise TrackerError("The calibration card could not be written as a PDF.")
    write_atomically(out, pdf)
    return {"file": str(out), "paper": paper, "bytes": len(pdf)}
