"""The capture checks' verdicts that are relative to a reference photo, without OpenCV: the
sharpness warning, judged from the stored figures, so that it can be judged again against
another reference without decoding anything (a photo moved to another area or view).

``quality`` measures at import and judges there too (``quality.judge``); which checks are
relative to the reference photo of the area and view, and which are the photo's own:

- **sharpness**: the figure is the photo's own; whether it warns depends on the reference's.
- **framing**: measured from the alignment to the reference photo; means nothing against
  another one.
- **highlights**, **shadows**, **cast**: the photo's own.
"""

from __future__ import annotations

from typing import Any

SHARPNESS_RATIO = 0.5
"""A photo warns when its sharpness is below this share of the reference's. Photos of the same
skin stay well above it (on the generated skin of the tests: 30 % darker or brighter, 0.96 to
1.06; taken again turned, up to a fifth nearer or farther and in another light, 0.8 to 0.9).
A defocus or shake of a Gaussian 3 pixels of a 12 MP frame (as the import measures it, from
an eighth of the frame: 2.5 px gives 0.6, 4 px 0.33), 1.4 pixels of a 2 MP one, reads as
half: soft at full size, pores and fine lines smeared, which a patient comparing marks must
not get. A lower ratio would let such photos pass; a higher one would warn on ordinary
differences of distance and light."""
SHARPNESS_MESSAGE = (
    "This photo is {pct} as sharp as the reference photo of its view: hold the phone "
    "still, tap the skin to focus, and take it again."
)
RELATIVE = ("framing",)  # dropped when the photo changes group (sharpness is judged again)


def check(check: str, value: float, unit: str, message: str) -> dict[str, Any]:
    """One entry of ``photo.quality["checks"]``."""
    return {
        "check": check,
        "value": round(value, 4),
        "unit": unit,
        "warned": bool(message),
        "message": message,
    }


def sharpness_check(value: float, reference: float | None) -> dict[str, Any]:
    """The sharpness check of a photo whose figure is ``value``, against the reference's
    figure (None: the photo is the first of its view, its figure the one later photos are
    held to, and it never warns)."""
    message = ""
    if reference is not None and reference > 0:
        ratio = value / reference
        if ratio < SHARPNESS_RATIO:
            # A photo shaken badly reads a fraction of a percent: not "0 %".
            sharp = f"{ratio * 100:.0f} %" if ratio >= 0.01 else "less than 1 %"
            message = SHARPNESS_MESSAGE.format(pct=sharp)
    return check("sharpness", value, "Laplacian variance", message)


def reference_sharpness(quality: dict[str, Any] | None) -> float | None:
    """The sharpness stored in a photo's ``quality`` (None for a photo imported without it)."""
    for entry in (quality or {}).get("checks", []):
        if entry.get("check") == "sharpness" and isinstance(entry.get("value"), int | float):
            return float(entry["value"])
    return None


def rejudged(
    quality: dict[str, Any] | None,
    reference_id: int | None,
    reference: float | None,
    *,
    keep_framing: bool = False,
) -> dict[str, Any] | None:
    """``quality`` judged against another reference photo (its id and sharpness; None for
    none): the sharpness warning judged again from the stored figure, the framing dropped
    (it is measured again when the photo is aligned there) unless ``keep_framing`` (it was
    measured again already), the photo's own checks kept."""
    if quality is None:
        return None
    checks = []
    for entry in quality.get("checks", []):
        name = entry.get("check")
        if name in RELATIVE and not keep_framing:
            continue
        if name == "sharpness" and isinstance(entry.get("value"), int | float):
            entry = sharpness_check(float(entry["value"]), reference)
        checks.append(entry)
    return {
        **quality,
        "reference_id": reference_id if reference is not None else None,
        "checks": checks,
    }
