"""The canvas draws a photo through its 3×3 placement exactly as the core maps points."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, QRectF

from tracker.core.imaging import geometry as al
from tracker.ui.compare.canvas import qtransform

TILT: al.Matrix = (1.03, 0.04, -12.0, -0.02, 0.99, 9.0, 4e-5, -3e-5, 1.0)


@pytest.mark.parametrize("m", [TILT, al.affine_matrix(0.9, -0.1, 40.0, 0.1, 0.9, -7.0)])
def test_qtransform_maps_points_as_the_core_does(m: al.Matrix) -> None:
    t = qtransform(m)
    assert t.isAffine() == al.is_affine(m)
    for p in [(0.0, 0.0), (800.0, 0.0), (800.0, 600.0), (123.0, 456.0)]:
        q = t.map(QPointF(*p))
        assert (q.x(), q.y()) == pytest.approx(al.apply(m, p), abs=1e-6)
    inverse, ok = t.inverted()
    assert ok
    back = inverse.map(t.map(QPointF(300.0, 200.0)))
    assert (back.x(), back.y()) == pytest.approx((300.0, 200.0), abs=1e-6)
    # the bounds of a whole photo (fit) are those of its corners through the placement
    corners = [al.apply(m, p) for p in [(0, 0), (800, 0), (800, 600), (0, 600)]]
    box = t.mapRect(QRectF(0, 0, 800, 600))
    assert box.left() == pytest.approx(min(x for x, _ in corners), abs=1e-6)
    assert box.bottom() == pytest.approx(max(y for _, y in corners), abs=1e-6)
