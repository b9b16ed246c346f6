"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("fitzpatrick", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "fitzpatrick IS NULL OR fitzpatrick BETWEEN 1 AND 6", name=op.f("ck_client_fitzpatrick")
        ),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_client_name_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client")),
        sa.UniqueConstraint("name", name=op.f("uq_client_name")),
    )
    op.create_table(
        "area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("body_site", sa.String(length=100), nullable=False),
        sa.Column(
            "stage",
            sa.Enum(
                "rubra",
                "alba",
                "unknown",
                name="stage",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("default_scale", sa.String(length=40), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("interval_days BETWEEN 1 AND 365", name=op.f("ck_area_interval_days")),
        sa.CheckConstraint("length(trim(name)) > 0", name=op.f("ck_area_name_not_blank")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_area_client_id_client"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area")),
        sa.UniqueConstraint("client_id", "name", name=op.f("uq_area_client_id")),
    )
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_area_client_id"), ["client_id"], unique=False)

    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "baseline",
                "treatment",
                "check-in",
                "follow-up",
                name="visit_kind",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_visit_client_id_client"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
        sa.UniqueConstraint("client_id", "date", name=op.f("uq_visit_client_id")),
    )
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_client_id"), ["client_id"], unique=False)

    op.create_table(
        "photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("view", sa.String(length=100), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("utc_offset_min", sa.Integer(), nullable=True),
        sa.Column(
            "date_source",
            sa.Enum(
                "exif",
                "file",
                "given",
                name="date_source",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("ext", sa.String(length=8), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("file_size", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("alignment", sa.JSON(), nullable=True),
        sa.Column("colour_gains", sa.JSON(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_photo_sha256")),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_photo_size")),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_photo_area_id_area"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_photo_visit_id_visit"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo")),
        sa.UniqueConstraint("sha256", name=op.f("uq_photo_sha256")),
    )
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_photo_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_photo_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column(
            "rater_role",
            sa.Enum(
                "patient",
                "practitioner",
                name="rater_role",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("rater_name", sa.String(length=200), nullable=False),
        sa.Column("scale_key", sa.String(length=40), nullable=False),
        sa.Column("scale_version", sa.Integer(), nullable=False),
        sa.Column(
            "method",
            sa.Enum(
                "in-person",
                "photos",
                name="rating_method",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["area.id"], name=op.f("fk_rating_area_id_area"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visit.id"], name=op.f("fk_rating_visit_id_visit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating")),
        sa.UniqueConstraint(
            "visit_id",
            "area_id",
            "rater_role",
            "rater_name",
            "scale_key",
            name=op.f("uq_rating_visit_id"),
        ),
    )
    with op.batch_alter_table("rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_area_id"), ["area_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rating_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "treatment_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=True),
        sa.Column("needle_depth_mm", sa.Float(), nullable=True),
        sa.Column("passes", sa.Integer(), nullable=True),
        sa.Column("topical", sa.String(length=200), nullable=True),
        sa.Column("anaesthetic", sa.String(length=200), nullable=True),
        sa.Column("reaction", sa.Text(), nullable=True),
        sa.Column("pain", sa.Integer(), nullable=True),
        sa.Column("downtime_days", sa.Integer(), nullable=True),
        sa.Column("practitioner", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "downtime_days IS NULL OR downtime_days BETWEEN 0 AND 60",
            name=op.f("ck_treatment_record_downtime"),
        ),
        sa.CheckConstraint(
            "needle_depth_mm IS NULL OR needle_depth_mm BETWEEN 0.1 AND 3.5",
            name=op.f("ck_treatment_record_depth"),
        ),
        sa.CheckConstraint(
            "pain IS NULL OR pain BETWEEN 0 AND 10", name=op.f("ck_treatment_record_pain")
        ),
        sa.CheckConstraint(
            "passes IS NULL OR passes BETWEEN 1 AND 20", name=op.f("ck_treatment_record_passes")
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["area.id"],
            name=op.f("fk_treatment_record_area_id_area"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit.id"],
            name=op.f("fk_treatment_record_visit_id_visit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_treatment_record")),
        sa.UniqueConstraint("visit_id", "area_id", name=op.f("uq_treatment_record_visit_id")),
    )
    with op.batch_alter_table("treatment_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_treatment_record_area_id"), ["area_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_treatment_record_visit_id"), ["visit_id"], unique=False
        )

    op.create_table(
        "rating_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("item_key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rating_id"],
            ["rating.id"],
            name=op.f("fk_rating_item_rating_id_rating"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_item")),
        sa.UniqueConstraint("rating_id", "item_key", name=op.f("uq_rating_item_rating_id")),
    )
    with op.batch_alter_table("rating_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_item_rating_id"), ["rating_id"], unique=False)

    op.create_table(
        "reference_photo",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("view", sa.String(length=100), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["area.id"],
            name=op.f("fk_reference_photo_area_id_area"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["photo.id"],
            name=op.f("fk_reference_photo_photo_id_photo"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("area_id", "view", name=op.f("pk_reference_photo")),
    )


def downgrade() -> None:
    op.drop_table("reference_photo")
    with op.batch_alter_table("rating_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_item_rating_id"))

    op.drop_table("rating_item")
    with op.batch_alter_table("treatment_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_treatment_record_visit_id"))
        batch_op.drop_index(batch_op.f("ix_treatment_record_area_id"))

    op.drop_table("treatment_record")
    with op.batch_alter_table("rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_visit_id"))
        batch_op.drop_index(batch_op.f("ix_rating_area_id"))

    op.drop_table("rating")
    with op.batch_alter_table("photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_photo_visit_id"))
        batch_op.drop_index(batch_op.f("ix_photo_area_id"))

    op.drop_table("photo")
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_client_id"))

    op.drop_table("visit")
    with op.batch_alter_table("area", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_area_client_id"))

    op.drop_table("area")
    op.drop_table("client")
