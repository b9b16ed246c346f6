"""Which files are photos this app imports, told from their first bytes (never their names).

A format is settled here before any decoder sees the file, and the decoders are then
restricted to it; what is refused gets a sentence naming what the file is.
"""

from __future__ import annotations

import threading

from tracker.core.errors import ImageRejected

_heif_ready = False
_heif_lock = threading.Lock()


def ensure_heif() -> None:
    """Load the HEIC/HEIF decoder the first time one is met (it costs start-up time otherwise)."""
    global _heif_ready
    with _heif_lock:
        if not _heif_ready:
            import pillow_heif  # 45 ms of start-up for every photo that is not a HEIC

            pillow_heif.register_heif_opener()
            _heif_ready = True


ACCEPTED = "only JPEG, PNG, HEIC/HEIF, WebP and TIFF photos can be imported"

# Pillow format name -> extension used in the store.
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "HEIF": "heic", "WEBP": "webp", "TIFF": "tif"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"}
_VIDEO_BRANDS = {b"isom", b"iso2", b"mp41", b"mp42", b"qt  ", b"M4V ", b"3gp4", b"3gp5", b"avc1"}


def sniff(head: bytes) -> str:
    """The Pillow format name of an accepted file, from its first bytes; else ImageRejected."""
    if not head:
        raise ImageRejected("the file is empty")
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        if head[8:10] == b"CR":
            raise not_accepted("a Canon raw file (CR2); export a JPEG from it first")
        return "TIFF"
    if head[4:8] == b"ftyp":
        return _sniff_iso_bmff(head)
    raise not_accepted(_describe_other(head))


def _sniff_iso_bmff(head: bytes) -> str:
    box_size = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    brands = {major} | compatible
    if major in (b"avif", b"avis"):
        raise not_accepted("an AVIF image")
    if major == b"crx ":
        raise not_accepted("a Canon raw file (CR3); export a JPEG from it first")
    if brands & _HEIF_BRANDS:
        return "HEIF"
    if brands & _VIDEO_BRANDS:
        raise not_accepted("a video")
    raise not_accepted("an ISO media file of an unsupported kind")


def _describe_other(head: bytes) -> str:
    signatures: list[tuple[bytes, str]] = [
        (b"GIF8", "a GIF image"),
        (b"%PDF", "a PDF document"),
        (b"%!PS", "a PostScript (EPS) file"),
        (b"\xc5\xd0\xd3\xc6", "a PostScript (EPS) file"),
        (b"BM", "a BMP image"),
        (b"PK\x03\x04", "a ZIP archive"),
        (b"8BPS", "a Photoshop document"),
        (b"\x00\x00\x01\x00", "an icon file"),
        (b"\xff\x0a", "a JPEG XL image"),
        (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image"),
        (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
        (b"\x1f\x8b", "a compressed (gzip) file"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xbc\xaf", "a 7-Zip archive"),
    ]
    for magic, description in signatures:
        if head.startswith(magic):
            return description
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<svg", b"<?xml")):
        return "an SVG or XML document"
    if stripped.startswith((b"<!doctype html", b"<html")):
        return "a web page"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return "not in any image format this app recognises"
    if all(ch.isprintable() or ch in "\t\r\n" for ch in text):
        return "a text file, not a photo"
    return "not in any image format this app recognises"


def not_accepted(what: str) -> ImageRejected:
    return ImageRejected(f"it is {what}; {ACCEPTED}")


def format_label(fmt: str) -> str:
    """A format's name as people know it."""
    return {"HEIF": "HEIC/HEIF", "WEBP": "WebP"}.get(fmt, fmt)
