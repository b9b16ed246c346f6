"""alignments as 3×3 matrices with how they were made; the card's scale and the capture checks

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

A stored alignment was a 2×3 affine matrix ``[a, b, c, d, e, f]``; it becomes the 3×3
``[a, b, c, d, e, f, 0, 0, 1]`` (row-major), which holds a homography as well. Each alignment
now says how it was made (``alignment_method``: landmarks or automatic; ``alignment_model``:
similarity, affine or homography), how many points or features agreed and their residual in
the reference's pixels. A photo's calibration card gives its pixels per millimetre and the
card's findings (``card``: the neutral patches and the card's homography); ``quality`` holds
the capture checks made at import. Alignments stored before this revision were made from
landmarks; their model is read from the matrix.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _model(m: list[float]) -> str:
    a, b, _c, d, e, _f = m
    similar = abs(a - e) <= 1e-9 * max(1.0, abs(a)) and abs(b + d) <= 1e-9 * max(1.0, abs(b))
    return "similarity" if similar else "affine"


def upgrade() -> None:
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alignment_method", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("alignment_model", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("alignment_points", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("alignment_residual_px", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("px_per_mm", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("card", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("quality", sa.JSON(), nullable=True))
    conn = op.get_bind()
    # A cleared edit was stored as the JSON text 'null' before 0003; it is SQL NULL now.
    # (PostgreSQL's json has no '=': compared as text there.)
    if op.get_context().dialect.name == "postgresql":
        conn.execute(
            sa.text("UPDATE photo SET colour_gains = NULL WHERE colour_gains::text = 'null'")
        )
    else:
        conn.execute(sa.text("UPDATE photo SET colour_gains = NULL WHERE colour_gains = 'null'"))
    rows = conn.execute(sa.text("SELECT id, alignment FROM photo WHERE alignment IS NOT NULL"))
    for pid, raw in rows.fetchall():
        m = json.loads(raw) if isinstance(raw, str) else raw
        if not isinstance(m, list) or len(m) != 6:
            conn.execute(sa.text("UPDATE photo SET alignment = NULL WHERE id = :i"), {"i": pid})
            continue
        conn.execute(
            sa.text(
                "UPDATE photo SET alignment = :m, alignment_method = 'landmarks', "
                "alignment_model = :k WHERE id = :i"
            ),
            {"m": json.dumps([*m, 0.0, 0.0, 1.0]), "k": _model(m), "i": pid},
        )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, alignment FROM photo WHERE alignment IS NOT NULL"))
    for pid, raw in rows.fetchall():
        m = json.loads(raw) if isinstance(raw, str) else raw
        affine = isinstance(m, list) and len(m) == 9 and m[6] == 0 and m[7] == 0 and m[8] == 1
        conn.execute(
            sa.text("UPDATE photo SET alignment = :m WHERE id = :i"),
            {"m": json.dumps(m[:6]) if affine else None, "i": pid},
        )
    with op.batch_alter_table("photo", schema=None) as batch_op:
        for column in (
            "quality",
            "card",
            "px_per_mm",
            "alignment_residual_px",
            "alignment_points",
            "alignment_model",
            "alignment_method",
        ):
            batch_op.drop_column(column)
