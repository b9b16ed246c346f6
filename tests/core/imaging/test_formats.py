"""Telling what a file is from its bytes: camera raws of every common maker, videos, image
formats this app does not take, and the TIFFs and HEIFs whose structure says more than their
first bytes. Every file is made in code (tests/core/imaging/builders.py)."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, TiffImagePlugin

from tests.core.imaging import builders as b
from tracker.core.errors import ImageRejected
from tracker.core.imaging import bmff, formats, tiff
from tracker.core.imaging import decode as imaging
from tracker.core.imaging import exif as ex

ACCEPTED = "only JPEG, PNG, HEIC/HEIF, WebP and TIFF photos can be imported"
RAW_ADVICE = "; export a JPEG from it first"


def _refusal(data: bytes) -> str:
    with pytest.raises(ImageRejected) as info:
        imaging.decode(data)
    return str(info.value)


# -- camera raws ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"FUJIFILMCCD-RAW 0201FF383501", "Fujifilm RAF"),
        (b"II\x1a\x00\x00\x00HEAPCCDR\x02\x00\x01\x00", "Canon CRW"),
        (b"\x00MRM\x00\x00\x00\x20\x00PRD\x00\x00\x00\x18", "Minolta MRW"),
        (b"FOVb\x00\x00\x02\x00", "Sigma X3F"),
        (b"IIRO\x08\x00\x00\x00", "Olympus ORF"),
        (b"IIRS\x08\x00\x00\x00", "Olympus ORF"),
        (b"MMOR\x00\x00\x00\x08", "Olympus ORF"),
        (b"IIU\x00\x08\x00\x00\x00", "Panasonic RW2"),
        (b"II*\x00\x10\x00\x00\x00CR\x02\x00\x00\x00\x00\x00", "Canon CR2"),
        (b"II*\x00\x08\x00\x00\x00IIII\x00waR", "Phase One IIQ"),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom", "Canon CR3"),
    ],
)
def test_raws_with_a_signature_are_named_from_their_first_bytes(head: bytes, kind: str) -> None:
    # A JPEG preview later in the file (as every raw carries) changes nothing.
    data = head + bytes(64) + _jpeg_bytes()
    expected = f"it is a camera raw file ({kind}){RAW_ADVICE}"
    with pytest.raises(ImageRejected) as info:
        formats.sniff(data[:64])
    assert str(info.value) == expected
    assert _refusal(data) == expected


def _jpeg_bytes(size: tuple[int, int] = (32, 24)) -> bytes:
    out = io.BytesIO()
    b.thumbnail(3, size).save(out, "JPEG")
    return out.getvalue()


def _nef() -> bytes:
    """Nikon's layout: IFD0 a small RGB thumbnail, SubIFDs a JPEG preview and the sensor data."""
    ifd0 = b.rgb_ifd(b.thumbnail()).set(b.MAKE, b.ASCII, "NIKON CORPORATION")
    ifd0.set(b.MODEL, b.ASCII, "NIKON Z 6")
    ifd0.sub_ifds = [b.jpeg_preview_ifd(b.thumbnail(2, (64, 48))), b.cfa_ifd(compression=34713)]
    return b.build_tiff([ifd0], order=">")


def _arw() -> bytes:
    """Sony's: IFD0 the JPEG preview, a SubIFD the sensor data in Sony's compression."""
    ifd0 = b.jpeg_preview_ifd(b.thumbnail(1, (64, 48))).set(b.MAKE, b.ASCII, "SONY")
    ifd0.sub_ifds = [b.cfa_ifd(compression=32767, bits=12)]
    return b.build_tiff([ifd0])


def _pef(make: str = "PENTAX Corporation") -> bytes:
    """Pentax's: IFD0 is the sensor data itself, in Pentax's compression; a preview follows."""
    ifd0 = b.cfa_ifd(compression=65535).set(b.MAKE, b.ASCII, make)
    return b.build_tiff([ifd0, b.jpeg_preview_ifd(b.thumbnail())], order=">")


def _srw() -> bytes:
    ifd0 = b.rgb_ifd(b.thumbnail()).set(b.MAKE, b.ASCII, "SAMSUNG")
    ifd0.sub_ifds = [b.cfa_ifd(compression=32770, bits=12)]
    return b.build_tiff([ifd0])


