"""The PDF report, read back: its text, pages, embedded images, and nothing private."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pypdf
import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication

from tests import helpers as h
from tests.conftest import run_cli
from tracker.core.db.models import RaterRole
from tracker.core.domain.treatment import TreatmentInput
from tracker.core.errors import UsageError
from tracker.core.queries import browse
from tracker.core.services import clients
from tracker.core.store.library import Library
from tracker.rendering.report import export_report

SECRET = "SecretPhoneModel-GPS"


def _photo(path: Path, taken: str, seed: int) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = taken
    exif[0x0110] = SECRET
    Image.effect_noise((640, 480), 30 + seed).convert("RGB").save(
        path, exif=exif, comment=SECRET.encode()
    )
    return path


@pytest.fixture
def reported(library: Library, tmp_path: Path) -> Library:

    clients.update_client(library, browse.clients(library)[0].id, name="Ana <b>&amp;</b> Lima")
    days = ["2025:01:06", "2025:02:03", "2025:03:03"]
    files = [_photo(tmp_path / f"p{i}.jpg", f"{d} 10:00:00", i) for i, d in enumerate(days)]
    h.import_files(library, files, area="Lower abdomen")
    for i, d in enumerate(days):
        day = dt.date.fromisoformat(d.replace(":", "-"))
        h.rate(
            library,
            client=None,
            area="Lower abdomen",
            day=day,
            role=RaterRole.PATIENT,
            values={"colour": 8 - i, "texture": 7, "depth": 6 - i},
        )
        if i:
            h.add_visit(
                library,
                client=None,
                day=day,
                area="Lower abdomen",
                treatment=TreatmentInput(device="pen", needle_depth_mm=1.5, topical="PRP"),
            )
    return library


def _read(path: Path) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    # Extracted text breaks lines and spaces words its own way: compare without whitespace.
    text = "".join("".join(page.extract_text() for page in reader.pages).split())
    return reader, text


def test_report_text_pages_and_images(
    qapp: QApplication, reported: Library, tmp_path: Path
) -> None:
    out = tmp_path / "report.pdf"
    export_report(reported, out, client_id=h.only_client(reported))
    reader, text = _read(out)
    assert len(reader.pages) >= 2
    for words in (
        "Treatment progress: Ana <b>&amp;</b> Lima",
        "Lower abdomen",
        "Sessions done",
        "Change from baseline",
        "Visits",
        "06 Jan 2025",
        "pen, 1.5 mm",
        "PRP",
    ):
        assert "".join(words.split()) in text, words
    images = [im for page in reader.pages for im in page.images]
    assert len(images) >= 2  # the baseline/latest photos and the chart
    sizes = sorted(Image.open(io.BytesIO(im.data)).size for im in images)
    assert (2000, 1000) in sizes  # the chart, at print resolution
    # Each page ends with its number.
    for n, page in enumerate(reader.pages, start=1):
        assert page.extract_text().split()[-1] == str(n)
    data = out.read_bytes()
    assert SECRET.encode() not in data and b"Exif" not in data
    assert reader.metadata is not None and reader.metadata.title == "Treatment progress report"


def test_report_letter_and_refusals(qapp: QApplication, reported: Library, tmp_path: Path) -> None:
    out = tmp_path / "letter.pdf"
    export_report(reported, out, client_id=h.only_client(reported), page="letter")
    box = pypdf.PdfReader(str(out)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    with pytest.raises(UsageError, match=r"ending in \.pdf"):
        export_report(reported, tmp_path / "r.doc", client_id=h.only_client(reported))
    with pytest.raises(UsageError, match="no area with id 999 among"):
        export_report(reported, tmp_path / "r.pdf", client_id=h.only_client(reported), area_id=999)
    assert not (tmp_path / "r.pdf").exists()


def test_cli_report_and_csv(reported: Library, tmp_path: Path) -> None:
    lib = str(reported.root)
    reported.close()
    pdf = tmp_path / "cli.pdf"
    result = run_cli("--library", lib, "export", "report", str(pdf), "--area", "Lower abdomen")
    assert result.returncode == 0, result.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    csv_out = tmp_path / "cli.csv"
    result = run_cli("--library", lib, "export", "csv", str(csv_out), "--json")
    assert result.returncode == 0 and '"rows": 9' in result.stdout
    bad = run_cli(
        "--library", lib, "export", "report", str(tmp_path / "x.pdf"), "--client", "Nobody"
    )
    assert bad.returncode == 2 and "no client named 'Nobody'" in bad.stderr


def test_chart_ticks_sit_on_the_scale_values(qapp: QApplication, reported: Library) -> None:
    from PySide6.QtCharts import QValueAxis
    from PySide6.QtCore import Qt

    from tracker.core.queries.progress import progress
    from tracker.rendering.chart import build_chart

    area = browse.areas(reported, browse.clients(reported)[0].id)[0].id
    chart = build_chart(progress(reported, area))
    y = chart.axes(Qt.Orientation.Vertical)[0]
    assert isinstance(y, QValueAxis)
    assert y.tickType() == QValueAxis.TickType.TicksDynamic
    assert (y.tickAnchor(), y.tickInterval()) == (1, 1)  # ticks at 1, 2, ... 10
