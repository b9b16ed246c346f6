"""The PDF report, read back: its text, pages, embedded images, and nothing private."""

from __future__ import annotations

import datetime as dt
import io
import time
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
from tracker.core.queries import browse, listing
from tracker.core.services import clients
from tracker.core.services import visits as visit_service
from tracker.core.store.library import Library
from tracker.rendering.paged import Printer, crossings
from tracker.rendering.report import build_document, export_report

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
        "Sessions done: 2",
        "Colour, texture, depth",
        "Change from baseline: Ana <b>&amp;</b> Lima (patient)",
        "Colour 8 (06 Jan 2025) 6 (03 Mar 2025) −2 (−25%), better",
        "Visits",
        "06 Jan 2025",
        "pen, 1.5 mm",
        "PRP",
        "Every rating",
    ):
        assert "".join(words.split()) in text, words
    images = [im for page in reader.pages for im in page.images]
    assert len(images) == 2  # the baseline/latest photos and the one chart
    sizes = sorted(Image.open(io.BytesIO(im.data)).size for im in images)
    assert (2000, 750) in sizes  # the chart, at print resolution
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
    h.consent_to_care(reported)
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


def test_report_of_every_instrument_as_it_is_reported(
    qapp: QApplication, course: Library, tmp_path: Path
) -> None:
    client = h.only_client(course)
    clients.add_area(course, client, "Hips")
    out = tmp_path / "report.pdf"
    export_report(course, out, client_id=client)
    reader, text = _read(out)
    for words in (
        # An area without photos or ratings has not started: no numbers for it.
        "Hips Not started: there are no photos or ratings of this area yet.",
        "Sessions done: 3",
        "Days since baseline:",
        # Every instrument under its own name, with its chart.
        "Colour, texture, depth",
        "POSAS 2.0, patient scale",
        "POSAS 2.0, observer scale",
        "Global Aesthetic Improvement Scale",
        "Improvement since baseline (0–10)",
        # POSAS: the items' change per role, then the total (range shown) and overall opinion.
        "Change from baseline: the mean of Dr Kim and Dr Lee (practitioners)",
        "Pigmentation 7 (06 Jan 2025) 4 (31 Mar 2025) −3 (−42.9%), better",
        "Total (6–60) 33.5 (06 Jan 2025) 24.5 (31 Mar 2025) −9 (−26.9%), better",
        "Overall opinion (1–10) 7 (06 Jan 2025) 4 (31 Mar 2025) −3",
        # GAIS: how many at each grade, and the share improved.
        "Ratings at each grade",
        "03 Feb 2025 session 1 Dr Kim, Dr Lee (practitioners) – – 1 1 – 1 of 2 (50%)",
        "31 Mar 2025 session 3 Dr Kim, Dr Lee (practitioners) 1 1 – – – 2 of 2 (100%)",
        # The VAS as given.
        "Its value at each visit",
        "31 Mar 2025 session 3 6.5 of 10",
        # The visits with their notes, and every rating named.
        "tolerated well & asked about sun care <i>before</i> the next session.",
        "Dr Kim (practitioner) · POSAS observer: total 34 (6–60), overall 7",
        "Every rating",
        "06 Jan 2025 POSAS observer Dr Kim practitioner from photos Vascularity 7, "
        "Pigmentation 7, Thickness 5, Relief 6, Pliability 5, Surface area 4; total 34 (6–60); "
        "Overall opinion 7",
        "31 Mar 2025 GAIS Dr Lee practitioner in person 1 (very much improved)",
    ):
        assert "".join(words.split()) in text, words
    # Legends that need no key: no one-letter abbreviations, no doubled words.
    assert "P=" not in text and "scalescale" not in text
    sizes = [Image.open(io.BytesIO(im.data)).size for page in reader.pages for im in page.images]
    assert sizes.count((2000, 750)) == 5  # a chart for each rated instrument
    assert len(sizes) == 6  # and the baseline beside the latest photo


