"""originals and derived files in the database: blobs in chunks

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

Issue 21 (clinic mode). ``blob`` holds one stored file: an original, named by the SHA-256 of
its plain bytes, or a thumbnail or preview, named by its original's (``kind`` tells which);
its plain size, how many chunks it has, and, in an encrypted library, the header of its
encryption (NULL for a plain one). ``blob_chunk`` holds its bytes in order, at most 1 MiB of
plaintext each (``seq`` from 0): ciphertext in an encrypted library, so the server never holds
a photo in the clear. Both are written in the transaction of the photo's row, so a rolled-back
import leaves no blob and one backup of the database holds everything.

On PostgreSQL the chunks' bytes are stored EXTERNAL: TOAST keeps them out of line, as any large
value, but does not try to compress JPEG or ciphertext, which does not compress.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'original', 'thumbs', 'previews'"


def upgrade() -> None:
    op.create_table(
        "blob",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("header", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(f"kind IN ({KINDS})", name=op.f("ck_blob_kind")),
        sa.CheckConstraint("size >= 0 AND chunks >= 1", name=op.f("ck_blob_counts")),
        sa.PrimaryKeyConstraint("sha256", "kind", name=op.f("pk_blob")),
    )
    op.create_table(
        "blob_chunk",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("seq >= 0", name=op.f("ck_blob_chunk_seq")),
        sa.ForeignKeyConstraint(
            ["sha256", "kind"],
            ["blob.sha256", "blob.kind"],
            name=op.f("fk_blob_chunk_sha256_blob"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sha256", "kind", "seq", name=op.f("pk_blob_chunk")),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute("ALTER TABLE blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("blob_chunk")
    op.drop_table("blob")
