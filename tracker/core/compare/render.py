"""Comparison images for export: photos side by side, wiped, overlaid or differenced, aligned and
colour-balanced as stored, with a label under each, and no metadata from any source photo.

Built from the screen-size previews (up to 2048 px on the long side) unless a larger export is
asked for (``max_side`` above 2048), which reads the originals. The same geometry
(``placement``) is used by the compare window.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFont

from tracker.core.errors import NotFoundError, UsageError, ValidationError
from tracker.core.files import refuse_inside, write_atomically
from tracker.core.imaging import decode as imaging
from tracker.core.imaging import geometry as al
from tracker.core.imaging.decode import encode_jpeg
from tracker.core.queries.browse import compare_photos
from tracker.core.queries.rows import ComparePhoto
from tracker.core.store.library import Library

MODES = ("side", "wipe", "overlay", "difference")
FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
GAP = 8
BACKGROUND = (32, 32, 32)
TEXT = (235, 235, 235)


log = logging.getLogger(__name__)

MIN_SIDE, MAX_SIDE = 256, 8192


def full_size(photos: Sequence[ComparePhoto]) -> int:
    """The ``max_side`` that exports the photos at their own size (within the limits)."""
    return max(MIN_SIDE, min(MAX_SIDE, max(max(p.width, p.height) for p in photos)))


def _source(lib: Library, photo: ComparePhoto, max_side: int) -> Image.Image:
    """The photo upright at (at least) the size asked for: its preview, or its original when
    the preview is smaller than both the size asked for and the photo itself."""
    if max_side > imaging.PREVIEW_SIZE and max(photo.width, photo.height) > imaging.PREVIEW_SIZE:
        try:
            return lib.original_image(photo.sha256, max_side)
        except NotFoundError:  # the original is lost: its cached preview still shows it
            log.warning("A full-size export used a preview: the photo's original is missing")
    with Image.open(io.BytesIO(lib.derived("previews", photo.sha256))) as src:
        return src.convert("RGB")


@dataclass(frozen=True)
class CompareOptions:
    mode: str = "side"
    aligned: bool = False
    labels: bool = True
    ratings: bool = False  # each photo's ratings under its label, as the window shows them
    caption: str = ""
    wipe: float = 0.5  # where the divider is, as a fraction of the width
    opacity: float = 0.5  # of the second photo in an overlay
    amplify: float = 4.0  # difference is multiplied by this
    # Of each pane, in pixels. Up to the preview size (2048) the previews are used; above it
    # the originals are read, for a full-size export.
    max_side: int = 1600

    def check(self, n_photos: int) -> None:
        if self.mode not in MODES:
            raise UsageError(
                f"Unknown comparison mode '{self.mode}'; use one of {', '.join(MODES)}."
            )
        if self.mode == "side" and not 2 <= n_photos <= 4:
            raise UsageError(f"Side by side shows 2 to 4 photos; {n_photos} were given.")
        if self.mode != "side" and n_photos != 2:
            raise UsageError(
                f"The {self.mode} mode compares exactly 2 photos; {n_photos} were given."
            )
        if not 0 <= self.wipe <= 1 or not 0 <= self.opacity <= 1:
            raise ValidationError("The wipe position and the opacity are between 0 and 1.")
        if not 1 <= self.amplify <= 20:
            raise ValidationError("The difference can be amplified 1 to 20 times.")
        if len(self.caption) > 300:
            raise ValidationError("The caption is longer than 300 characters.")
        if not MIN_SIDE <= self.max_side <= MAX_SIDE:
            raise ValidationError(
                f"The export size is {MIN_SIDE} to {MAX_SIDE} pixels on each photo's long side; "
                f"{self.max_side} was given."
            )


def placement(photos: Sequence[ComparePhoto], aligned: bool) -> list[al.Matrix]:
    """For each photo, the transform from its upright pixels to the first photo's upright pixels.

    Aligned, a photo goes through its stored transform to the reference and back out through the
    first photo's; a photo without one (or with ``aligned`` off) is scaled to the first's height
    and centred on it, as an unaligned side-by-side export shows it (a portrait beside a
    landscape stays whole).
    """
    first = photos[0]

    def to_reference(p: ComparePhoto) -> al.Matrix | None:
        if p.alignment is not None:
            return p.alignment.matrix
        return al.IDENTITY if p.is_reference else None

    first_ref = to_reference(first) if aligned else None
    out = []
    for p in photos:
        own = to_reference(p) if aligned else None
        if p is first:
            out.append(al.IDENTITY)
        elif first_ref is not None and own is not None:
            out.append(al.compose(al.invert(first_ref), own))
        else:
            k = first.height / p.height  # centred on the first photo
            out.append(al.affine_matrix(k, 0.0, (first.width - p.width * k) / 2, 0.0, k, 0.0))
    return out


def apply_gains(im: Image.Image, gains: al.Gains | None) -> Image.Image:
    """A photo with its stored per-channel colour gains applied (unchanged without gains)."""
    if gains is None or gains == al.NO_GAINS:
        return im
    bands = [
        band.point(lambda v, g=g: min(255, round(v * g)))
        for band, g in zip(im.split(), gains, strict=True)
    ]
    return Image.merge("RGB", bands)


def _pane(
    lib: Library, photo: ComparePhoto, to_first: al.Matrix, size: tuple[int, int], k: float
) -> Image.Image:
    """The photo drawn in the first photo's frame, scaled by ``k`` to the pane's ``size``."""
    preview = _source(lib, photo, max(size))
    pw, ph = preview.size
    # preview px → upright px → first photo's px → pane px
    total = al.compose(
        al.scale(k), al.compose(to_first, al.scale(photo.width / pw, photo.height / ph))
    )
    inverse = al.invert(total)  # Pillow maps each output pixel back to the input
    method = Image.Transform.AFFINE if al.is_affine(inverse) else Image.Transform.PERSPECTIVE
    data = inverse[:6] if al.is_affine(inverse) else inverse[:8]
    drawn = preview.transform(size, method, data, Image.Resampling.BICUBIC, fillcolor=BACKGROUND)
    return apply_gains(drawn, photo.colour_gains)


def _whole(lib: Library, photo: ComparePhoto, height: int) -> Image.Image:
    """The whole photo, upright, ``height`` pixels tall, with its colour balance."""
    width = max(1, round(photo.width * height / photo.height))
    preview = _source(lib, photo, max(width, height))
    return apply_gains(
        preview.resize((width, height), Image.Resampling.BICUBIC), photo.colour_gains
    )


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> list[str]:
    words, lines, line = text.split(" "), [], ""
    for word in words:
        trial = f"{line} {word}" if line else word
        if line and font.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return [*lines, line] if line else lines


def _text_block(width: int, lines: Sequence[str], size: int) -> Image.Image:
    font = _font(size)
    lines = [part for line in lines for part in _wrap(line, font, width - 20)]
    height = (size + 8) * len(lines) + 8
    block = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(block)
    for i, line in enumerate(lines):
        draw.text((10, 6 + i * (size + 8)), line, fill=TEXT, font=font)
    return block


def render(lib: Library, photo_ids: Sequence[int], options: CompareOptions) -> Image.Image:
    options.check(len(photo_ids))
    photos = compare_photos(lib, photo_ids)
    first = photos[0]
    k = min(1.0, options.max_side / max(first.width, first.height))
    size = (max(1, round(first.width * k)), max(1, round(first.height * k)))
    font_size = max(14, size[0] // 45)
    to_first = placement(photos, options.aligned)
    if options.mode == "side":
        return _side_by_side(lib, photos, to_first, options, size, k, font_size)
    panes = [_pane(lib, p, m, size, k) for p, m in zip(photos, to_first, strict=True)]
    a, body = panes
    if options.mode == "wipe":
        cut = round(size[0] * options.wipe)
        body.paste(a.crop((0, 0, cut, size[1])), (0, 0))
        ImageDraw.Draw(body).line(
            [(cut, 0), (cut, size[1])], fill=(255, 255, 255), width=max(2, size[0] // 400)
        )
        lines = [f"Left: {photos[0].label()}", f"Right: {photos[1].label()}"]
    elif options.mode == "overlay":
        body = Image.blend(a, body, options.opacity)
        lines = [f"{photos[0].label()}  +  {photos[1].label()} at {round(options.opacity * 100)}%"]
    else:
        body = ImageChops.difference(a, body).point(lambda v: min(255, round(v * options.amplify)))
        lines = [f"Difference (x{options.amplify:g}): {photos[0].label()}  vs  {photos[1].label()}"]
    if options.ratings:
        lines += [f"{p.visit_date:%d %b %Y}: {line}" for p in photos for line in p.ratings]
    if not options.labels:
        lines = []
    if options.caption.strip():
        lines.append(options.caption.strip())
    if not lines:
        return body
    text = _text_block(body.width, lines, font_size)
    out = Image.new("RGB", (body.width, body.height + text.height), BACKGROUND)
    out.paste(body, (0, 0))
    out.paste(text, (0, body.height))
    return out


def _side_by_side(
    lib: Library,
    photos: Sequence[ComparePhoto],
    to_first: Sequence[al.Matrix],
    options: CompareOptions,
    size: tuple[int, int],
    k: float,
    font_size: int,
) -> Image.Image:
    """Photos in a row, each labelled, the caption under all. The picture is laid out first
    and each pane pasted in as it is made, so a full-size export of four large photos holds
    one pane at a time besides the result."""
    if options.aligned:
        sizes = [size] * len(photos)
    else:
        # Not aligned, each photo is shown whole at one height, at which no pane is larger
        # than max_side or its own photo: a portrait beside a landscape keeps its shape.
        height = min(
            size[1],
            *(
                max(1, round(min(p.height, options.max_side * p.height / max(p.width, p.height))))
                for p in photos
            ),
        )
        sizes = [(max(1, round(p.width * height / p.height)), height) for p in photos]
    labels = [
        _text_block(w, [p.label(), *(p.ratings if options.ratings else ())], font_size)
        if options.labels
        else None
        for p, (w, _h) in zip(photos, sizes, strict=True)
    ]
    body_height = max(h + (t.height if t else 0) for (_w, h), t in zip(sizes, labels, strict=True))
    width = sum(w for w, _h in sizes) + GAP * (len(photos) - 1)
    caption = options.caption.strip()
    under = _text_block(width, [caption], font_size) if caption else None
    out = Image.new("RGB", (width, body_height + (under.height if under else 0)), BACKGROUND)
    x = 0
    for photo, m, (w, h), label in zip(photos, to_first, sizes, labels, strict=True):
        pane = _pane(lib, photo, m, size, k) if options.aligned else _whole(lib, photo, h)
        out.paste(pane, (x, 0))
        del pane
        if label is not None:
            out.paste(label, (x, h))
        x += w + GAP
    if under is not None:
        out.paste(under, (0, body_height))
    return out


def encode(image: Image.Image, fmt: str) -> bytes:
    """PNG or JPEG bytes carrying nothing but pixels: no EXIF, XMP, ICC, text or comment."""
    bare = image
    if image.mode != "RGB" or image.info:  # anything but bare pixels: copy the pixels only
        bare = Image.new("RGB", image.size)
        bare.paste(image.convert("RGB"), (0, 0))
    if fmt == "JPEG":
        return encode_jpeg(bare, quality=92)
    out = io.BytesIO()
    bare.save(out, "PNG", optimize=False)
    return out.getvalue()


def output_format(out: Path) -> str:
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"{out.name}: the comparison is written as .png or .jpg; choose one of those names."
        )
    if not out.parent.is_dir():
        raise UsageError(f"The folder {out.parent} does not exist.")
    return fmt


def export(
    lib: Library, photo_ids: Sequence[int], out: Path, options: CompareOptions
) -> dict[str, object]:
    fmt = output_format(out)
    refuse_inside(None if lib.server else lib.root, out)
    image = render(lib, photo_ids, options)
    write_atomically(out, encode(image, fmt))
    return {
        "file": str(out),
        "width": image.width,
        "height": image.height,
        "mode": options.mode,
        "photos": list(photo_ids),
    }
