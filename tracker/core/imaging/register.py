"""Automatic registration: the transform that lays a photo over its reference, found from the
skin itself, or a refusal that says why.

Classical and proven, in this order: both photos in grey at a working size of about 1024 px
on the long side, their contrast equalised locally (CLAHE, so that faint skin texture and an
exposure change look alike); local features (SIFT by default: on skin texture it finds more
agreeing matches than AKAZE, never few, with a third of its worst errors; see
``docs/ARCHITECTURE.md``), matched with Lowe's ratio test; a homography estimated robustly
(MAGSAC++), whose consensus is then refitted as a similarity and as an affine transform. The simplest of the three that explains the matches
nearly as well as the homography is kept (``choose``), and expressed in the two photos'
full-resolution pixels.

It refuses when unsure (``RegistrationRefused``, with a reason and a sentence): too few
features or matches, too few matches agreeing on one transform, or a transform no second photo
of the same area would need (a scale outside 0.5–2, strong shear, perspective that folds the
photo, or a photo that would cover too little of the reference). Landmarks are then the way.

No non-rigid warping, ever: a local warp can bend the marks themselves into agreement and hide
a real change.

Coordinates are continuous, as everywhere in the app: a pixel's top-left corner is at whole
numbers (OpenCV's keypoints, at pixel centres, are converted where they come in).

OpenCV and numpy are loaded with this module, which only the commands that align import, so
the start-up of the others is unchanged.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tracker.core.errors import TrackerError

# One thread for OpenCV's own loops: callers run photos in parallel on their own pool (the
# import's workers, the command line's photos on every core), and OpenCV's threads on top of
# those would only fight them for the same cores.
cv2.setNumThreads(1)

Floats = NDArray[np.float64]
Size = tuple[int, int]
Model = Literal["similarity", "affine", "homography"]
Detector = Literal["sift", "akaze"]
MODELS: tuple[Model, ...] = ("similarity", "affine", "homography")

WORK_SIDE = 1024
"""The long side, in pixels, that photos are registered at."""
MAX_FEATURES = 4000
RATIO = 0.8  # Lowe's ratio test: a match must be clearly better than the second best
THRESHOLD = 2.5  # px at the working size: a match within this of the model agrees with it

# When to refuse (at the working size).
MIN_FEATURES = 40
MIN_MATCHES = 15
MIN_INLIERS = 25
MIN_INLIER_RATIO = 0.15
SCALE_RANGE = (0.5, 2.0)  # of the photo's framing against the reference's
MAX_ANISOTROPY = 1.5  # the longer axis of the transform's local stretch over the shorter
# The photo's corners' depths (their homogeneous w) farthest apart, largest over smallest.
MAX_PERSPECTIVE = 1.6
MIN_COVERAGE = 0.25  # of the reference's area that the warped photo covers

# The model choice (``choose``): a simpler model is kept while it has this share of the
# homography's agreeing matches and its residual on them is within this factor of what its
# fewer parameters explain.
KEEP_SHARE = 0.95
RESIDUAL_MARGIN = 1.03

Reason = Literal[
    "few_features", "few_matches", "few_inliers", "low_ratio", "implausible", "coverage"
]


class RegistrationRefused(TrackerError):
    """The photos could not be aligned with confidence. ``reason`` says which test failed
    (decide on it, never on the wording); the message says why in a sentence."""

    def __init__(self, message: str, reason: Reason) -> None:
        super().__init__(message)
        self.reason = reason


_LANDMARKS = "align by landmarks instead"


@dataclass(frozen=True)
class Registration:
    """A photo registered to its reference: ``matrix`` (3×3, row-major) maps the photo's
    upright full-resolution pixel coordinates to the reference's."""

    matrix: tuple[float, ...]
    model: Model
    detector: Detector
    inliers: int  # matches that agree with the transform
    matches: int  # matches that passed the ratio test
    residual_px: float  # RMS distance of the agreeing matches, in the reference's full-res px
    residual_work: float  # the same at the working size, which ``quality`` judges
    coverage: float  # the share of the reference the warped photo covers

    @property
    def method(self) -> str:
        return f"auto:{self.detector}-magsac-{self.model}"

    @property
    def quality(self) -> str:
        """How well it went, in words: "good" when many matches agree closely, else "fair"
        (a result that is less than fair is refused, not returned)."""
        if self.inliers >= 100 and self.residual_work <= 1.2 and self.coverage >= 0.5:
            return "good"
        return "fair"


