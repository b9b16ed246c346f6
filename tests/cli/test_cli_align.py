"""`tracker align --auto | --landmarks FILE` and `tracker card` (docs/CLI.md): photos of
generated skin whose registration is known, aligned through the library's previews and
stored, points from a file (and bad files refused), and the printed card read back from its
own PDF."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pypdf
import pytest
from PIL import Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QSize
from PySide6.QtGui import QImage
from PySide6.QtPdf import QPdfDocument

from tests.conftest import REPO
from tests.core.imaging import synthetic as syn
from tracker.cli import main
from tracker.core.imaging import card
from tracker.core.queries import browse
from tracker.core.store.library import Library

SIZE = (960, 720)


def _jpeg(path: Path, image: Image.Image, day: str) -> Path:
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = f"{day.replace('-', ':')} 10:00:00"
    image.save(path, "JPEG", quality=92, exif=exif)
    return path


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], np.ndarray]:
    """Belly, front: the baseline, the same skin taken again a month later (its truth
    returned), and another person's skin the month after."""
    folder = tmp_path_factory.mktemp("align")
    again = syn.pair(11, SIZE)
    other = syn.unrelated_pair(1, SIZE)
    files = [
        _jpeg(folder / "a.jpg", again.reference, "2026-01-05"),
        _jpeg(folder / "b.jpg", again.photo, "2026-02-02"),
        _jpeg(folder / "c.jpg", other.photo, "2026-03-02"),
    ]
    assert again.truth is not None
    return files, again.truth


@pytest.fixture
def library(tmp_path: Path, shots: tuple[list[Path], np.ndarray]) -> tuple[Path, np.ndarray]:
    root = tmp_path / "lib"
    assert main(["--library", str(root), "import", *map(str, shots[0]), "--area", "Belly"]) == 0
    return root, shots[1]


