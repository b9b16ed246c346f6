"""consent per client and purpose, and an append-only audit trail

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

Issue 20. ``consent`` records who agreed to what: a client, a purpose (care record, comparison
shown to the client, sharing with another clinician, teaching, publication, marketing), whether
the use may identify them, and its scope: every photo, or the photos ``consent_photo`` names. It
says who recorded it and when, when it expires and when (and by whom) it was withdrawn.

``audit`` is an append-only record of who did what when: the action, the client and the ids it
concerned, a short detail (never photo data or notes), and a SHA-256 chain (``prev_hash``,
``hash``) over each row's canonical form, so a row deleted or edited is found. Two triggers
refuse an UPDATE or DELETE of its rows; the chain finds what bypasses them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES = "'care', 'shown', 'sharing', 'teaching', 'publication', 'marketing'"
ACTIONS = (
    "'opened', 'viewed', 'exported', 'printed', 'backed-up', 'restored', 'erased', "
    "'consent', 'unlocked', 'unlock-failed'"
)


def upgrade() -> None:
    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("identifiable", sa.Boolean(), nullable=False),
        sa.Column("all_photos", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"purpose IN ({PURPOSES})", name=op.f("ck_consent_purpose")),
        sa.CheckConstraint(
            "expires_on IS NULL OR expires_on >= recorded_on", name=op.f("ck_consent_expiry")
        ),
        sa.CheckConstraint(
            "(withdrawn_on IS NULL) = (withdrawn_by IS NULL)", name=op.f("ck_consent_withdrawal")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
            name=op.f("fk_consent_client_id_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    op.create_index("ix_consent_client_id", "consent", ["client_id"], unique=False)
    op.create_table(
        "consent_photo",
        sa.Column("consent_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"],
            ["consent.id"],
            name=op.f("fk_consent_photo_consent_id_consent"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["photo.id"],
            name=op.f("fk_consent_photo_photo_id_photo"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("consent_id", "photo_id", name=op.f("pk_consent_photo")),
    )
    op.create_index("ix_consent_photo_photo_id", "consent_photo", ["photo_id"], unique=False)
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint(f"action IN ({ACTIONS})", name=op.f("ck_audit_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_hash")),
    )
    if op.get_context().dialect.name == "postgresql":
        _create_triggers_postgresql()
        return
    op.execute(
        "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
    )


# PostgreSQL: one plpgsql function raises for the same rule; TRUNCATE, which skips row triggers,
# is refused as well. The row triggers have SQLite's names.
_PG_FUNCTION = """CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only'
        USING ERRCODE = 'integrity_constraint_violation';
END
$$"""


def _create_triggers_postgresql() -> None:
    op.execute(_PG_FUNCTION)
    for name, event, each in (
        ("audit_no_update", "UPDATE", "ROW"),
        ("audit_no_delete", "DELETE", "ROW"),
        ("audit_no_truncate", "TRUNCATE", "STATEMENT"),
    ):
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {event} ON audit "
            f"FOR EACH {each} EXECUTE FUNCTION audit_append_only()"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.drop_table("audit")  # and its triggers with it
        op.execute("DROP FUNCTION audit_append_only()")
    else:
        op.execute("DROP TRIGGER audit_no_delete")
        op.execute("DROP TRIGGER audit_no_update")
        op.drop_table("audit")
    op.drop_index("ix_consent_photo_photo_id", table_name="consent_photo")
    op.drop_table("consent_photo")
    op.drop_index("ix_consent_client_id", table_name="consent")
    op.drop_table("consent")
