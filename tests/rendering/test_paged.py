"""Pagination that never splits a table row: checked on the layout that is printed, and on
the PDF read back."""

from __future__ import annotations

import io

import pypdf
from PySide6.QtGui import QTextDocument, QTextFrame, QTextTable
from PySide6.QtWidgets import QApplication

from tracker.rendering.paged import Document, Printer, Table


def _tables(frame: QTextFrame) -> list[QTextTable]:
    out: list[QTextTable] = []
    for child in frame.childFrames():
        out += [child] if isinstance(child, QTextTable) else _tables(child)
    return out


def _split_rows(doc: QTextDocument, page_height: float) -> list[tuple[int, int, set[int]]]:
    """Each (table, row, pages) whose cells' lines are on more than one page: every line of
    every block of every cell, where the layout put it."""
    layout = doc.documentLayout()
    out = []
    for t, table in enumerate(_tables(doc.rootFrame())):
        for row in range(table.rows()):
            pages: set[int] = set()
            for column in range(table.columns()):
                cell = table.cellAt(row, column)
                block, last = cell.firstCursorPosition().block(), cell.lastCursorPosition().block()
                while True:
                    top = layout.blockBoundingRect(block).top()
                    lines = block.layout()
                    for i in range(lines.lineCount()):
                        line = lines.lineAt(i)
                        pages.add(int((top + line.y()) // page_height))
                        pages.add(int((top + line.y() + line.height() - 0.01) // page_height))
                    if block == last:
                        break
                    block = block.next()
            if len(pages) > 1:
                out.append((t, row, pages))
    return out


def _rows(n: int) -> list[list[str]]:
    """Rows of 1 to 9 lines, each with a word at its start and one at its end."""
    return [
        [f"{i}", f"row{i}begin " + "words " * (10 + (i * 37) % 90) + f"row{i}end", "x"]
        for i in range(n)
    ]


def _document(n: int = 140) -> Document:
    document = Document()
    document.add("<h1>Long</h1>")
    document.add(Table(head=["N", "Text", "X"], rows=_rows(n), widths=(8, 82, 10), heading="Rows"))
    return document


def test_no_table_row_is_split_across_pages(qapp: QApplication) -> None:
    printer = Printer("a4", "t", "t")
    raw, _pieces = printer.build(_document())
    # Qt alone splits rows of this table: the test would see it.
    assert _split_rows(raw, printer.height)
    document = _document()
    doc = printer.lay_out(document)
    assert doc.pageCount() >= 5
    assert _split_rows(doc, printer.height) == []
    # Where a row went to the next page, the table goes on there under its header.
    table = next(p for p in document.parts if isinstance(p, Table))
    assert table.breaks
    pieces = _tables(doc.rootFrame())
    assert len(pieces) == len(table.breaks) + 1
    assert all(p.format().headerRowCount() == 1 for p in pieces)

    # Read back from the PDF: each row's first and last words are on one page.
    reader = pypdf.PdfReader(io.BytesIO(printer.print(doc)))
    pages = ["".join(page.extract_text().split()) for page in reader.pages]
    assert len(pages) == doc.pageCount()
    for i in range(140):
        begin = [n for n, text in enumerate(pages) if f"row{i}begin" in text]
        end = [n for n, text in enumerate(pages) if f"row{i}end" in text]
        assert begin == end and len(begin) == 1, (i, begin, end)
    for n, page in enumerate(reader.pages, start=1):  # each page ends with its number
        assert page.extract_text().split()[-1] == str(n)


def test_a_heading_stays_with_the_first_row_of_its_table(qapp: QApplication) -> None:
    printer = Printer("a4", "t", "t")

    def document(filler: int) -> Document:
        out = Document()
        out.add(*[f"<p>filler {n}</p>" for n in range(filler)])
        out.add(Table(head=["A"], rows=[["one"], ["two"]], heading="Kept heading"))
        return out

    def parted(doc: QTextDocument) -> bool:
        heading = doc.find("Kept heading").block()
        row = doc.find("one").block()
        layout = doc.documentLayout()
        pages = {int(layout.blockBoundingRect(b).top() // printer.height) for b in (heading, row)}
        return len(pages) > 1

    # Some amount of filler leaves the heading alone at the foot of a page, as Qt lays it.
    filler = next(n for n in range(20, 120) if parted(printer.build(document(n))[0]))
    doc = printer.lay_out(document(filler))
    assert not parted(doc)


def test_a_row_taller_than_a_page_is_printed_and_the_layout_ends(qapp: QApplication) -> None:
    printer = Printer("letter", "t", "t")
    document = Document()
    document.add(Table(head=["Long"], rows=[["word " * 6000], ["after"]]))
    doc = printer.lay_out(document)
    assert doc.pageCount() >= 2
    assert printer.print(doc).startswith(b"%PDF")