def _align(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(["--library", str(root), "--json", "align", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def _listed(root: Path, capsys: pytest.CaptureFixture[str]) -> dict[int, Any]:
    capsys.readouterr()
    assert main(["--library", str(root), "--json", "list", "photos"]) == 0
    return {p["id"]: p for p in json.loads(capsys.readouterr().out)}


def _stored(root: Path, photo_id: int) -> Any:
    with Library.open(root, allow_read_only=True) as lib:
        return browse.compare_photos(lib, [photo_id])[0].alignment


def test_photos_are_aligned_to_their_reference_stored_or_refused_with_a_reason(
    library: tuple[Path, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    root, truth = library
    code, out = _align(root, capsys, "1", "2", "3", "--auto")
    assert code == 1  # one photo could not be aligned
    reference, again = out["aligned"]
    assert reference == {
        "photo_id": 1,
        "reference_id": 1,
        "matrix": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
        "method": "reference",
        "model": "identity",
        "inliers": 0,
        "matches": 0,
        "residual_px": 0.0,
        "quality": "exact",
    }
    assert again["photo_id"] == 2 and again["reference_id"] == 1
    assert again["method"] == "auto" and again["model"] in ("similarity", "affine", "homography")
    assert again["inliers"] >= 100 and again["quality"] in ("good", "fair")
    assert again["matches"] >= again["inliers"]
    found = np.array(again["matrix"]).reshape(3, 3)
    error = syn.corner_error(found, truth, SIZE) / math.hypot(*SIZE)
    assert error <= 0.001, f"corner error {error:.4%} of the diagonal"
    assert 0 < again["residual_px"] < 2
    (failed,) = out["failed"]
    assert failed["photo_id"] == 3
    assert failed["error"].startswith("Photo 3 was not aligned to photo 1: ")
    assert "landmarks" in failed["error"]
    # stored: photo 2 with how it was made, nothing for the reference or the refused one
    stored = _stored(root, 2)
    assert list(stored.matrix) == pytest.approx(again["matrix"], abs=1e-9)
    assert (stored.method, stored.model, stored.points) == (
        "auto",
        again["model"],
        again["inliers"],
    )
    assert _stored(root, 1) is None and _stored(root, 3) is None
    listed = _listed(root, capsys)
    assert listed[2]["alignment"] == pytest.approx(again["matrix"], abs=1e-9)
    assert listed[1]["alignment"] is None


def test_a_photo_is_aligned_to_the_one_given_and_the_text_says_what_was_stored(
    library: tuple[Path, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _truth = library
    assert main(["--library", str(root), "align", "2", "--auto"]) == 0
    text = capsys.readouterr().out
    assert "Photo 2 → photo 1: Aligned automatically: " in text
    assert "skin features agree within" in text and "Stored 1 alignment" in text
    code, out = _align(root, capsys, "1", "--to", "2", "--auto")
    assert code == 0 and out["failed"] == []
    (entry,) = out["aligned"]  # the reference stays the reference
    assert entry["method"] == "reference" and _stored(root, 1) is None
    assert main(["--library", str(root), "align", "3", "--to", "2", "--auto"]) == 1
    assert "Photo 3 was not aligned to photo 2" in capsys.readouterr().out  # another person
    assert _stored(root, 3) is None


def test_align_asks_how_and_refuses_what_is_not_there(
    library: tuple[Path, np.ndarray], capsys: pytest.CaptureFixture[str]
) -> None:
    root, _truth = library
    with pytest.raises(SystemExit) as usage:
        main(["--library", str(root), "align", "2"])
    assert usage.value.code == 2
    assert "--auto" in capsys.readouterr().err
    assert main(["--library", str(root), "align", "2", "--to", "99", "--auto"]) == 2
    assert "There is no photo with id 99" in capsys.readouterr().err
    assert main(["--library", str(root), "align", "two", "--auto"]) == 2
    capsys.readouterr()


def test_landmarks_from_a_file_are_fitted_and_stored(
    library: tuple[Path, np.ndarray], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root, truth = library
    marks = np.array([[120.0, 100.0], [800.0, 140.0], [760.0, 600.0], [150.0, 650.0]])
    inverse = np.linalg.inv(truth)  # the reference's points seen in photo 2
    theirs = syn.apply(inverse / inverse[2, 2], marks)
    path = tmp_path / "marks.json"
    path.write_text(json.dumps({"1": marks.tolist(), "2": theirs.tolist()}))
    code, out = _align(root, capsys, "2", "--landmarks", str(path))
    assert code == 0 and out["failed"] == []
    (entry,) = out["aligned"]
    assert entry["method"] == "landmarks" and entry["inliers"] == 4
    assert entry["residual_px"] < 0.5
    found = np.array(entry["matrix"]).reshape(3, 3)
    assert syn.corner_error(found, truth, SIZE) / math.hypot(*SIZE) <= 0.002
    stored = _stored(root, 2)
    assert stored.method == "landmarks" and stored.points == 4
    assert main(["--library", str(root), "align", "2", "--landmarks", str(path)]) == 0
    assert "Aligned on 4 points; they agree within 1 pixel." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json {", "is not JSON"),
        ("[1, 2]", "no object of photo ids"),
        ('{"x": [[1, 2], [3, 4]]}', "'x' is not a photo id"),
        ('{"1": [[1, 2], [3, 4]], "2": [[1, 2]]}', "needs a list of 2 to 100 points"),
        ('{"1": [[1, 2], [3, 4]], "2": [[1, 2], [3, "4"]]}', "where a point [x, y]"),
        ('{"1": [[1, 2], [3, NaN]], "2": [[1, 2], [3, 4]]}', "where a point [x, y]"),
        ('{"1": [[1, 2], [3, 4], [5, 9]], "2": [[1, 2], [3, 4]]}', "the same number of points"),
    ],
)
def test_a_bad_landmarks_file_is_refused_with_a_sentence(
    library: tuple[Path, np.ndarray],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    content: str,
    words: str,
) -> None:
    root, _truth = library
    path = tmp_path / "marks.json"
    path.write_text(content)
    assert main(["--library", str(root), "align", "2", "--landmarks", str(path)]) == 2
    assert words in capsys.readouterr().err
    assert _stored(root, 2) is None


def test_landmarks_for_a_missing_photo_or_outside_it_fail_that_photo(
    library: tuple[Path, np.ndarray], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root, _truth = library
    path = tmp_path / "marks.json"
    path.write_text(json.dumps({"1": [[10, 10], [500, 40]], "2": [[12, 9], [5000, 40]]}))
    code, out = _align(root, capsys, "2", "3", "--landmarks", str(path))
    assert code == 1 and out["aligned"] == []
    errors = {f["photo_id"]: f["error"] for f in out["failed"]}
    assert "(5000, 40) is outside photo 2" in errors[2]
    assert "There are no points for photo 3" in errors[3]
    big = tmp_path / "big.json"
    big.write_text(" " * 1_000_001)
    assert main(["--library", str(root), "align", "2", "--landmarks", str(big)]) == 2
    assert "the most is 1,000,000" in capsys.readouterr().err
    missing = tmp_path / "none.json"
    assert main(["--library", str(root), "align", "2", "--landmarks", str(missing)]) == 2
    assert "cannot be read" in capsys.readouterr().err


def _render(pdf: bytes, dpi: int) -> Image.Image:
    """The PDF's first page as Qt's PDF module draws it at ``dpi``."""
    data = QByteArray(pdf)
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    document = QPdfDocument()
    document.load(buffer)
    points = document.pagePointSize(0)
    size = QSize(round(points.width() * dpi / 72), round(points.height() * dpi / 72))
    image = document.render(0, size).convertToFormat(QImage.Format.Format_RGB888)
    rows = bytes(image.constBits())
    return Image.frombytes(
        "RGB", (image.width(), image.height()), rows, "raw", "RGB", image.bytesPerLine()
    )


@pytest.mark.parametrize(("paper", "points"), [("a4", (595, 842)), ("letter", (612, 792))])
def test_the_printed_card_is_at_true_size_and_its_patches_are_their_greys(
    qapp: object,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    paper: str,
    points: tuple[int, int],
) -> None:
    out = tmp_path / "card.pdf"
    assert main(["--json", "card", str(out), "--paper", paper.upper()]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result == {"file": str(out), "paper": paper, "bytes": out.stat().st_size}
    reader = pypdf.PdfReader(str(out))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == points
    text = " ".join(reader.pages[0].extract_text().split())
    assert "100 %" in text and "Fit to page" in text and "100 mm" in text
    found = card.find_card(_render(out.read_bytes(), 300))
    assert found.markers == 4
    assert found.px_per_mm == pytest.approx(300 / 25.4, rel=0.003)
    for patch in card.CARD.patches:
        assert found.patches[patch.name] == pytest.approx((patch.srgb,) * 3, abs=1.5)


def test_the_card_is_refused_under_another_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["card", str(tmp_path / "card.png")]) == 2
    assert "the card is a PDF" in capsys.readouterr().err
    assert not (tmp_path / "card.png").exists()


def test_listing_loads_neither_opencv_nor_numpy(tmp_path: Path) -> None:
    """Start-up time: only align and card pay for what they use."""
    code = (
        "import sys\n"
        "from tracker.cli import main\n"
        f"assert main(['--library', {str(tmp_path / 'lib')!r}, 'init']) == 0\n"
        f"assert main(['--library', {str(tmp_path / 'lib')!r}, 'list', 'clients']) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('cv2', 'numpy')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
