"""What the migration tests share: a library folder's database migrated up or down to a
revision with Alembic (foreign keys off, as the migrations run), and the names of the objects
its schema holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command

from tracker.core.db import engine as db


def migrate(root: Path, revision: str, up: bool = False) -> None:
    engine = db.make_engine(root / "library.sqlite3", foreign_keys=False)
    with engine.begin() as conn:
        cfg = db.alembic_config()
        cfg.attributes["connection"] = conn
        (command.upgrade if up else command.downgrade)(cfg, revision)
    engine.dispose()


def schema_objects(root: Path) -> set[str]:
    conn = sqlite3.connect(root / "library.sqlite3")
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    finally:
        conn.close()
