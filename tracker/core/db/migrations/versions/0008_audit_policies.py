"""the audit trail's row-level security on a clinic's server

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

Issue 21 (clinic mode). On PostgreSQL the audit table gets row-level security: every login may
read it (the GRANTs of ``db.roles`` decide who has SELECT at all), and an entry is accepted only
when its actor is the login writing it (``session_user``) and, for an export, a print, a backup,
a restore or an erase, only from an admin or a practitioner. The groups are named as text in
``pg_has_role``, so no role needs to exist when the policies are made. They live in a migration,
not in the rights granted by ``db.roles``, because they are schema objects: the server's schema
check (``server_schema``) compares what a database holds with what the migrations make.

Nothing changes on SQLite: a folder library has one user, and its audit trail is guarded by the
triggers of 0005 and the hash chain.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept literally here (a migration never changes with the code): db.roles.LIMITED_ACTIONS.
LIMITED = "'exported', 'printed', 'backed-up', 'restored', 'erased'"
MAY_ALL = "pg_has_role('tracker_admin', 'MEMBER') OR pg_has_role('tracker_practitioner', 'MEMBER')"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE audit ENABLE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY tracker_audit_read ON audit FOR SELECT USING (true)")
    op.execute(
        "CREATE POLICY tracker_audit_append ON audit FOR INSERT WITH CHECK "
        f"(actor = session_user::text AND (action NOT IN ({LIMITED}) OR {MAY_ALL}))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP POLICY IF EXISTS tracker_audit_append ON audit")
    op.execute("DROP POLICY IF EXISTS tracker_audit_read ON audit")
    op.execute("ALTER TABLE audit DISABLE ROW LEVEL SECURITY")