# -- the working images -----------------------------------------------------------------------


def working_image(data: bytes) -> Image.Image:
    """A photo's grey image near the working size from its encoded bytes (a preview): a JPEG
    is decoded straight at a reduced size (DCT scaling), which costs a fraction of a full
    decode."""
    with Image.open(io.BytesIO(data)) as im:
        k = WORK_SIDE / max(im.size)
        if k < 1:
            im.draft("L", (math.ceil(im.width * k), math.ceil(im.height * k)))
        return im.convert("L")


def _prepare(image: Image.Image) -> NDArray[np.uint8]:
    """Grey, at most WORK_SIDE on the long side, contrast equalised locally."""
    grey = image if image.mode == "L" else image.convert("L")
    k = WORK_SIDE / max(grey.size)
    if k < 1:
        size = (max(1, round(grey.width * k)), max(1, round(grey.height * k)))
        grey = grey.resize(size, Image.Resampling.BOX)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    return np.asarray(clahe.apply(np.asarray(grey)), dtype=np.uint8)


@dataclass(frozen=True)
class Features:
    points: Floats  # N×2, continuous coordinates at the working size
    descriptors: NDArray[Any] | None  # SIFT's (float32) or AKAZE's (bytes)
    size: Size  # of the working image


CARD_MARGIN = 1.3
"""The card's outline is widened by this about its centre before its features are left out:
a feature's descriptor reads a neighbourhood, and the card's shadow lies beyond its edge."""


def _outside(grey: NDArray[np.uint8], quad: Sequence[tuple[float, float]], k: float) -> Any:
    """A mask of ``grey`` that is 0 on the quadrilateral ``quad`` (full-size pixels, ``k``
    working pixels to one of them), widened by ``CARD_MARGIN``, and 255 elsewhere."""
    mask = np.full(grey.shape, 255, np.uint8)
    q = np.asarray(quad, dtype=np.float64) * k - 0.5  # to OpenCV's pixel centres
    centre = q.mean(axis=0)
    q = centre + (q - centre) * CARD_MARGIN
    cv2.fillConvexPoly(mask, np.rint(q).astype(np.int32), 0)
    return mask


def features(
    image: Image.Image,
    detector: Detector = "sift",
    *,
    exclude: Sequence[tuple[float, float]] | None = None,
    full_size: Size | None = None,
) -> Features:
    """A photo's features for ``register_features``, from any upright rendition of it; none
    inside ``exclude`` (a quadrilateral in the pixels of ``full_size``, the photo's upright
    full resolution: its calibration card)."""
    grey = _prepare(image)
    mask = None
    if exclude is not None:
        mask = _outside(grey, exclude, grey.shape[1] / (full_size or image.size)[0])
    finder = (
        cv2.SIFT.create(nfeatures=MAX_FEATURES, contrastThreshold=0.02)
        if detector == "sift"
        else cv2.AKAZE.create(threshold=0.0005)
    )
    keypoints, descriptors = finder.detectAndCompute(grey, mask)
    if detector == "akaze" and len(keypoints) > MAX_FEATURES:
        best = np.argsort([-k.response for k in keypoints])[:MAX_FEATURES]
        keypoints = [keypoints[i] for i in best]
        descriptors = descriptors[best]
    points = np.array([k.pt for k in keypoints], dtype=np.float64).reshape(-1, 2) + 0.5
    kept = None if descriptors is None else np.asarray(descriptors)
    return Features(points, kept, (grey.shape[1], grey.shape[0]))


def preview_features(
    data: bytes, exclude: Sequence[tuple[float, float]] | None, full_size: Size
) -> Features | str:
    """``features`` of a photo's encoded preview, none on ``exclude`` (its card), or the
    sentence saying why it cannot be read. Picklable both ways, for a process of its own: the
    window registers in another process so that its own thread keeps the interpreter."""
    try:
        image = working_image(data)
    except (TrackerError, OSError, ValueError) as exc:
        return str(exc) or "its preview cannot be read"
    return features(image, exclude=exclude, full_size=full_size)


