"""A library's database in a PostgreSQL server (clinic mode, issue 21): the engine and migrations.

The same models and Alembic migrations as a folder library's SQLite file; the migrations branch
on the dialect where SQLite's SQL is not PostgreSQL's (0003's JSON test, 0004's rebuilt area
table, 0005's triggers). The driver is psycopg 3 (the ``clinic`` extra); SQLAlchemy loads it
when the first engine is made, so the desktop app never imports it.
"""

from __future__ import annotations

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from tracker.core.db import engine as db
from tracker.core.errors import LibraryError


def make_pg_engine(url: str) -> Engine:
    """An engine for a ``postgresql://`` (or ``postgresql+psycopg://``) URL, driven by psycopg.

    ``hide_parameters``: an error's message never holds the values bound to a statement, which
    can be a client's name or a visit's notes (as for the SQLite engine).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise LibraryError(f"{parsed.render_as_string()} is not a postgresql:// address.")
    if "+" in parsed.drivername and parsed.get_driver_name() != "psycopg":
        raise LibraryError(f"{parsed.render_as_string()}: only the psycopg driver is supported.")
    # A bare postgresql:// means psycopg2 to SQLAlchemy: the app uses psycopg 3.
    parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(parsed, future=True, hide_parameters=True, pool_pre_ping=True)


def upgrade(engine: Engine, revision: str | None = None) -> None:
    """Migrate the server's database to ``revision`` (the head by default) in one transaction:
    PostgreSQL's DDL is transactional, so a failed migration leaves it as it was."""
    with engine.begin() as conn:
        # start-up time: Alembic is loaded only when migrating (see engine.SCHEMA_HEAD)
        from alembic import command

        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision or db.head_revision())


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate the server's database down to ``revision`` ("base": no tables at all)."""
    with engine.begin() as conn:
        # start-up time: Alembic is loaded only when migrating (see engine.SCHEMA_HEAD)
        from alembic import command

        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
