"""Reading one file for import, on a worker thread: read once, sniffed, hashed, decoded at
thumbnail size, its thumbnail cached, its capture checks measured and the calibration card
looked for on that decode (``imaging.quality``), and its original staged durably in ``tmp/``.
Recording it is the calling thread's (``services.imports``), which judges the checks against
the reference photo of the photo's area and view (``judge_capture``)."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy.orm import Session

from tracker.core.db.models import Photo
from tracker.core.errors import ImageRejected, LibraryError
from tracker.core.imaging import decode as imaging
from tracker.core.imaging.exif import capture_time_from_mtime
from tracker.core.imaging.facts import CaptureTime
from tracker.core.imaging.formats import sniff
from tracker.core.queries.capture import reference_of
from tracker.core.store.library import Library

if TYPE_CHECKING:
    from PIL import Image

    from tracker.core.imaging.quality import Measures

log = logging.getLogger(__name__)


@dataclass
class Prepared:
    """What a worker hands back for one file: a staged original ready to be recorded."""

    file: str
    sha256: str
    decoded: imaging.DecodedPhoto
    staged: Path
    file_time: CaptureTime | None
    measures: Measures | None = None  # None when they could not be made (logged)


@dataclass
class SameAsOther:
    """The file's bytes equal another file's in this batch (or one already stored)."""

    file: str
    sha256: str


class Claims:
    """Which content hashes are taken, shared by the worker threads of one batch.

    When two files in a batch have the same bytes, the one given first is imported and the
    other reported as its duplicate, whichever thread happens to hash first.
    """

    def __init__(self, stored: set[str]) -> None:
        self._stored = stored
        self._first: dict[str, int] = {}
        self._lock = threading.Lock()

    def claim(self, sha256: str, index: int) -> bool:
        with self._lock:
            if sha256 in self._stored or self._first.get(sha256, index) < index:
                return False
            self._first[sha256] = index
            return True


def read_failure(exc: OSError) -> ImageRejected:
    """Why a file offered for import could not be read, by the kind of OS error."""
    if isinstance(exc, IsADirectoryError):
        return ImageRejected("it is a folder, not a file")
    if isinstance(exc, FileNotFoundError):
        return ImageRejected("the file does not exist")
    if isinstance(exc, PermissionError):
        return ImageRejected("the file cannot be read (permission denied)")
    return ImageRejected(f"the file cannot be read ({exc.strerror or 'input/output error'})")


MAX_PHOTO_BYTES = 200 * 1000 * 1000
"""The largest file import reads: more than any real photo (a 200-megapixel JPEG is about
60 MB), so that memory stays bounded whatever is offered (``/dev/zero``, a sparse file of
gigabytes with a photo's header)."""


@contextmanager
def open_photo_file(path: Path) -> Iterator[tuple[BinaryIO, os.stat_result]]:
    """A file offered for import, open for reading with what ``fstat`` says of it, or
    ImageRejected: only a regular file is opened (a pipe, a device or a socket is refused
    before anything is read, so nothing hangs), and only one of at most ``MAX_PHOTO_BYTES``."""
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(path)
        if not stat.S_ISREG(mode):
            raise ImageRejected("it is not a file but a device, pipe or socket")
        # Non-blocking, so that a pipe put in the file's place since cannot hang the open.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise ImageRejected("it is not a file but a device, pipe or socket")
            if info.st_size > MAX_PHOTO_BYTES:
                raise ImageRejected(
                    f"it is {info.st_size / 1e6:,.0f} MB, larger than any photo "
                    f"(the most this app reads is {MAX_PHOTO_BYTES / 1e6:.0f} MB)"
                )
            yield fh, info
    except OSError as exc:
        raise read_failure(exc) from exc


def read_photo_file(path: Path) -> tuple[bytes, float]:
    """The bytes and modification time of a file offered for import (``open_photo_file``)."""
    with open_photo_file(path) as (fh, info):
        data = fh.read(MAX_PHOTO_BYTES + 1)
    if len(data) > MAX_PHOTO_BYTES:  # it grew while being read
        raise ImageRejected(f"it is larger than {MAX_PHOTO_BYTES / 1e6:.0f} MB")
    return data, info.st_mtime


def prepare(lib: Library, path: Path, index: int, claims: Claims) -> Prepared | SameAsOther:
    name = str(path)
    data, mtime = read_photo_file(path)
    sniff(data[:64])  # refuse non-photos before spending a hash on them
    sha256 = hashlib.sha256(data).hexdigest()
    if not claims.claim(sha256, index):
        return SameAsOther(name, sha256)
    decoded = imaging.decode(data, pixels=True)
    measures = _measure(decoded, lambda side: imaging.load_upright(data, side))
    staged = lib.store.stage_original(data, sha256, decoded.ext)
    # The cache is written here, on the worker threads, in parallel. Should the photo then not
    # be recorded, its cache files are harmless: the cache holds nothing that is not rebuilt.
    try:
        lib.store.write_cache("thumbs", sha256, decoded.thumbnail)
        if decoded.preview is not None:
            lib.store.write_cache("previews", sha256, decoded.preview)
    except LibraryError:
        log.warning("Could not write the cache for a photo; it will be rebuilt when needed")
    return Prepared(name, sha256, decoded, staged, capture_time_from_mtime(mtime), measures)


def _measure(
    decoded: imaging.DecodedPhoto, larger: Callable[[int], Image.Image]
) -> Measures | None:
    """The capture checks' measures and the card, from the pixels the decode kept (then let
    go). They only warn, so a failure costs the checks, never the photo."""
    pixels, decoded.pixels = decoded.pixels, None
    if pixels is None:
        return None
    # start-up time: OpenCV and numpy are loaded by the first import, not with the app
    from tracker.core.imaging import quality

    try:
        return quality.measure(pixels, (decoded.width, decoded.height), larger)
    except Exception as exc:
        log.warning("The capture checks of a photo could not be made", exc_info=exc)
        return None


def judge_capture(s: Session, photo: Photo, measures: Measures) -> None:
    """Store the photo's capture checks (``photo.quality``), judged against the reference of
    its area and view, and what its calibration card told: ``photo.card``, ``px_per_mm``, and
    ``colour_gains`` from the card (matching the reference's card's exposure when it has one;
    non-destructive, the compare window resets them)."""
    # start-up time: loaded by the workers already; the window loads no OpenCV before an import
    from tracker.core.imaging import quality

    reference = reference_of(s, photo.area_id, photo.view)
    ref_card: dict[str, Any] | None = reference.card if reference is not None else None
    photo.quality = quality.judge(
        measures,
        reference.id if reference is not None else None,
        quality.reference_sharpness(reference.quality) if reference is not None else None,
    )
    if measures.card is None:
        return
    photo.card = measures.card
    photo.px_per_mm = float(measures.card["px_per_mm"])
    gains = quality.gains_for(measures.card, ref_card)
    if gains is not None:
        photo.colour_gains = list(gains)


def discard(lib: Library, *futures: Future[Prepared | SameAsOther]) -> None:
    """Drop work that will not be recorded (cancel or failure), removing staged originals."""
    for future in futures:
        future.cancel()
    for future in futures:
        if future.cancelled():
            continue
        try:
            outcome = future.result()
        except Exception:
            continue
        if isinstance(outcome, Prepared):
            lib.store.discard_staged(outcome.staged)
            # Its thumbnail and preview were written for a photo that will not be recorded
            # (its sha256 was claimed as new, so no stored photo shares them).
            lib.store.drop_cache(outcome.sha256)
