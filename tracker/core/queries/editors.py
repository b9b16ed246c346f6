"""What an editing dialog opens with: the fields it edits, read together with the row's
``version`` in one statement (issue 21), so that the version the edit names is the one of
the values the person saw; one read older than the other would let a change made between
the two through unseen, or refuse an edit for a change the dialog shows."""

from __future__ import annotations

from sqlalchemy import select

from tracker.core.db.models import Area
from tracker.core.errors import NotFoundError
from tracker.core.queries.rows import AreaFields
from tracker.core.store.library import Library


def area_fields(lib: Library, area_id: int) -> AreaFields:
    """The area's name, body site, stage and scale as the area dialog edits them."""
    with lib.session() as s:
        row = s.execute(
            select(Area.name, Area.body_site, Area.stage, Area.default_scale, Area.version).where(
                Area.id == area_id
            )
        ).first()
    if row is None:
        raise NotFoundError(f"There is no area with id {area_id} in the library.")
    return AreaFields(*row)