def _iiq() -> bytes:
    ifd0 = b.rgb_ifd(b.thumbnail()).set(b.MAKE, b.ASCII, "Phase One")
    ifd0.sub_ifds = [b.cfa_ifd(compression=1)]
    return b.build_tiff([ifd0])


def _dng(*, linear: bool = False, make: str | None = "Apple") -> bytes:
    """A DNG: DNGVersion in IFD0 (a thumbnail), the raw (CFA or LinearRaw) in a SubIFD."""
    ifd0 = b.rgb_ifd(b.thumbnail()).set(b.DNG_VERSION, b.BYTE, b"\x01\x04\x00\x00")
    if make:
        ifd0.set(b.MAKE, b.ASCII, make)
    ifd0.sub_ifds = [b.cfa_ifd(photometric=34892 if linear else 32803)]
    return b.build_tiff([ifd0])


def _unknown_maker() -> bytes:
    ifd0 = b.cfa_ifd(compression=1).set(b.MAKE, b.ASCII, "ACME Optical")
    return b.build_tiff([ifd0], big=True)


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (_nef, "Nikon NEF"),
        (_arw, "Sony ARW"),
        (_pef, "Pentax PEF"),
        (lambda: _pef("RICOH IMAGING COMPANY, LTD."), "Pentax PEF"),
        (_srw, "Samsung SRW"),
        (_iiq, "Phase One IIQ"),
        (_dng, "DNG"),
        (lambda: _dng(linear=True, make=None), "DNG"),
    ],
    ids=["nef", "arw", "pef", "pef-ricoh", "srw", "iiq", "dng", "dng-linear"],
)
def test_tiff_based_raws_are_named_by_their_structure_and_maker(
    make: Callable[[], bytes], kind: str
) -> None:
    data = make()
    assert formats.sniff(data[:64]) == "TIFF"  # the first bytes say TIFF, nothing more
    assert _refusal(data) == f"it is a camera raw file ({kind}){RAW_ADVICE}"


def test_a_raw_of_a_maker_not_known_is_still_a_raw() -> None:
    assert _refusal(_unknown_maker()) == f"it is a camera raw file{RAW_ADVICE}"


def test_a_raw_is_refused_by_the_import_preview_too(tmp_path: Path) -> None:
    """The preview of an import reads headers only; it names a raw as the import will."""
    path = tmp_path / "DSC_0001.NEF"
    path.write_bytes(_nef())
    with (
        path.open("rb") as fh,
        pytest.raises(ImageRejected, match=r"camera raw file \(Nikon NEF\)"),
    ):
        ex.header_capture_time(fh)


@pytest.mark.parametrize("make", ["NIKON CORPORATION", "Canon", "SONY"])
def test_a_cameras_plain_rgb_tiff_is_a_photo_not_a_raw(make: str) -> None:
    """Not every TIFF from a camera is a raw: a Pillow-written RGB TIFF with a Make tag imports."""
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[b.MAKE] = make
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (120, 80, 60)).save(out, "TIFF", tiffinfo=info)
    decoded = imaging.decode(out.getvalue())
    assert (decoded.format, decoded.width, decoded.height) == ("TIFF", 60, 40)


def test_a_jpeg_compressed_tiff_from_a_camera_is_a_photo() -> None:
    """A TIFF whose one strip is a JPEG, with Nikon's Make but no sensor data: a picture."""
    ifd0 = b.jpeg_preview_ifd(b.thumbnail(1, (48, 32))).set(b.MAKE, b.ASCII, "NIKON")
    data = b.build_tiff([ifd0])
    assert formats.camera_raw(tiff.read_structure(_reader(data))) is None
    decoded = imaging.decode(data)
    assert (decoded.format, decoded.width, decoded.height) == ("TIFF", 48, 32)


def _reader(data: bytes) -> tiff.ReadAt:
    return lambda at, n: data[at : at + n]


# -- videos and other formats ----------------------------------------------------------------------


