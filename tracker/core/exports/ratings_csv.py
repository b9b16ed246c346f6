"""CSV of every rating item, one row each, with the visit and its treatment record; then the
measures of the marks, one row per measure per photo (``measures_csv``, issue 18).

An instrument's total (the POSAS total of its six items) follows its items as a row of its
own, marked ``total`` in the ``row`` column (the items are ``item``), so a spreadsheet can
pivot either without adding the total in again. A POSAS rating with an item missing has no
total row: five items are not a POSAS total.

UTF-8 with a header row. A text cell that a spreadsheet would read as a formula (starting with
=, +, -, @, or a tab or carriage return) is prefixed with an apostrophe, so opening the file can
never run anything.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import select

from tracker.core.db.models import Area, Client, Rating, RatingItem, TreatmentRecord, Visit
from tracker.core.domain.instruments import TOTAL, item_label
from tracker.core.domain.scales import SCALES
from tracker.core.domain.treatment import TREATMENT_FIELDS
from tracker.core.errors import UsageError
from tracker.core.exports import measures_csv
from tracker.core.files import refuse_inside, write_atomically
from tracker.core.store.library import Library

COLUMNS = (
    "client",
    "area",
    "visit_date",
    "visit_kind",
    "rater_role",
    "rater_name",
    "method",
    "scale",
    "scale_version",
    "row",
    "item",
    "item_label",
    "value",
    *TREATMENT_FIELDS,
    # the measures' rows (``measures_csv``): empty in a rating's row
    "photo_id",
    "view",
    "unit",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """A text cell made safe from formula injection; numbers are left as numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def rows(
    lib: Library, client_id: int | None = None, area_id: int | None = None
) -> list[dict[str, object]]:
    """One row per rated item, of one client or area when given, by client, area and date."""
    with lib.session() as s:
        q = (
            select(RatingItem, Rating, Visit, Area, Client)
            .join(Rating, RatingItem.rating_id == Rating.id)
            .join(Visit, Rating.visit_id == Visit.id)
            .join(Area, Rating.area_id == Area.id)
            .join(Client, Visit.client_id == Client.id)
            .order_by(
                Client.name,
                Area.name,
                Visit.date,
                Rating.rater_role,
                Rating.rater_name,
                Rating.scale_key,
                RatingItem.id,
            )
        )
        if client_id is not None:
            q = q.where(Client.id == client_id)
        if area_id is not None:
            q = q.where(Area.id == area_id)
        records = {(r.visit_id, r.area_id): r for r in s.scalars(select(TreatmentRecord))}
        out: list[dict[str, object]] = []
        last: tuple[Rating, Visit, Area, Client] | None = None
        values: dict[str, float] = {}

        def add(rating: Rating, visit: Visit, a: Area, c: Client, kind: str, key: str) -> None:
            scale = SCALES.get(rating.scale_key)
            value = values[key] if key != TOTAL else scale.total(values) if scale else None
            if value is None:
                return
            record = records.get((visit.id, a.id))
            row: dict[str, object] = {
                "client": c.name,
                "area": a.name,
                "visit_date": visit.date.isoformat(),
                "visit_kind": visit.kind.value,
                "rater_role": rating.rater_role.value,
                "rater_name": rating.rater_name,
                "method": rating.method.value,
                "scale": rating.scale_key,
                "scale_version": rating.scale_version,
                "row": kind,
                "item": key,
                "item_label": item_label(scale, key) if scale else key,
                "value": int(value) if value == int(value) else value,
            }
            for field in TREATMENT_FIELDS:
                given = getattr(record, field) if record is not None else None
                row[field] = "" if given is None else given
            out.append(row)

        def close() -> None:
            if last is not None:
                add(*last, "total", TOTAL)
                values.clear()

        for item, rating, visit, a, c in s.execute(q):
            if last is None or last[0].id != rating.id:
                close()
                last = (rating, visit, a, c)
            values[item.item_key] = item.value
            add(rating, visit, a, c, "item", item.item_key)
        close()
        return out


def to_csv(table: list[dict[str, object]]) -> str:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in table:
        writer.writerow({k: neutralise(v) for k, v in row.items()})
    return buf.getvalue()


def export(
    lib: Library, out: Path, client_id: int | None = None, area_id: int | None = None
) -> dict[str, object]:
    if out.suffix.lower() != ".csv":
        raise UsageError(f"{out.name}: ratings are exported as .csv; choose a name ending in .csv.")
    if not out.parent.is_dir():
        raise UsageError(f"The folder {out.parent} does not exist.")
    refuse_inside(None if lib.server else lib.root, out)
    table = rows(lib, client_id, area_id) + measures_csv.rows(lib, client_id, area_id)
    # by client, area and date (stable: each part keeps its own order within a visit)
    table.sort(key=lambda r: (str(r["client"]), str(r["area"]), str(r["visit_date"])))
    write_atomically(out, to_csv(table).encode("utf-8"))
    return {"file": str(out), "rows": len(table)}
