"""a clinic library's key document, in its database

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

Issue 21. A clinic library in PostgreSQL whose photos are encrypted on the workstations keeps
its key document (``crypto.keys``: the master key wrapped by the clinic's passphrase and by
its recovery key, never the key itself) in ``library_key``, one row, where a folder library
keeps it in its ``library.key`` file. The server holds no key that opens the photos: only a
workstation that is given the passphrase unwraps it (``store.server_keys``).

PostgreSQL only: a library folder has its key file, and its SQLite schema is left exactly as
0009 made it (the same digest: ``db/schema.py``).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE library_key ("
        "id INTEGER NOT NULL, "
        "document TEXT NOT NULL, "
        "created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT (now() AT TIME ZONE 'utc'), "
        "CONSTRAINT pk_library_key PRIMARY KEY (id), "
        "CONSTRAINT ck_library_key_one CHECK (id = 1))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TABLE library_key")
