"""objective measures of the marks: regions, the control area, the sensitivity, stored measures

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Issue 18. ``region`` holds the polygons drawn on an area's reference photo for one view (the
marks' region, and optionally a patch of untreated skin beside them), in the reference photo's
upright full-resolution pixels, with a version counted up at each change. An area can be an
untreated control (``is_control``), and a treated area names the control it is compared with
(``control_area_id``); ``mark_sensitivity`` is the user's nudge of how faint a mark is found
(NULL: the engine's default). ``measure`` holds each photo's measures (or why it could not be
measured) with what they were computed from and a digest of that, to find stale ones.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The area table as this revision makes it. It is rebuilt here by hand, not by Alembic's batch
# mode, which writes the constraints in an order that changes from run to run (it takes them
# from a set): the schema's digest (``db/schema.py``) must be the same in every library.
_AREA = """CREATE TABLE area_new (
    id INTEGER NOT NULL,
    client_id INTEGER NOT NULL,
    name VARCHAR(200) NOT NULL,
    body_site VARCHAR(100) NOT NULL,
    stage VARCHAR(16) NOT NULL,
    default_scale VARCHAR(40) NOT NULL,
    interval_days INTEGER NOT NULL,
    notes TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    is_control BOOLEAN DEFAULT 0 NOT NULL,
    control_area_id INTEGER,
    mark_sensitivity FLOAT,
    CONSTRAINT pk_area PRIMARY KEY (id),
    CONSTRAINT uq_area_client_id UNIQUE (client_id, name),
    CONSTRAINT fk_area_client_id_client FOREIGN KEY(client_id) REFERENCES client (id) ON DELETE CASCADE,
    CONSTRAINT ck_area_stage CHECK (stage IN ('rubra', 'alba', 'unknown')),
    CONSTRAINT ck_area_interval_days CHECK (interval_days BETWEEN 1 AND 365),
    CONSTRAINT ck_area_name_not_blank CHECK (length(trim(name)) > 0),
    CONSTRAINT fk_area_control_area_id_area FOREIGN KEY(control_area_id) REFERENCES area (id) ON DELETE SET NULL,
    CONSTRAINT ck_area_mark_sensitivity CHECK (mark_sensitivity IS NULL OR mark_sensitivity BETWEEN 1.5 AND 8),
    CONSTRAINT ck_area_control_not_self CHECK (control_area_id IS NULL OR control_area_id <> id)
)"""
_AREA_COLUMNS = (
    "id, client_id, name, body_site, stage, default_scale, interval_days, notes, created_at"
)


def _upgrade_area_postgresql() -> None:
    """PostgreSQL alters the table in place (it cannot drop a table others refer to): the same
    columns in the same order, the same constraints by the same names, as the rebuilt one."""
    op.add_column(
        "area", sa.Column("is_control", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    op.add_column("area", sa.Column("control_area_id", sa.Integer(), nullable=True))
    op.add_column("area", sa.Column("mark_sensitivity", sa.Float(), nullable=True))
    op.create_foreign_key(
        op.f("fk_area_control_area_id_area"),
        "area",
        "area",
        ["control_area_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_check_constraint(
        op.f("ck_area_mark_sensitivity"),
        "area",
        "mark_sensitivity IS NULL OR mark_sensitivity BETWEEN 1.5 AND 8",
    )
    op.create_check_constraint(
        op.f("ck_area_control_not_self"), "area", "control_area_id IS NULL OR control_area_id <> id"
    )


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _upgrade_area_postgresql()
    else:
        _upgrade_area_sqlite()
    _create_region_and_measure()


def _upgrade_area_sqlite() -> None:
    conn = op.get_bind()
    conn.execute(sa.text(_AREA))
    conn.execute(
        sa.text(f"INSERT INTO area_new ({_AREA_COLUMNS}) SELECT {_AREA_COLUMNS} FROM area")
    )
    conn.execute(sa.text("DROP TABLE area"))
    conn.execute(sa.text("ALTER TABLE area_new RENAME TO area"))
    op.create_index("ix_area_client_id", "area", ["client_id"], unique=False)


def _create_region_and_measure() -> None:
    op.create_table(
        "region",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("view", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("reference_photo_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('marks', 'skin')", name=op.f("ck_region_kind")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_region_version")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_region_area_id_area"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["reference_photo_id"],
            ["photo.id"],
            name=op.f("fk_region_reference_photo_id_photo"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("area_id", "view", "kind", name=op.f("pk_region")),
    )
    op.create_table(
        "measure",
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.Column("values", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("inputs_key", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            '("values" IS NULL) <> (error IS NULL)', name=op.f("ck_measure_values_or_error")
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"], ["photo.id"], name=op.f("fk_measure_photo_id_photo"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("photo_id", name=op.f("pk_measure")),
    )


def downgrade() -> None:
    op.drop_table("measure")
    op.drop_table("region")
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_area_control_not_self"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_area_mark_sensitivity"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_area_control_area_id_area"), type_="foreignkey")
        batch_op.drop_column("mark_sensitivity")
        batch_op.drop_column("control_area_id")
        batch_op.drop_column("is_control")
