"""Every record of a library copied from one database to another, ids and all (issue 21):
a folder's SQLite into a clinic's PostgreSQL (``clinic_migrate``) and back (``server_backup``).

The tables go in the order of their foreign keys (``MetaData.sorted_tables``), each in the
order of its key, in batches, with every column as stored: the ids stay the ids, so the audit
trail's entries (which name ids and are chained by hashes over them) still chain, and nothing
that refers to a row needs rewriting. A column that refers to its own table (an area's
control area) is written NULL first and set once the whole table is in, since one row may name
a later one. The stored files (``blob``, ``blob_chunk``) are not rows to copy: a folder keeps
its originals as files, and each side has its own way to store and check them.

Both sessions are the caller's: what is written is kept only when it commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, func, insert, select, text, update
from sqlalchemy.orm import Session

from tracker.core.db.models import Base

BATCH = 500
# Kept by the stores, not copied as rows (see the module).
STORES = frozenset({"blob", "blob_chunk"})
TABLES: tuple[Table, ...] = tuple(t for t in Base.metadata.sorted_tables if t.name not in STORES)


def copy_rows(src: Session, dst: Session) -> dict[str, int]:
    """Copy every row of ``TABLES`` from ``src`` into ``dst`` (which must hold none of them);
    how many rows each table had."""
    copied: dict[str, int] = {}
    for table in TABLES:
        own = [fk.parent.name for fk in table.foreign_keys if fk.column.table is table]
        later: list[dict[str, Any]] = []
        count = 0
        result = src.execute(select(table).order_by(*table.primary_key.columns))
        for batch in result.mappings().partitions(BATCH):
            rows = [dict(row) for row in batch]
            for row in rows:
                named = {name: row[name] for name in own if row[name] is not None}
                if named:
                    later.append({**{c.name: row[c.name] for c in table.primary_key}, **named})
                    row.update(dict.fromkeys(named))
            dst.execute(insert(table), rows)
            count += len(rows)
        for row in later:
            keys = [c == row[c.name] for c in table.primary_key.columns]
            values = {name: row[name] for name in own if name in row}
            dst.execute(update(table).where(*keys).values(**values))
        copied[table.name] = count
    return copied


def counts(s: Session) -> dict[str, int]:
    """How many rows each of ``TABLES`` holds, as ``s`` sees it."""
    return {
        table.name: int(s.scalar(select(func.count()).select_from(table)) or 0) for table in TABLES
    }


def move_sequences_on(s: Session) -> None:
    """On PostgreSQL, set each table's id sequence past the ids copied into it (``setval``),
    so that the next row made there gets a new id; nothing on SQLite (which takes the
    largest id and one more)."""
    if s.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        columns = list(table.primary_key.columns)
        if len(columns) != 1 or columns[0].name != "id":
            continue
        sequence = s.scalar(
            text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        )
        if sequence is None:
            continue
        top = s.scalar(select(func.max(columns[0])))
        # ``is_called`` false: the next value handed out is exactly this one.
        s.execute(
            text("SELECT setval(CAST(:seq AS regclass), :next, false)"),
            {"seq": sequence, "next": int(top or 0) + 1},
        )
