"""a version counter on photos, for optimistic checks of moves and relabels

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

Issue 21 (many writers, nothing lost). ``photo`` gets ``version``, counting the row's changes
from 1, as 0009 gave clients, areas, visits, treatment records and ratings: a move, a new
view, a removal or a restore names the version its editor saw and is refused when another
workstation changed the photo since (``services.versions``), where the last writer used to
win. Existing photos start at 1.

Added in place on both engines, as 0009 does (SQLite's ``ADD COLUMN`` with a constant default
needs no table rebuild), and dropped again on the way down.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("ALTER TABLE photo ADD COLUMN version INTEGER DEFAULT 1 NOT NULL")
    else:
        op.add_column(
            "photo",
            sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("ALTER TABLE photo DROP COLUMN version")
    else:
        op.drop_column("photo", "version")