def _ts(packets: int = 4, stride: int = 188, prefix: int = 0) -> bytes:
    pat = bytes(prefix) + b"\x47\x40\x00\x10" + bytes(stride - 4 - prefix)
    return pat + b"".join(
        bytes(prefix) + b"\x47\x01\x00\x10" + bytes(stride - 4 - prefix) for _ in range(packets - 1)
    )


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "a video (MP4)"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom", "a video (MP4)"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "a video (QuickTime MOV)"),
        (b"\x00\x00\x00\x18ftypM4V \x00\x00\x00\x01M4V M4A ", "a video (MP4)"),
        (b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00isom3gp4", "a video (3GP)"),
        (b"\x00\x00\x00\x08wide\x00\x10\x00\x00mdat", "a video (QuickTime MOV)"),
        (b"RIFF\x00\x10\x00\x00AVI LIST\x00\x00\x00\x00hdrlavih", "a video (AVI)"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87", "a video (WebM)"),
        (b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "a video (Matroska MKV)"),
        (_ts(), "a video (MPEG transport stream)"),
        (_ts(stride=192, prefix=4), "a video (MPEG transport stream)"),
        (b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01", "a video (MPEG)"),
        (
            b"SIMPLE  =                    T / conforms to FITS standard",
            "a FITS image (astronomy data)",
        ),
        (b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 8 +X 8\n", "a Radiance HDR image"),
        (b"#?RGBE\nFORMAT=32-bit_rle_rgbe\n", "a Radiance HDR image"),
        (b"\x76\x2f\x31\x01\x02\x00\x00\x00channels\x00", "an OpenEXR image"),
        (b"P1\n# a bitmap\n2 2\n0 1\n1 0\n", "a Netpbm image (PBM)"),
        (b"P2\n2 2\n255\n0 1\n1 0\n", "a Netpbm image (PGM)"),
        (b"P3 2 1 255 255 0 0 0 255 0\n", "a Netpbm image (PPM)"),
        (b"P6\n2 1\n255\n\xff\x00\x00\x00\xff\x00", "a Netpbm image (PPM)"),
        (
            b"P7\nWIDTH 1\nHEIGHT 1\nDEPTH 3\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\n\x01\x02\x03",
            "a Netpbm image (PAM)",
        ),
        (b"DDS |\x00\x00\x00\x07\x10\x08\x00", "a DirectDraw Surface (DDS) texture"),
        (b"icns\x00\x00\x01\x00is32", "a macOS icon (ICNS) file"),
        (b"gimp xcf v011\x00\x00\x00\x00\x10", "a GIMP image (XCF)"),
        (b"\xff\x4f\xff\x51\x00\x2f\x00\x00", "a JPEG 2000 image"),
        (b"AT&TFORM\x00\x00\x10\x00DJVUINFO", "a DjVu document"),
        (b"BPG\xfb\x00\x00\x10\x10", "a BPG image"),
        (b"qoif\x00\x00\x00\x10\x00\x00\x00\x10\x03\x00", "a QOI image"),
        (b"8BPS\x00\x01\x00\x00\x00\x00\x00\x00\x00\x03", "a Photoshop document"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf", "an AVIF image"),
    ],
)
def test_videos_and_other_formats_are_named(data: bytes, what: str) -> None:
    expected = f"it is {what}; {ACCEPTED}"
    assert _refusal(data) == expected
    with pytest.raises(ImageRejected) as info:
        formats.sniff(data[:64])  # what the import reads before hashing
    assert str(info.value) == expected


@pytest.mark.parametrize(
    "text",
    [
        b"Progress notes, week 3: less red.\n",
        b"PS: the photos are in the other folder\n",  # a "P" and a letter is no Netpbm header
        b"SIMPLE things first\n",
    ],
)
def test_text_that_starts_like_a_signature_is_still_text(text: bytes) -> None:
    assert _refusal(text) == f"it is a text file, not a photo; {ACCEPTED}"


def test_a_transport_stream_is_told_from_the_64_bytes_the_import_reads_first() -> None:
    head = _ts()[:64]
    with pytest.raises(ImageRejected, match=r"MPEG transport stream"):
        formats.sniff(head)
    noise = b"\x47" + bytes(range(1, 64))  # a G and then anything: not a stream
    with pytest.raises(ImageRejected, match=r"not in any image format"):
        formats.sniff(noise)


# -- identify: the structure beyond the first bytes ---------------------------------------------------


def test_identify_reads_a_file_handle_where_it_needs_and_leaves_it_where_it_was(
    tmp_path: Path,
) -> None:
    path = tmp_path / "raw.tif"
    path.write_bytes(_arw())
    reads: list[int] = []

    class Counting(io.FileIO):
        def read(self, size: int | None = -1) -> bytes:
            data = super().read(size)
            reads.append(len(data))
            return data

    with Counting(path, "rb") as fh:
        fh.seek(5)
        with pytest.raises(ImageRejected, match=r"Sony ARW"):
            formats.identify(fh)
        assert fh.tell() == 5
    assert sum(reads) < path.stat().st_size  # the directories, not the sensor data


def test_tiff_structure_is_read_in_both_byte_orders_classic_and_big() -> None:
    for order in "<>":
        for big in (False, True):
            ifd0 = b.rgb_ifd(b.thumbnail()).set(b.MAKE, b.ASCII, "NIKON")
            ifd0.sub_ifds = [b.cfa_ifd(compression=34713)]
            data = b.build_tiff([ifd0, b.rgb_ifd(b.thumbnail(2))], order=order, big=big)
            structure = tiff.read_structure(_reader(data))
            assert (structure.order, structure.big, len(structure.pages)) == (order, big, 2)
            first = structure.pages[0]
            assert first.text(tiff.MAKE) == "NIKON"
            assert first.ints(tiff.BITS_PER_SAMPLE) == (8, 8, 8)
            assert [d.number(tiff.COMPRESSION) for d in first.sub_ifds] == [34713]


def test_a_tiff_whose_directories_loop_or_lie_is_left_to_the_decoder() -> None:
    data = bytearray(b.build_tiff([b.rgb_ifd(b.thumbnail())]))
    first = struct.unpack("<I", data[4:8])[0]
    count = struct.unpack("<H", data[first : first + 2])[0]
    struct.pack_into("<I", data, first + 2 + 12 * count, first)  # the next page is this one
    assert len(tiff.read_structure(_reader(bytes(data))).pages) == 1
    struct.pack_into("<I", data, 4, len(data) + 100)  # IFD0 beyond the end of the file
    with pytest.raises(tiff.TiffError):
        tiff.read_structure(_reader(bytes(data)))
    assert formats.identify(bytes(data)).format == "TIFF"
    with pytest.raises(ImageRejected, match=r"TIFF data is damaged"):
        imaging.decode(bytes(data))


def _grid_heif(tile_type: bytes) -> bytes:
    """A phone's layout: the primary item a grid ('grid') of two tiles coded as ``tile_type``,
    referenced by 'dimg', and an Exif item beside them (structure only: no coded data)."""
    ftyp = b.box(b"ftyp", b"heic", bytes(4), b"mif1heic")
    hdlr = b.full_box(b"hdlr", 0, 0, struct.pack(">I4s12s", 0, b"pict", bytes(12)), b"\x00")
    pitm = b.full_box(b"pitm", 0, 0, struct.pack(">H", 1))
    items = [(1, b"grid"), (2, tile_type), (3, tile_type), (4, b"Exif")]
    infes = [b.full_box(b"infe", 2, 0, struct.pack(">HH4s", i, 0, t), b"\x00") for i, t in items]
    iinf = b.full_box(b"iinf", 0, 0, struct.pack(">H", len(infes)), *infes)
    dimg = b.box(b"dimg", struct.pack(">HHHH", 1, 2, 2, 3))
    cdsc = b.box(b"cdsc", struct.pack(">HHH", 4, 1, 1))
    iref = b.full_box(b"iref", 0, 0, dimg, cdsc)
    return ftyp + b.full_box(b"meta", 0, 0, hdlr, pitm, iinf, iref) + b.box(b"mdat", bytes(16))


def test_a_grid_images_coding_is_that_of_its_tiles() -> None:
    facts = bmff.read_heif(_reader(_grid_heif(b"hvc1")), len(_grid_heif(b"hvc1")))
    assert facts.primary == 1 and facts.item_types[1] == b"grid"
    assert facts.primary_codings() == [b"hvc1"]
    assert not facts.sequence
    with pytest.raises(ImageRejected, match=r"^it is a HEIF image coded with AVC \(H\.264\)"):
        imaging.decode(_grid_heif(b"avc1"))


def test_a_raw_an_earlier_version_stored_still_gets_its_thumbnail_made() -> None:
    """Earlier versions took a TIFF-based raw as its first image; rebuilding its thumbnail
    (``stored``) reads it so, while a new import refuses it."""
    data = _nef()
    with pytest.raises(ImageRejected, match="camera raw"):
        imaging.decode(data)
    decoded = imaging.decode(data, stored=True)
    assert decoded.width > 0 and decoded.thumbnail.startswith(b"\xff\xd8")