def _match(a: Features, b: Features, detector: Detector) -> tuple[Floats, Floats]:
    """Matched points (photo, reference) that pass the ratio test, each used once."""
    if a.descriptors is None or b.descriptors is None or len(a.points) < 2 or len(b.points) < 2:
        return np.empty((0, 2)), np.empty((0, 2))
    if detector == "sift":
        matcher = cv2.FlannBasedMatcher({"algorithm": 1, "trees": 4}, {"checks": 64})
        pairs = matcher.knnMatch(
            a.descriptors.astype(np.float32), b.descriptors.astype(np.float32), k=2
        )
    else:
        pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(a.descriptors, b.descriptors, k=2)
    best: dict[int, tuple[float, int]] = {}  # reference point → (distance, photo point)
    for pair in pairs:
        if len(pair) == 2 and pair[0].distance < RATIO * pair[1].distance:
            m = pair[0]
            if m.trainIdx not in best or m.distance < best[m.trainIdx][0]:
                best[m.trainIdx] = (m.distance, m.queryIdx)
    if not best:
        return np.empty((0, 2)), np.empty((0, 2))
    ref_idx = np.fromiter(best, dtype=np.int64)
    photo_idx = np.array([best[i][1] for i in ref_idx], dtype=np.int64)
    return a.points[photo_idx], b.points[ref_idx]


# -- models -----------------------------------------------------------------------------------


def _project(m: Floats, points: Floats) -> Floats:
    p = np.hstack([points, np.ones((len(points), 1))]) @ m.T
    return np.asarray(p[:, :2] / p[:, 2:3])


def _errors(m: Floats, src: Floats, dst: Floats) -> Floats:
    return np.asarray(np.linalg.norm(_project(m, src) - dst, axis=1))


def _fit(model: Model, src: Floats, dst: Floats) -> Floats:
    """The least-squares transform of ``model`` taking ``src`` onto ``dst``, on centred
    coordinates (well conditioned however far the points are from the origin)."""
    sc, dc = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - sc, dst - dc
    if model == "similarity":
        den = float(np.sum(s * s))
        a = float(np.sum(s[:, 0] * d[:, 0] + s[:, 1] * d[:, 1])) / den
        b = float(np.sum(s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0])) / den
        linear = np.array([[a, -b], [b, a]])
    elif model == "affine":
        solution, *_ = np.linalg.lstsq(s, d, rcond=None)
        linear = solution.T
    else:
        h, _mask = cv2.findHomography(src, dst, 0)
        if h is None:
            raise np.linalg.LinAlgError("no homography")
        return np.asarray(h, dtype=np.float64) / h[2, 2]
    m = np.eye(3)
    m[:2, :2] = linear
    m[:2, 2] = dc - linear @ sc
    return m


@dataclass(frozen=True)
class Candidate:
    model: Model
    matrix: Floats  # at the working size
    inliers: NDArray[np.bool_]
    rms: float  # of the inliers, px at the working size

    @property
    def count(self) -> int:
        return int(self.inliers.sum())


def _refine(model: Model, src: Floats, dst: Floats, start: NDArray[np.bool_]) -> Candidate:
    """Fit ``model`` to the consensus ``start``, then take every match within the threshold
    of it and fit again, until the set settles (a few rounds)."""
    inliers = start
    m = _fit(model, src[inliers], dst[inliers])
    for _ in range(4):
        found = _errors(m, src, dst) < THRESHOLD
        if found.sum() < 4 or np.array_equal(found, inliers):
            break
        inliers = found
        m = _fit(model, src[inliers], dst[inliers])
    errors = _errors(m, src[inliers], dst[inliers])
    return Candidate(model, m, inliers, float(np.sqrt(np.mean(errors**2))))


DOF: dict[Model, int] = {"similarity": 4, "affine": 6, "homography": 8}


