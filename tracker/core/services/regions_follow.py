"""What becomes of the marks' regions of an area and view when the photo they were drawn on
leaves it (moved to another area or view, or erased; ``move.leave_group``), issue 18.

They follow the photo that takes over as the view's reference, through its alignment
(``carry_regions``). When nothing can carry them (no photo left in the view is aligned to the
one that left), they are kept, outline and all, but marked to be drawn again
(``orphan_regions``: drawn on no photo, ``measure.Regions.redraw``); the photos of that view
are then not measured until they are (``measure_inputs`` says so for each). Never dropped,
never silently wrong: ``regions_note`` is the sentence the move's and the erase's report
carry to say which happened.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db.models import Area, Region, utc_now
from tracker.core.imaging.geometry import Matrix, apply


def carry_regions(
    s: Session, group: tuple[int, str], old_ref: int, old_to_new: Matrix, new_ref: int
) -> list[str]:
    """Inside a session: the regions of an area and view drawn on ``old_ref``, carried to the
    pixels of ``new_ref``, the view's new reference (``old_to_new`` maps the one to the other),
    when the old one moves away or is erased (``move.leave_group``); the kinds carried. A
    region drawn on another photo still follows that photo's own alignment: left as it is."""
    area_id, view = group
    carried = []
    for r in s.scalars(select(Region).where(Region.area_id == area_id, Region.view == view)):
        if r.reference_photo_id != old_ref:
            continue
        r.points = [list(apply(old_to_new, (float(x), float(y)))) for x, y in r.points]
        r.reference_photo_id = new_ref
        r.version += 1
        r.updated_at = utc_now()
        carried.append(r.kind)
    return sorted(carried)


def orphan_regions(s: Session, group: tuple[int, str], old_ref: int) -> list[str]:
    """Inside a session: the regions of an area and view drawn on ``old_ref``, which leaves the
    view with no photo aligned to it to carry them, kept but marked to be drawn again (drawn
    on no photo; their version counts the change, so the measures made in them go stale);
    the kinds marked."""
    area_id, view = group
    marked = []
    for r in s.scalars(select(Region).where(Region.area_id == area_id, Region.view == view)):
        if r.reference_photo_id != old_ref:
            continue
        r.reference_photo_id = None
        r.version += 1
        r.updated_at = utc_now()
        marked.append(r.kind)
    return sorted(marked)


def regions_note(
    s: Session, group: tuple[int, str], kinds: Sequence[str], old_ref: int, new_ref: int | None
) -> str | None:
    """The sentence that tells the person what became of the regions ``kinds`` of an area and
    view when ``old_ref``, the photo they were drawn on, left it: carried to ``new_ref``, or
    (None) kept to be drawn again. None when there were none."""
    if not kinds:
        return None
    area = s.get(Area, group[0])
    name = area.name if area is not None else f"area {group[0]}"
    what = " and ".join("the marks' region" if k == "marks" else "the skin patch" for k in kinds)
    where = f"of {name}, view {group[1]!r},"
    if new_ref is not None:
        return (
            f"{what[0].upper()}{what[1:]} {where} drawn on photo {old_ref}, now follow"
            f"{'s' if len(kinds) == 1 else ''} photo {new_ref}, the view's new reference photo, "
            "through its alignment."
        )
    return (
        f"{what[0].upper()}{what[1:]} {where} drawn on photo {old_ref}, which has left the "
        f"view, {'is' if len(kinds) == 1 else 'are'} kept but must be drawn again on its "
        "reference photo, because no photo left in the view is aligned to carry "
        f"{'it' if len(kinds) == 1 else 'them'}; until then the view's photos are not measured."
    )
