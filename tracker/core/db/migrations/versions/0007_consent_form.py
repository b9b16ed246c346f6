"""a consent's signed form: its file's sha256, kind and size

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

Issue 20. A consent may hold one scanned, signed form (a PDF, JPEG, PNG or HEIC file, at most
20 MB), kept by the photo store as an original is (``originals/ab/<sha256>.form.<kind>``,
encrypted in an encrypted library; ``services.consent_forms``). ``consent`` names it by the
sha256 of its bytes, its kind and its size, all three or none. Taking this revision down drops
the columns: the forms' files stay in ``originals/``, where a check reports them as strays.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'pdf', 'jpg', 'png', 'heic'"
MAX_BYTES = 20 * 1024 * 1024
_CHECKS = {
    "form": "(form_sha256 IS NULL) = (form_kind IS NULL) AND "
    "(form_sha256 IS NULL) = (form_size IS NULL)",
    "form_kind": f"form_kind IS NULL OR form_kind IN ({KINDS})",
    "form_size": f"form_size IS NULL OR form_size BETWEEN 1 AND {MAX_BYTES}",
}

# The consent table as 0005 made it, and with the form's columns. It is rebuilt here by hand
# on SQLite, not by Alembic's batch mode, which writes the constraints in an order that changes
# from run to run: the schema's digest (``db/schema.py``) must be the same in every library.
_COLUMNS = """    id INTEGER NOT NULL,
    client_id INTEGER NOT NULL,
    purpose VARCHAR(16) NOT NULL,
    identifiable BOOLEAN NOT NULL,
    all_photos BOOLEAN NOT NULL,
    recorded_by VARCHAR(200) NOT NULL,
    recorded_on DATE NOT NULL,
    expires_on DATE,
    withdrawn_on DATE,
    withdrawn_by VARCHAR(200),
    created_at DATETIME NOT NULL,
"""
_FORM_COLUMNS = """    form_sha256 VARCHAR(64),
    form_kind VARCHAR(8),
    form_size INTEGER,
"""
_CONSTRAINTS = """    CONSTRAINT pk_consent PRIMARY KEY (id),
    CONSTRAINT ck_consent_purpose CHECK (purpose IN ('care', 'shown', 'sharing', 'teaching', 'publication', 'marketing')),
    CONSTRAINT ck_consent_expiry CHECK (expires_on IS NULL OR expires_on >= recorded_on),
    CONSTRAINT ck_consent_withdrawal CHECK ((withdrawn_on IS NULL) = (withdrawn_by IS NULL)),
    CONSTRAINT fk_consent_client_id_client FOREIGN KEY(client_id) REFERENCES client (id) ON DELETE CASCADE"""
_FORM_CONSTRAINTS = "".join(
    f",\n    CONSTRAINT ck_consent_{name} CHECK ({rule})" for name, rule in _CHECKS.items()
)
_KEPT = (
    "id, client_id, purpose, identifiable, all_photos, recorded_by, recorded_on, expires_on, "
    "withdrawn_on, withdrawn_by, created_at"
)


def _rebuild_sqlite(columns: str, constraints: str) -> None:
    """Make the consent table again with ``columns`` and ``constraints``, its rows kept (the
    migration runs with foreign keys off, so ``consent_photo`` keeps its rows too)."""
    conn = op.get_bind()
    conn.execute(sa.text(f"CREATE TABLE consent_new (\n{columns}{constraints}\n)"))
    conn.execute(sa.text(f"INSERT INTO consent_new ({_KEPT}) SELECT {_KEPT} FROM consent"))
    conn.execute(sa.text("DROP TABLE consent"))
    conn.execute(sa.text("ALTER TABLE consent_new RENAME TO consent"))
    op.create_index("ix_consent_client_id", "consent", ["client_id"], unique=False)


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        _rebuild_sqlite(_COLUMNS + _FORM_COLUMNS, _CONSTRAINTS + _FORM_CONSTRAINTS)
        return
    # PostgreSQL alters the table in place (others refer to it): the same columns in the same
    # order, the same constraints by the same names, as the rebuilt one.
    op.add_column("consent", sa.Column("form_sha256", sa.String(length=64), nullable=True))
    op.add_column("consent", sa.Column("form_kind", sa.String(length=8), nullable=True))
    op.add_column("consent", sa.Column("form_size", sa.Integer(), nullable=True))
    for name, rule in _CHECKS.items():
        op.create_check_constraint(op.f(f"ck_consent_{name}"), "consent", rule)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        _rebuild_sqlite(_COLUMNS, _CONSTRAINTS)
        return
    for name in reversed(list(_CHECKS)):
        op.drop_constraint(op.f(f"ck_consent_{name}"), "consent", type_="check")
    for column in ("form_size", "form_kind", "form_sha256"):
        op.drop_column("consent", column)