def choose(candidates: Sequence[Candidate], src: Floats, dst: Floats) -> Candidate:
    """The simplest model that explains the matches as well as the richest (the last) does,
    but for noise: on the richest's agreeing matches, its RMS residual exceeds the richest's
    by no more than fewer parameters explain (the factor ``sqrt((2n - dof) / (2n - 8))``)
    and a margin of ``RESIDUAL_MARGIN``, and it keeps at least ``KEEP_SHARE`` of the
    agreeing matches. A systematic misfit (a little perspective an affine transform cannot
    follow) shows at once in a thousand matches and keeps the richer model; where there is
    none, the simpler one extrapolates more safely to the photo's corners and invents no
    perspective."""
    richest = candidates[-1]
    common = richest.inliers
    n = int(common.sum())
    rms_rich = float(np.sqrt(np.mean(_errors(richest.matrix, src[common], dst[common]) ** 2)))
    for c in candidates[:-1]:
        rms = float(np.sqrt(np.mean(_errors(c.matrix, src[common], dst[common]) ** 2)))
        allowed = RESIDUAL_MARGIN * math.sqrt((2 * n - DOF[c.model]) / (2 * n - DOF[richest.model]))
        if c.count >= KEEP_SHARE * richest.count and rms <= allowed * rms_rich:
            return c
    return richest


# -- plausibility -----------------------------------------------------------------------------


def _corners(size: Size) -> Floats:
    w, h = size
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float64)


def _check(m: Floats, photo: Size, reference: Size) -> float:
    """Refuses a transform that no second photo of the same area needs; returns the share of
    the reference that the warped photo covers. ``m`` is at the working size, where both
    photos have the same long side, so its scale is the framing's."""
    w = _corners(photo) @ m[2, :2] + m[2, 2]
    if np.any(w <= 0) or w.max() / w.min() > MAX_PERSPECTIVE:
        raise RegistrationRefused(
            "the transform found would fold or strongly tilt the photo, which a second photo "
            f"of the same area does not need; {_LANDMARKS}",
            "implausible",
        )
    centre = np.array([photo[0] / 2, photo[1] / 2])
    jacobian = _jacobian(m, centre)
    det = float(np.linalg.det(jacobian))
    if det <= 0:
        raise RegistrationRefused(
            f"the transform found would mirror the photo; {_LANDMARKS}", "implausible"
        )
    scale = math.sqrt(det)
    if not SCALE_RANGE[0] <= scale <= SCALE_RANGE[1]:
        raise RegistrationRefused(
            f"the transform found would scale the photo by {scale:.2f}, outside "
            f"{SCALE_RANGE[0]}–{SCALE_RANGE[1]}; take it from about the same distance as the "
            f"reference, or {_LANDMARKS}",
            "implausible",
        )
    stretch = np.linalg.svd(jacobian, compute_uv=False)
    if stretch[0] / stretch[1] > MAX_ANISOTROPY:
        raise RegistrationRefused(
            "the transform found would stretch the photo much more one way than the other "
            f"(shear); {_LANDMARKS}",
            "implausible",
        )
    quad = _project(m, _corners(photo)).astype(np.float32)
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2)):
        raise RegistrationRefused(
            f"the transform found would fold the photo over itself; {_LANDMARKS}", "implausible"
        )
    ref = _corners(reference).astype(np.float32)
    if cv2.contourArea(quad) < 0:  # clockwise in image coordinates, as the frame is
        quad = quad[::-1]
    area, _ = cv2.intersectConvexConvex(np.ascontiguousarray(quad), ref)
    coverage = float(area) / (reference[0] * reference[1])
    if coverage < MIN_COVERAGE:
        raise RegistrationRefused(
            f"the photo would cover only {coverage:.0%} of the reference; the two show "
            f"different parts of the area — {_LANDMARKS}",
            "coverage",
        )
    return coverage


def _jacobian(m: Floats, p: Floats) -> Floats:
    """The homography's local linear part at ``p``."""
    x, y = p
    w = m[2, 0] * x + m[2, 1] * y + m[2, 2]
    u = (m[0, 0] * x + m[0, 1] * y + m[0, 2]) / w
    v = (m[1, 0] * x + m[1, 1] * y + m[1, 2]) / w
    return np.array(
        [
            [(m[0, 0] - u * m[2, 0]) / w, (m[0, 1] - u * m[2, 1]) / w],
            [(m[1, 0] - v * m[2, 0]) / w, (m[1, 1] - v * m[2, 1]) / w],
        ]
    )


