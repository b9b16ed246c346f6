"""a version counter on the rows people edit, for optimistic checks

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Issue 21 (clinic mode: many writers, nothing lost). ``client``, ``area``, ``visit``,
``treatment_record`` and ``rating`` get ``version``, counting the row's changes from 1 (a
rating's items count as the rating's). An edit names the version its editor saw and is refused
when the row has moved on (``services.versions``), so two workstations editing one visit never
silently overwrite each other. Existing rows start at 1.

SQLite adds the column in place (``ADD COLUMN`` with a constant default needs no table rebuild,
and writes the same text into every library's schema) and drops it again on the way down
(SQLite 3.35+); PostgreSQL does the same with its own ALTER TABLE.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literally here (a migration never changes with the code): the tables people edit.
TABLES = ("client", "area", "visit", "treatment_record", "rating")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name != "postgresql"
    for table in TABLES:
        if sqlite:
            op.execute(f"ALTER TABLE {table} ADD COLUMN version INTEGER DEFAULT 1 NOT NULL")
        else:
            op.add_column(
                table,
                sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
            )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name != "postgresql"
    for table in reversed(TABLES):
        if sqlite:
            op.execute(f"ALTER TABLE {table} DROP COLUMN version")
        else:
            op.drop_column(table, "version")
