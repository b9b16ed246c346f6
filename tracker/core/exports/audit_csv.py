"""The audit trail as a CSV file (Library ▸ Audit ▸ Export CSV): one row an entry, oldest
first, UTF-8 with a header row; text cells safe from formula injection, as the ratings'."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from tracker.core.errors import UsageError
from tracker.core.exports.ratings_csv import neutralise
from tracker.core.files import refuse_inside, write_atomically
from tracker.core.services.audit import AuditEntry
from tracker.core.store.library import Library

COLUMNS = ["id", "at", "actor", "action", "client_id", "subject", "detail"]


def to_csv(rows: Sequence[AuditEntry]) -> str:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: neutralise(v) for k, v in row.as_dict().items()})
    return buf.getvalue()


def export(lib: Library, rows: Sequence[AuditEntry], out: Path) -> dict[str, object]:
    """Write ``rows`` to ``out`` (a new .csv outside the library, written whole or not at all)."""
    if out.suffix.lower() != ".csv":
        raise UsageError(
            f"{out.name}: the audit trail is exported as .csv; choose a name ending in .csv."
        )
    if not out.parent.is_dir():
        raise UsageError(f"The folder {out.parent} does not exist.")
    refuse_inside(None if lib.server else lib.root, out)
    write_atomically(out, to_csv(rows).encode("utf-8"))
    return {"file": str(out), "rows": len(rows)}
