"""A rich-text document printed to PDF pages on which no table row is split.

Qt lays a ``QTextDocument`` out on pages, but where a row's cells run past the foot of a page
it carries their lines over one by one, so a row can start on one page and end on the next.
So the document is laid out here exactly as it is printed (at the PDF writer's resolution and
page size, with the writer as the layout's paint device), every row of every table is looked
at, and where one crosses the foot of a page the table is broken before that row: the rest
starts on the next page as a new table under the same header (``page-break-before``). Where
the rest of that table's rows will then fall is foreseen from their heights, and each that
would cross a page is broken before too; the layout is done again to check, and the next
crossing sought, until none is left: a few layouts for a long report, not one per page.
A table's heading stays with its first row the same way, a figure (a picture with its
title) is a table of one borderless cell, so it is never parted from its title, and a table
can be kept with the figure before it. Only a row taller than a whole page may split.

The pages are then painted one by one from that very layout, each with its number at the foot.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass, field

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSizeF, Qt, QUrl
from PySide6.QtGui import (
    QFont,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QTextBlock,
    QTextDocument,
    QTextFrame,
    QTextTable,
)

PAGE_SIZES = {"a4": QPageSize.PageSizeId.A4, "letter": QPageSize.PageSizeId.Letter}
MARGIN_MM = 15
RESOLUTION = 300  # dots per inch of the PDF's layout
TEXT_PX = 680  # the text's width at 96 px to the inch, as HTML sizes are given (A4: 180 mm)
FOOTER_PT = 18  # room at the foot of each page for its number
BREAK = "page-break-before: always"
FRAMED = "border-collapse: collapse; border-color: #999999; font-size: 9pt"


@dataclass
class Table:
    """A table of the document: cells are HTML (escaped by whoever made them)."""

    head: list[str]  # header cells, repeated at the top of each page the table runs onto
    rows: list[list[str]]
    widths: tuple[int, ...] = ()  # each column's share of the width, in percent
    right: frozenset[int] = frozenset()  # the columns aligned right (numbers)
    heading: str = ""  # plain text, shown as a heading kept with the first row
    level: int = 3  # of the heading: <h3>, <h4>
    framed: bool = True  # False for a figure: no borders, no padding
    # A table (a figure) this one's first row is to share a page with: where it cannot, a
    # new page starts before that one.
    keep_with: Table | None = None
    # The rows before which a new page starts (the table's own first row: its heading).
    breaks: set[int] = field(default_factory=set)

    def chunks(self) -> Iterator[tuple[int, int]]:
        """The (first, end) rows of each piece the breaks cut the table into."""
        starts = sorted({0} | {b for b in self.breaks if 0 < b < len(self.rows)})
        yield from zip(starts, [*starts[1:], len(self.rows)], strict=True)

    def html(self, first: int, end: int) -> str:
        broken = first in self.breaks
        out = []
        if first == 0 and self.heading:
            style = f" style='{BREAK}'" if broken else ""
            out.append(f"<h{self.level}{style}>{html.escape(self.heading)}</h{self.level}>")
            broken = False
        style = f"{BREAK}; " if broken else ""
        if self.framed:
            out.append(
                f"<table style='{style}{FRAMED}' border='1' cellspacing='0' cellpadding='3' "
                "width='100%'>"
            )
        else:
            out.append(f"<table style='{style}' border='0' cellspacing='0' cellpadding='0'>")
        if self.head:
            out.append("<thead><tr>")
            for n, cell in enumerate(self.head):
                width = f" width='{self.widths[n]}%'" if n < len(self.widths) else ""
                out.append(f"<th{width} align='left' bgcolor='#eeeeee'>{cell}</th>")
            out.append("</tr></thead>")
        for row in self.rows[first:end]:
            out.append("<tr>")
            for n, cell in enumerate(row):
                width = "" if self.head or n >= len(self.widths) else f" width='{self.widths[n]}%'"
                align = " align='right'" if n in self.right else ""
                out.append(f"<td{width}{align} valign='top'>{cell}</td>")
            out.append("</tr>")
        out.append("</table>")
        return "".join(out)


@dataclass
class Document:
    """HTML and tables in reading order, and the images the HTML names."""

    parts: list[str | Table] = field(default_factory=list)
    images: dict[str, QImage] = field(default_factory=dict)

    def add(self, *parts: str | Table) -> None:
        self.parts.extend(parts)

    def figure(self, name: str, image: QImage, heading: str, caption: str = "") -> Table:
        """A picture ``name`` (as wide as the text: 180 mm on A4) with its heading and caption."""
        self.images[name] = image
        cell = f"<img src='{name}' width='{TEXT_PX}'>" + (
            f"<br><small>{caption}</small>" if caption else ""
        )
        figure = Table(head=[], rows=[[cell]], heading=heading, framed=False)
        self.parts.append(figure)
        return figure

    def html(self) -> tuple[str, list[tuple[Table, int]]]:
        """The HTML, and each table piece in it (its table and first row), in order."""
        out = ["<html><body style='font-family: sans-serif; font-size: 10pt'>"]
        pieces: list[tuple[Table, int]] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            if not part.rows:
                continue  # Qt makes no table of an empty one: the pieces would not match
            for first, end in part.chunks():
                out.append(part.html(first, end))
                pieces.append((part, first))
        out.append("</body></html>")
        return "".join(out), pieces


class Printer:
    """A PDF writer of one page size, and documents laid out on its pages."""

    def __init__(self, page: str, title: str, creator: str) -> None:
        self.data = QByteArray()
        self.buffer = QBuffer(self.data)
        self.buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.writer = QPdfWriter(self.buffer)
        self.writer.setTitle(title)
        self.writer.setCreator(creator)
        self.writer.setResolution(RESOLUTION)
        self.writer.setPageLayout(
            QPageLayout(
                QPageSize(PAGE_SIZES[page]),
                QPageLayout.Orientation.Portrait,
                QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
                QPageLayout.Unit.Millimeter,
            )
        )
        self.width = float(self.writer.width())
        self.height = float(self.writer.height())
        self.footer = FOOTER_PT * RESOLUTION / 72  # in the writer's dots

    def build(self, document: Document) -> tuple[QTextDocument, list[tuple[Table, int]]]:
        """``document`` laid out on the pages as it is (Qt's own pagination), and its table
        pieces in reading order."""
        text, pieces = document.html()
        doc = QTextDocument()
        doc.documentLayout().setPaintDevice(self.writer)
        for name, image in document.images.items():
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(name), image)
        doc.setHtml(text)
        frame = doc.rootFrame().frameFormat()
        frame.setMargin(0)
        # Lengths in a document are CSS pixels (96 to the inch), which the layout scales to
        # its paint device: the writer.
        frame.setBottomMargin(FOOTER_PT * 96 / 72)
        doc.rootFrame().setFrameFormat(frame)
        doc.setPageSize(QSizeF(self.width, self.height))
        return doc, pieces

    def lay_out(self, document: Document) -> QTextDocument:
        """``document`` laid out on the pages, broken where a row would be split (it gains
        the breaks). Where a row of a table crosses the foot of a page, where the rest of
        that table's rows will fall is foreseen from their heights, and each of them that
        would cross a page is given its break too: a layout per table, not per page. The
        next layout checks the foresight (it errs towards breaking early)."""
        hopeless: set[tuple[int, int]] = set()  # (table's id, row): taller than a page
        limit = 2 * sum(len(p.rows) + 1 for p in document.parts if isinstance(p, Table)) + 1
        for _ in range(limit):
            doc, pieces = self.build(document)
            found = next(
                (c for c in crossings(doc, pieces, self.height) if c.key not in hopeless), None
            )
            if found is None:
                return doc
            if found.row in found.table.breaks:
                hopeless.add(found.key)
            elif found.frame is None:
                found.table.breaks.add(found.row)
            else:
                found.table.breaks.update(self._foreseen(doc, found, found.frame))
        return doc

    def _foreseen(self, doc: QTextDocument, found: Crossing, frame: QTextTable) -> list[int]:
        """The breaks of ``found``'s table from its row on: that row starts the next page,
        under the header, and so does each later row of its piece (``frame``) that would
        not fit."""
        head = 1 if found.table.head else 0
        spans = [row_span(doc, frame, r) for r in range(frame.rows())]
        heights = [row_height(doc, frame, r) for r in range(frame.rows())]
        gaps = [
            spans[r + 1][0] - spans[r][1]
            for r in range(frame.rows() - 1)
            if int(spans[r][0] // self.height) == int(spans[r + 1][1] // self.height)
        ]
        gap = max(gaps, default=0.0)
        # From the top of a page to the first line of a piece's first row.
        offset = gap + (spans[head][0] - spans[0][0] if head else 0.0)
        first = found.row - (found.index - head)  # the table's row of the frame's first
        breaks = [found.row]
        page = int(spans[found.index][0] // self.height) + 1
        top = page * self.height + offset
        for r in range(found.index + 1, frame.rows()):
            top += heights[r - 1] + gap
            foot = (int(top // self.height) + 1) * self.height - self.footer
            if top + heights[r] > foot:
                if offset + heights[r] > self.height - self.footer:
                    break  # taller than a page: the layout finds it, and gives up on it
                breaks.append(first + r - head)
                top = (int(top // self.height) + 1) * self.height + offset
        return breaks

    def print(self, doc: QTextDocument) -> bytes:
        """The laid-out ``doc`` as PDF bytes, a number at the foot of each page."""
        painter = QPainter(self.writer)
        try:
            font = QFont(doc.defaultFont())
            font.setPointSize(9)
            for page in range(doc.pageCount()):
                if page:
                    self.writer.newPage()
                painter.save()
                painter.translate(0, -page * self.height)
                doc.drawContents(painter, QRectF(0, page * self.height, self.width, self.height))
                painter.restore()
                painter.setFont(font)
                painter.drawText(
                    QRectF(0, self.height - self.footer, self.width, self.footer),
                    int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom),
                    str(page + 1),
                )
        finally:
            painter.end()
        self.buffer.close()
        return bytes(self.data.data())


def tables(frame: QTextFrame) -> Iterator[QTextTable]:
    """The tables in ``frame``, in reading order."""
    for child in frame.childFrames():
        if isinstance(child, QTextTable):
            yield child
        else:
            yield from tables(child)


def line_spans(
    doc: QTextDocument, first: QTextBlock, last: QTextBlock
) -> Iterator[tuple[float, float]]:
    """The top and bottom of every line of the blocks ``first`` to ``last``, in the
    document's coordinates (on page n when between n and n + 1 page heights)."""
    layout = doc.documentLayout()
    block = first
    while block.isValid():
        top = layout.blockBoundingRect(block).top()
        lines = block.layout()
        for i in range(lines.lineCount()):
            line = lines.lineAt(i)
            yield top + line.y(), top + line.y() + line.height()
        if block == last:
            break
        block = block.next()


def _cell_lines(
    doc: QTextDocument, table: QTextTable, row: int
) -> Iterator[list[tuple[float, float]]]:
    for column in range(table.columns()):
        cell = table.cellAt(row, column)
        first, last = cell.firstCursorPosition().block(), cell.lastCursorPosition().block()
        yield list(line_spans(doc, first, last))


def row_span(doc: QTextDocument, table: QTextTable, row: int) -> tuple[float, float]:
    """The top of the first line and the foot of the last of a table row's cells."""
    spans = [span for cell in _cell_lines(doc, table, row) for span in cell]
    return min(t for t, _b in spans), max(b for _t, b in spans)


def row_height(doc: QTextDocument, table: QTextTable, row: int) -> float:
    """How tall a row's lines are when they are all on one page: its tallest cell's."""
    return max(sum(b - t for t, b in cell) for cell in _cell_lines(doc, table, row))


def row_pages(doc: QTextDocument, table: QTextTable, row: int, height: float) -> set[int]:
    """The pages the lines of a table row's cells are on."""
    pages: set[int] = set()
    for column in range(table.columns()):
        cell = table.cellAt(row, column)
        first, last = cell.firstCursorPosition().block(), cell.lastCursorPosition().block()
        for top, bottom in line_spans(doc, first, last):
            pages |= {int(top // height), int((bottom - 0.01) // height)}
    return pages


@dataclass(frozen=True)
class Crossing:
    """Where a page should start: before ``row`` of ``table``. When it is a row crossing the
    foot of a page, ``frame`` is the piece of the table it is in and ``index`` its row there."""

    table: Table
    row: int
    frame: QTextTable | None = None
    index: int = 0

    @property
    def key(self) -> tuple[int, int]:
        return id(self.table), self.row


def crossings(
    doc: QTextDocument, pieces: list[tuple[Table, int]], height: float
) -> Iterator[Crossing]:
    """Each place a page should start, in reading order: before a row that crosses the foot
    of a page, a first row parted from its header or heading, or from the table it is kept
    with."""
    starts: dict[int, int] = {}  # id of a table → the page it starts on
    for frame, (table, first) in zip(tables(doc.rootFrame()), pieces, strict=True):
        head = 1 if table.head else 0
        above: set[int] = set()
        if head:
            above |= row_pages(doc, frame, 0, height)
        if first == 0 and table.heading:
            heading = doc.findBlock(frame.firstPosition() - 1)
            above |= {int(t // height) for t, _b in line_spans(doc, heading, heading)}
        for r in range(head, frame.rows()):
            pages = row_pages(doc, frame, r, height)
            if first == 0 and r == head:
                starts[id(table)] = min(above | pages)
                kept = table.keep_with
                if kept is not None and id(kept) in starts and min(pages) > starts[id(kept)]:
                    yield Crossing(kept, 0)
            if r == head and above and min(pages) > min(above):
                yield Crossing(table, first)
            elif len(pages) > 1:
                yield (
                    Crossing(table, first + r - head, frame, r)
                    if r > head
                    else Crossing(table, first)
                )