# -- registering ------------------------------------------------------------------------------


def _to_work(full: Size, work: Size) -> Floats:
    """Full-resolution continuous pixels → working-size continuous pixels."""
    return np.diag([work[0] / full[0], work[1] / full[1], 1.0])


def register(
    photo: Image.Image,
    photo_size: Size,
    reference: Image.Image,
    reference_size: Size,
    detector: Detector = "sift",
) -> Registration:
    """Register ``photo`` to ``reference``. Each image may be any rendition of its photo,
    upright (a preview, the working image); ``*_size`` are the photos' full-resolution upright
    sizes, in which the result is expressed. Raises RegistrationRefused when unsure."""
    a = features(photo, detector)
    b = features(reference, detector)
    return register_features(a, photo_size, b, reference_size, detector)


def register_features(
    a: Features, photo_size: Size, b: Features, reference_size: Size, detector: Detector
) -> Registration:
    """``register`` from the features of both photos (made once each, possibly in parallel:
    ``features``)."""
    fewest = min(len(a.points), len(b.points))
    if fewest < MIN_FEATURES:
        raise RegistrationRefused(
            f"{'the photo' if len(a.points) == fewest else 'the reference'} shows too little "
            f"detail to align by ({fewest} features); it may be blurred, too dark or too "
            f"bright — {_LANDMARKS}",
            "few_features",
        )
    # The same photos give the same answer, every time: the matcher's randomised trees and the
    # estimator's samples draw from OpenCV's generator (one per thread), started afresh here.
    cv2.setRNGSeed(17)
    src, dst = _match(a, b, detector)
    if len(src) < MIN_MATCHES:
        raise RegistrationRefused(
            f"too few features match ({len(src)}); the photos may not show the same area — "
            f"{_LANDMARKS}",
            "few_matches",
        )
    h, mask = cv2.findHomography(
        src, dst, cv2.USAC_MAGSAC, THRESHOLD, maxIters=5000, confidence=0.999
    )
    consensus = mask.ravel().astype(bool) if h is not None else np.zeros(len(src), bool)
    if consensus.sum() < MIN_INLIERS:
        raise RegistrationRefused(
            f"too few matching features agree on one transform ({int(consensus.sum())} of "
            f"{len(src)}); the photos may not show the same area — {_LANDMARKS}",
            "few_inliers",
        )
    try:
        candidates = [_refine(model, src, dst, consensus) for model in MODELS]
    except np.linalg.LinAlgError:
        raise RegistrationRefused(
            f"the matching features lie on a line or in one spot; {_LANDMARKS}", "implausible"
        ) from None
    best = choose(candidates, src, dst)
    if best.count < MIN_INLIERS:
        raise RegistrationRefused(
            f"too few matching features agree on one transform ({best.count} of {len(src)}); "
            f"the photos may not show the same area — {_LANDMARKS}",
            "few_inliers",
        )
    if best.count < MIN_INLIER_RATIO * len(src):
        raise RegistrationRefused(
            f"only {best.count} of {len(src)} matching features agree on one transform; the "
            f"photos may not show the same area — {_LANDMARKS}",
            "low_ratio",
        )
    coverage = _check(best.matrix, a.size, b.size)
    to_photo_work = _to_work(photo_size, a.size)
    from_ref_work = np.linalg.inv(_to_work(reference_size, b.size))
    full = from_ref_work @ best.matrix @ to_photo_work
    full = full / full[2, 2]
    if best.model != "homography":
        full[2] = (0.0, 0.0, 1.0)  # exactly: it is stored as such
    ref_scale = math.sqrt((reference_size[0] / b.size[0]) * (reference_size[1] / b.size[1]))
    return Registration(
        matrix=tuple(float(v) for v in full.ravel()),
        model=best.model,
        detector=detector,
        inliers=best.count,
        matches=len(src),
        residual_px=best.rms * ref_scale,
        residual_work=best.rms,
        coverage=coverage,
    )
