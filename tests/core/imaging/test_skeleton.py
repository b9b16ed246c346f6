"""The marks' mask worked on inside its box (``imaging.skeleton``) gives OpenCV's results over
the whole image exactly: the skeleton, the distance to the edge (to a millionth of a pixel), the mask grown, the specks dropped; for shapes
anywhere, touching the image's edges, and specks."""

from __future__ import annotations

import cv2
import numpy as np

from tracker.core.imaging.skeleton import dilate, distance, drop_small, thin


def _masks(seed: int, n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        h, w = (int(v) for v in rng.integers(20, 300, 2))
        m = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 8))):
            centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            axes = (int(rng.integers(2, 60)), int(rng.integers(1, 15)))
            cv2.ellipse(m, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        m[rng.random((h, w)) < 0.01] = 255
        m[:, :2] = 255 * (rng.random() < 0.3)  # sometimes a band along the edge
        out.append(m)
    return out


def test_thinning_shape_by_shape_is_opencvs_thinning_of_the_whole() -> None:
    for m in _masks(0, 40):
        assert (thin(m) == (cv2.ximgproc.thinning(m) > 0)).all()
    assert not thin(np.zeros((5, 5), bool)).any()


def test_the_distance_and_the_growing_in_the_box_are_opencvs_over_the_whole() -> None:
    for m in _masks(1, 30):
        whole = cv2.distanceTransform(np.pad(m, 1), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
        # the same but for the float rounding of a square root (a millionth of a pixel)
        assert np.abs(distance(m) - whole[1:-1, 1:-1]).max() < 1e-5
        for r in (1, 4, 17):
            k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
            assert (dilate(m, r) == (cv2.dilate(m, k) > 0)).all()
    assert not dilate(np.zeros((5, 5), bool), 3).any() and not distance(np.zeros((4, 4))).any()


def test_specks_dropped_in_the_box_are_those_dropped_over_the_whole() -> None:
    for m in _masks(2, 30):
        n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        keep = np.zeros(n, bool)
        keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 12
        assert (drop_small(m, 12) == keep[labels]).all()
