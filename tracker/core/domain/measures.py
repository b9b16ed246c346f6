"""The objective measures of the marks as people read them (issue 18): a label, a unit, how many
decimals, and one plain sentence each on what it means and what it cannot tell. The figures
themselves come from ``tracker.core.imaging.marks`` (``MarkMeasures.as_dict()``); this module
is words and formatting only, so that the window, the report, the CSV and the command line
say the same thing. No numpy here: it loads with the app.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "CAVEAT",
    "MEASURES",
    "MEASURE_KEYS",
    "MeasureInfo",
    "change_words",
    "format_amount",
    "format_value",
]


@dataclass(frozen=True)
class MeasureInfo:
    key: str
    label: str  # plain words, "Mean width"
    unit: str  # "mm", "mm²", "px", "ΔE00", "°", "% of region", "index", "" (a CIELAB difference)
    decimals: int
    needs_scale: bool  # None without the calibration card's pixels per millimetre
    # Whether a fading mark makes the figure fall. For a signed difference from the skin
    # (``signed``), what falls is its size: the marks come closer to the skin beside them.
    lower_is_better: bool
    explain: str  # one plain sentence: what it means, what it cannot tell
    signed: bool = False  # a difference marks − skin, which may be either side of nought


_INFOS = (
    MeasureInfo(
        "area_fraction",
        "Share of the region marked",
        "% of region",
        1,
        False,
        True,
        "How much of the outlined region the marks cover; it depends on how the region is "
        "drawn, so compare it only between photos measured with the same region.",
    ),
    MeasureInfo(
        "area_mm2",
        "Marked area",
        "mm²",
        1,
        True,
        True,
        "The skin the marks cover, in square millimetres, from the card's scale; faint marks "
        "below the sensitivity are not counted.",
    ),
    MeasureInfo(
        "length_mm",
        "Total length",
        "mm",
        1,
        True,
        True,
        "The marks' length end to end along their middle line, added up; marks that merge or "
        "break apart in a photo change it.",
    ),
    MeasureInfo(
        "mean_width_mm",
        "Mean width",
        "mm",
        2,
        True,
        True,
        "How wide the marks are on average (their area over their length); it tells nothing of "
        "how deep they are.",
    ),
    MeasureInfo(
        "mean_width_px",
        "Mean width in pixels",
        "px",
        1,
        False,
        True,
        "The mean width in the photo's pixels, for photos without the card; it changes with "
        "the distance to the camera, so compare it only between photos taken alike.",
    ),
    MeasureInfo(
        "delta_e00",
        "Colour difference from the skin",
        "ΔE00",
        1,
        False,
        True,
        "How different the marks' colour is from the skin beside them (CIEDE2000; about 1 is "
        "the least a person notices); it falls as marks fade, whatever their colour.",
    ),
    MeasureInfo(
        "delta_L",
        "Lightness difference (ΔL*)",
        "",
        1,
        False,
        True,
        "How much lighter (above nought) or darker the marks are than the skin beside them; "
        "pale marks read above nought.",
        signed=True,
    ),
    MeasureInfo(
        "delta_a",
        "Redness difference (Δa*)",
        "",
        1,
        False,
        True,
        "How much redder (above nought) or greener the marks are than the skin beside them; "
        "new red marks read well above nought.",
        signed=True,
    ),
    MeasureInfo(
        "delta_b",
        "Yellowness difference (Δb*)",
        "",
        1,
        False,
        True,
        "How much yellower (above nought) or bluer the marks are than the skin beside them.",
        signed=True,
    ),
    MeasureInfo(
        "erythema_index_delta",
        "Redness index difference",
        "index",
        1,
        False,
        True,
        "The marks' redness (erythema index, as skin meters read it) less the skin's; a photo "
        "reads it less surely than a meter pressed on the skin.",
        signed=True,
    ),
    MeasureInfo(
        "melanin_index_delta",
        "Pigment index difference",
        "index",
        1,
        False,
        True,
        "The marks' pigment (melanin index) less the skin's; below nought, the marks are paler "
        "than the skin.",
        signed=True,
    ),
    MeasureInfo(
        "ita_marks",
        "Skin tone angle of the marks (ITA°)",
        "°",
        0,
        False,
        False,
        "The individual typology angle of the marks: higher is lighter; on its own it says "
        "more about the light than the marks, so read it against the skin's.",
    ),
    MeasureInfo(
        "ita_skin",
        "Skin tone angle of the skin (ITA°)",
        "°",
        0,
        False,
        False,
        "The individual typology angle of the skin beside the marks: higher is lighter; it "
        "changes with the light and a tan, not with the treatment.",
    ),
    MeasureInfo(
        "texture_index",
        "Texture index",
        "index",
        2,
        True,
        True,
        "How uneven the marks' surface looks against the skin beside them (1: as even as the "
        "skin); it is read from shading in a flat photo and is not a measure of depth.",
    ),
)

MEASURES: dict[str, MeasureInfo] = {info.key: info for info in _INFOS}
MEASURE_KEYS: tuple[str, ...] = tuple(MEASURES)

CAVEAT = (
    "These figures are read from ordinary photos: they measure colour and size on the skin's "
    "surface, not depth; a change smaller than a measure's band is not a real change, and an "
    "untreated control area shows what the light and the camera alone did."
)


def _number(key: str, value: float) -> float:
    return value * 100.0 if key == "area_fraction" else value


def _with_unit(info: MeasureInfo, text: str) -> str:
    if not info.unit:
        return text
    if info.unit == "°":
        return text + "°"
    return f"{text} {info.unit}"


def format_value(key: str, value: float | None) -> str:
    """A measure as people read it: "2.40 mm", "12.5 % of region", "+1.2" for a signed
    difference, "—" when there is none (not measured, or it needs a scale the photo lacks)."""
    if value is None or not math.isfinite(value):
        return "—"
    info = MEASURES[key]
    number = _number(key, float(value))
    text = f"{number:+.{info.decimals}f}" if info.signed else f"{number:.{info.decimals}f}"
    if text.lstrip("+-").strip("0.") == "":  # no "-0.0" or "+0.0"
        text = text.lstrip("+-")
    return _with_unit(info, text)


def format_amount(key: str, amount: float) -> str:
    """A size of change or a band, never signed: "0.30 mm", "2.1 % of region"."""
    info = MEASURES[key]
    return _with_unit(info, f"{abs(_number(key, float(amount))):.{info.decimals}f}")


def change_words(key: str, change: float | None, band: float | None) -> str:
    """One sentence on a change against its band: "No measurable change: within the 0.30 mm
    band." or "Fell by 1.20 mm, more than its 0.30 mm band."."""
    if change is None:
        return "Not enough measured photos to tell a change."
    if band is None:
        verb = "Fell" if change < 0 else "Rose"
        return f"{verb} by {format_amount(key, change)}; its band is not known."
    if abs(change) <= band:
        return f"No measurable change: within the {format_amount(key, band)} band."
    verb = "Fell" if change < 0 else "Rose"
    return f"{verb} by {format_amount(key, change)}, more than its {format_amount(key, band)} band."
