"""0002 → 0003: stored 2×3 alignments become 3×3 with how they were made, and back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from PIL import Image

from tests import helpers as h
from tests.core.db.migrating import migrate
from tracker.core.db import engine as db
from tracker.core.imaging import geometry as al
from tracker.core.queries import browse
from tracker.core.services import photos
from tracker.core.store.library import Library

SIMILAR = [0.98, -0.05, 12.0, 0.05, 0.98, 4.0]
AFFINE = [1.05, 0.08, 25.0, -0.04, 0.97, -40.0]
SIMILAR_3X3 = al.affine_matrix(*SIMILAR)
AFFINE_3X3 = al.affine_matrix(*AFFINE)


def test_two_by_three_alignments_become_three_by_three_and_go_back(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    files = []
    for i in range(4):
        path = tmp_path / f"p{i}.jpg"
        Image.effect_noise((64, 48), 30 + i).convert("RGB").save(path)
        files.append(path)
    with Library.open(root, create=True) as lib:
        ids = [r.photo_id for r in h.import_files(lib, files, area="Hips").imported]
    migrate(root, "0002")
    assert db.read_revision(root / "library.sqlite3") == "0002"
    with sqlite3.connect(root / "library.sqlite3") as conn:
        for pid, m in ((ids[1], SIMILAR), (ids[2], AFFINE), (ids[3], [1, 0, 0])):
            conn.execute("UPDATE photo SET alignment = ? WHERE id = ?", (json.dumps(m), pid))
        # 0002 stored a cleared edit as the JSON text 'null'
        conn.execute(
            "UPDATE photo SET alignment = 'null', colour_gains = 'null' WHERE id = ?", (ids[0],)
        )
    conn.close()

    with Library.open(root) as lib:
        assert db.current_revision(lib.engine) == db.head_revision()
        shown = {p.id: p.alignment for p in browse.compare_photos(lib, ids)}
        assert shown[ids[1]] == al.Alignment(SIMILAR_3X3, "landmarks", "similarity", None, None)
        assert shown[ids[2]] == al.Alignment(AFFINE_3X3, "landmarks", "affine", None, None)
        assert shown[ids[3]] is None  # not an alignment at all: dropped
        assert shown[ids[0]] is None
        with lib.engine.connect() as c:
            nulls = c.exec_driver_sql(
                "SELECT alignment IS NULL, colour_gains IS NULL FROM photo WHERE id = ?", (ids[0],)
            ).one()
        assert tuple(nulls) == (1, 1)
        # a homography cannot go back to 2×3
        tilt: al.Matrix = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1e-4, 0.0, 1.0)
        photos.set_alignments(lib, {ids[3]: al.Alignment(tilt, "auto", "homography", 90, 0.6)})
        assert h.check(lib).ok

    migrate(root, "0002")
    with sqlite3.connect(root / "library.sqlite3") as conn:
        rows = dict(conn.execute("SELECT id, alignment FROM photo").fetchall())
        columns = [r[1] for r in conn.execute("PRAGMA table_info(photo)")]
    conn.close()
    assert json.loads(rows[ids[1]]) == SIMILAR and json.loads(rows[ids[2]]) == AFFINE
    assert rows[ids[3]] is None and rows[ids[0]] is None
    assert "alignment_method" not in columns and "quality" not in columns
    migrate(root, "0003", up=True)
    with Library.open(root) as lib:
        assert browse.compare_photos(lib, [ids[2]])[0].alignment == al.Alignment(
            AFFINE_3X3, "landmarks", "affine", None, None
        )
