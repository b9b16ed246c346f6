"""Thinning one shape at a time (``imaging.skeleton.thin``) gives OpenCV's skeleton exactly,
for shapes anywhere, touching the image's edges, and specks."""

from __future__ import annotations

import cv2
import numpy as np

from tracker.core.imaging.skeleton import thin


def test_thinning_shape_by_shape_is_opencvs_thinning_of_the_whole() -> None:
    rng = np.random.default_rng(0)
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(20, 300, 2))
        m = np.zeros((h, w), np.uint8)
        for _ in range(int(rng.integers(1, 8))):
            centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
            axes = (int(rng.integers(2, 60)), int(rng.integers(1, 15)))
            cv2.ellipse(m, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1)
        m[rng.random((h, w)) < 0.01] = 255
        m[:, :2] = 255 * (rng.random() < 0.3)  # sometimes a band along the edge
        assert (thin(m) == (cv2.ximgproc.thinning(m) > 0)).all()
    assert not thin(np.zeros((5, 5), bool)).any()