def test_the_photos_are_the_latest_of_the_reference_view_beside_its_baseline(
    qapp: QApplication, course: Library, tmp_path: Path
) -> None:
    from tests.rendering.conftest import DAYS, area_id, photo
    from tracker.core.compare.render import CompareOptions, render
    from tracker.core.services import photos as photo_service
    from tracker.rendering.images import pil_to_qimage
    from tracker.rendering.report import photo_pair

    area = area_id(course)
    left = [photo(tmp_path / f"left{i}.jpg", DAYS[i], 10 + i) for i in (0, 2)]
    h.import_files(course, left, area="Lower abdomen", view="left")
    ids = [p["id"] for p in h.list_photos(course) if p["view"] == "left"]
    # The front view is the most photographed: it is shown while no view has a reference.
    pair = photo_pair(course, area)
    assert pair is not None and pair[1] == "front"
    photo_service.set_reference_photo(course, area, "left", ids[0])
    photo_service.set_colour_gains(course, {ids[1]: (1.5, 1.0, 1.0)})
    pair = photo_pair(course, area)
    assert pair is not None and pair[1] == "left"
    # What "Compare with baseline" shows for the latest left photo, colour balance and all.
    partner = browse.baseline_partner(course, ids[1])
    assert partner == ids[0]
    options = CompareOptions(mode="side", aligned=True, max_side=1400)
    assert pair[0] == pil_to_qimage(render(course, [ids[0], ids[1]], options))
    image = pair[0]
    half = image.width() // 2

    def red(x0: int) -> float:
        points = [(x, y) for x in range(x0 + 20, x0 + half - 20, 17) for y in range(20, 200, 17)]
        return sum(image.pixelColor(x, y).red() for x, y in points) / len(points)

    assert red(half) > 1.25 * red(0)  # the latest photo's stored gains are applied


def test_a_long_report_keeps_every_row_on_one_page(
    qapp: QApplication, library: Library, tmp_path: Path
) -> None:
    """Forty visits with notes of many lengths: every visit's row, from the start of its notes
    to their end, is on one page of the PDF."""
    from tests.rendering.conftest import photo

    start = dt.date(2024, 1, 1)
    h.import_files(library, [photo(tmp_path / "p.jpg", start, 1)], area="Belly")
    for n in range(40):
        day = start + dt.timedelta(days=7 * (n + 1))
        words = " ".join(["settled"] * (5 + (n * 23) % 70))
        h.add_visit(
            library,
            day=day,
            notes=f"openof{n}q {words} closeof{n}q",
            area="Belly",
            treatment=TreatmentInput(device="pen", passes=2),
        )
        h.rate(
            library,
            area="Belly",
            day=day,
            role=RaterRole.PATIENT,
            values={"colour": 1 + n % 10, "texture": 5, "depth": 5},
        )
    # Laid out by Qt alone, some of these rows would start on one page and end on the next.
    printer = Printer("a4", "t", "t")
    raw, pieces = printer.build(build_document(library, h.only_client(library)))
    assert next(crossings(raw, pieces, printer.height), None) is not None
    out = tmp_path / "long.pdf"
    export_report(library, out, client_id=h.only_client(library))
    reader = pypdf.PdfReader(str(out))
    pages = ["".join(page.extract_text().split()) for page in reader.pages]
    assert len(pages) >= 4
    for n in range(40):
        first = [p for p, text in enumerate(pages) if f"openof{n}qsettled" in text]
        last = [p for p, text in enumerate(pages) if f"settledcloseof{n}q" in text]
        assert len(first) == 1 and first == last, (n, first, last)


def test_a_note_of_a_megabyte_keeps_the_report_to_seconds(
    qapp: QApplication, reported: Library, tmp_path: Path
) -> None:
    """Issue 16: a 1 MiB note took 309 s (it was laid out in a table cell, again and again).
    Its start is in the visits table, the first 20,000 characters under "Notes in full", and
    the report says where the rest is."""
    words = " ".join(f"word{n}" for n in range(200_000))[: 1 << 20]
    first = listing.visits(reported, None)[0]["id"]
    visit_service.update_visit(reported, first, notes="START " + words + " END")
    out = tmp_path / "long.pdf"
    started = time.monotonic()
    export_report(reported, out, client_id=h.only_client(reported))
    assert time.monotonic() - started < 20
    reader, text = _read(out)
    assert "STARTword0word1" in text and "Notesinfull" in text
    assert "morecharacters;thewholeofitisintheapp" in text and "END" not in text
    assert len(reader.pages) < 20
