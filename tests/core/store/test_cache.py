"""Issue 16: what the library shows is what it holds. A thumbnail or preview is shown only
when it was made from the photo's own original; anything else in its place is made again."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from PIL import Image

from tests import helpers as h
from tracker.core.store.library import Library
from tracker.core.store.photos import CacheKind


def _two_photos(library: Library, tmp_path: Path) -> tuple[str, str]:
    files = []
    for n, colour in enumerate(((220, 40, 40), (40, 40, 220))):
        path = tmp_path / f"p{n}.png"  # a PNG's preview is made at import
        Image.new("RGB", (900, 600), colour).save(path)
        files.append(path)
    h.import_files(library, files, area="Hips")
    shas = [p["sha256"] for p in h.list_photos(library)]
    return shas[0], shas[1]


def _colour(jpeg: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(jpeg)) as im:
        r, g, b = im.convert("RGB").resize((1, 1)).getpixel((0, 0))  # type: ignore[misc]
        return int(r), int(g), int(b)


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, "JPEG")
    return out.getvalue()


def _cache(library: Library, kind: CacheKind, sha: str) -> Path:
    return library.root / "cache" / kind / sha[:2] / f"{sha}.jpg"


@pytest.mark.parametrize("kind", ["thumbs", "previews"])
@pytest.mark.folder_only(reason="cache")
def test_another_photos_file_planted_in_the_cache_is_never_shown(
    library: Library, tmp_path: Path, kind: CacheKind
) -> None:
    red, blue = _two_photos(library, tmp_path)
    assert _colour(library.derived(kind, red))[0] > 150  # red as imported
    # Blue's own cached file, and a plain JPEG of blue, each put in red's place.
    for planted in (
        _cache(library, kind, blue).read_bytes(),
        _jpeg((40, 40, 220)),
        os.urandom(5000),
        b"",
    ):
        _cache(library, kind, red).write_bytes(planted)
        shown = library.derived(kind, red)
        r, _g, b = _colour(shown)
        assert r > 150 and b < 100, planted[:16]
        assert library.store.read_cache(kind, red) == shown  # and it was made again


@pytest.mark.folder_only(reason="cache")
def test_a_folder_or_a_link_in_a_cache_files_place_is_not_followed(
    library: Library, tmp_path: Path
) -> None:
    red, _blue = _two_photos(library, tmp_path)
    path = _cache(library, "thumbs", red)
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(path.read_bytes())  # even a good thumbnail, reached by a link
    path.unlink()
    path.symlink_to(secret)
    assert library.store.read_cache("thumbs", red) is None
    assert _colour(library.derived("thumbs", red))[0] > 150
    assert not path.is_symlink() and secret.exists()  # the link was replaced, not its target
    path.unlink()
    path.mkdir()
    assert _colour(library.derived("thumbs", red))[0] > 150  # shown, though not cached
