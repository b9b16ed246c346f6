"""Consent per client and purpose (issue 20): recording it, withdrawing it, and the check
every export makes before it writes anything.

A consent is valid on a day when it was recorded on or before it, has not expired (it is valid
through its expiry date) and was not withdrawn on or before it. It covers a use when it is
valid, is for the use's purpose, allows identifying the client if the use does (a de-identified
consent covers only de-identified uses; an identifiable one covers both), and covers every photo
the use shows (all the client's photos, or the ones it names). Withdrawing takes effect at
once: the next export is refused. Each change is recorded in the audit trail in the same unit
of work.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.core.db.models import Area, Client, Consent, ConsentPhoto, Photo, Rating
from tracker.core.domain.consent import PURPOSE_LABELS, Action, FormKind, Purpose
from tracker.core.errors import ConsentRefused, UsageError, ValidationError
from tracker.core.queries.browse import get
from tracker.core.services import audit, consent_forms
from tracker.core.store.library import Library
from tracker.core.text import check_name


@dataclass(frozen=True)
class ConsentRow:
    id: int
    client_id: int
    client: str
    purpose: Purpose
    identifiable: bool
    photo_ids: tuple[int, ...] | None  # None: all the client's photos
    recorded_by: str
    recorded_on: dt.date
    expires_on: dt.date | None
    withdrawn_on: dt.date | None
    withdrawn_by: str | None
    form: FormKind | None = None  # the kind of its signed form, when it holds one
    form_size: int | None = None

    def status(self, today: dt.date) -> str:
        """ "valid", "withdrawn", "expired" or "not yet" (recorded with a later date)."""
        if self.withdrawn_on is not None and self.withdrawn_on <= today:
            return "withdrawn"
        if self.expires_on is not None and self.expires_on < today:
            return "expired"
        return "not yet" if self.recorded_on > today else "valid"

    @property
    def words(self) -> str:
        """ "publication, de-identified, photos 3, 7" — what it allows, in words."""
        scope = (
            "all photos"
            if self.photo_ids is None
            else ("photo " if len(self.photo_ids) == 1 else "photos ")
            + ", ".join(map(str, self.photo_ids))
        )
        kind = "identifiable" if self.identifiable else "de-identified"
        return f"{PURPOSE_LABELS[self.purpose]}, {kind}, {scope}"

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "client": self.client,
            "purpose": self.purpose.value,
            "identifiable": self.identifiable,
            "photo_ids": None if self.photo_ids is None else list(self.photo_ids),
            "recorded_by": self.recorded_by,
            "recorded_on": self.recorded_on.isoformat(),
            "expires_on": None if self.expires_on is None else self.expires_on.isoformat(),
            "withdrawn_on": None if self.withdrawn_on is None else self.withdrawn_on.isoformat(),
            "withdrawn_by": self.withdrawn_by,
            "form": None if self.form is None else self.form.value,
            "form_size": self.form_size,
        }


def _today() -> dt.date:
    return dt.date.today()


def _row(c: Consent, client: str, photo_ids: tuple[int, ...] | None) -> ConsentRow:
    return ConsentRow(
        id=c.id,
        client_id=c.client_id,
        client=client,
        purpose=Purpose(c.purpose),
        identifiable=c.identifiable,
        photo_ids=photo_ids,
        recorded_by=c.recorded_by,
        recorded_on=c.recorded_on,
        expires_on=c.expires_on,
        withdrawn_on=c.withdrawn_on,
        withdrawn_by=c.withdrawn_by,
        form=None if c.form_kind is None else FormKind(c.form_kind),
        form_size=c.form_size,
    )


def _client_photo_ids(s: Session, client_id: int) -> set[int]:
    query = select(Photo.id).join(Area, Photo.area_id == Area.id).where(Area.client_id == client_id)
    return set(s.scalars(query))


def add(
    lib: Library,
    client_id: int,
    purpose: Purpose,
    *,
    identifiable: bool,
    photo_ids: Sequence[int] | None = None,
    recorded_by: str | None = None,
    recorded_on: dt.date | None = None,
    expires_on: dt.date | None = None,
    form: tuple[bytes, str] | None = None,
) -> int:
    """Record that the client agreed to ``purpose`` (for ``photo_ids`` only, or all their
    photos when None); its id. ``recorded_by`` defaults to the user acting. ``form`` (its
    bytes and its file's name) is the signed form, kept with it in the same unit of work
    (``services.consent_forms``)."""
    lib.require_writable()
    if form is not None:
        consent_forms.check(*form)  # refused before anything is written
    on = recorded_on if recorded_on is not None else _today()
    if on > _today():
        raise ValidationError(f"A consent cannot be recorded for a later day ({on.isoformat()}).")
    if expires_on is not None and expires_on < on:
        raise ValidationError(
            f"The consent would expire on {expires_on.isoformat()}, before it was given "
            f"({on.isoformat()}); give a later expiry date."
        )
    by = check_name(recorded_by, "name of who recorded the consent") if recorded_by else None
    with contextlib.ExitStack() as stack:
        staged = None if form is None else stack.enter_context(consent_forms.staged(lib, *form))
        s = stack.enter_context(lib.session())
        client = get(s, Client, client_id, "client")
        chosen: list[int] | None = None
        if photo_ids is not None:
            chosen = sorted(set(photo_ids))
            if not chosen:
                raise UsageError("Name at least one photo the consent covers, or none for all.")
            foreign = set(chosen) - _client_photo_ids(s, client_id)
            if foreign:
                raise ValidationError(
                    f"Photo {min(foreign)} is not one of {client.name}'s photos; a consent "
                    "covers only the client's own."
                )
        row = Consent(
            client_id=client_id,
            purpose=purpose.value,
            identifiable=identifiable,
            all_photos=chosen is None,
            recorded_by=by or audit.current_actor(),
            recorded_on=on,
            expires_on=expires_on,
        )
        s.add(row)
        s.flush()
        s.add_all(ConsentPhoto(consent_id=row.id, photo_id=p) for p in chosen or ())
        audit.record_in(
            s,
            Action.CONSENT,
            client_id=client_id,
            subject=audit.subject_of(chosen or (), consent=row.id),
            detail=f"recorded: {purpose.value}, {'identifiable' if identifiable else 'de-identified'}",
        )
        if staged is not None:
            staged.record_in(s, row)
        made = row.id
    audit.anchor(lib)
    return made


def withdraw(
    lib: Library, consent_id: int, *, by: str | None = None, on: dt.date | None = None
) -> ConsentRow:
    """Withdraw a consent from ``on`` (today by default); the row as it now is."""
    lib.require_writable()
    day = on if on is not None else _today()
    if day > _today():
        raise ValidationError(
            f"A withdrawal takes effect when it is recorded; {day.isoformat()} is a later day."
        )
    who = check_name(by, "name of who recorded the withdrawal") if by else audit.current_actor()
    with lib.session() as s:
        row = get(s, Consent, consent_id, "consent")
        if row.withdrawn_on is not None:
            raise UsageError(
                f"Consent {consent_id} was already withdrawn on {row.withdrawn_on.isoformat()}."
            )
        if day < row.recorded_on:
            raise ValidationError(
                f"Consent {consent_id} was recorded on {row.recorded_on.isoformat()}; it "
                "cannot be withdrawn before that."
            )
        row.withdrawn_on, row.withdrawn_by = day, who
        audit.record_in(
            s,
            Action.CONSENT,
            client_id=row.client_id,
            subject=audit.subject_of(consent=row.id),
            detail=f"withdrawn: {row.purpose}",
        )
    audit.anchor(lib)
    (found,) = consents(lib, consent_ids=[consent_id])
    return found


def consents(
    lib: Library, client_id: int | None = None, consent_ids: Iterable[int] | None = None
) -> list[ConsentRow]:
    """The consents recorded (a client's, or those named), by client, then newest first."""
    query = select(Consent, Client.name).join(Client, Consent.client_id == Client.id)
    if client_id is not None:
        query = query.where(Consent.client_id == client_id)
    if consent_ids is not None:
        query = query.where(Consent.id.in_(list(consent_ids)))
    query = query.order_by(Client.name, Consent.recorded_on.desc(), Consent.id.desc())
    with lib.session() as s:
        found = s.execute(query).all()
        links: dict[int, list[int]] = {}
        ids = [c.id for c, _ in found if not c.all_photos]
        if ids:
            link_query = select(ConsentPhoto.consent_id, ConsentPhoto.photo_id).where(
                ConsentPhoto.consent_id.in_(ids)
            )
            for cid, pid in s.execute(link_query.order_by(ConsentPhoto.photo_id)):
                links.setdefault(cid, []).append(pid)
        return [
            _row(c, name, None if c.all_photos else tuple(links.get(c.id, ()))) for c, name in found
        ]


def _covers(row: ConsentRow, purpose: Purpose, photos: set[int], identifiable: bool) -> bool:
    return (
        row.purpose is purpose
        and (row.identifiable or not identifiable)
        and (row.photo_ids is None or photos <= set(row.photo_ids))
    )


def consent_for(
    lib: Library,
    client_id: int,
    purpose: Purpose,
    photo_ids: Iterable[int] = (),
    identifiable: bool = True,
    today: dt.date | None = None,
) -> None:
    """None when a valid consent of the client covers the use; else ConsentRefused, one
    sentence naming the purpose, the client and what is missing."""
    day = today if today is not None else _today()
    photos = set(photo_ids)
    rows = consents(lib, client_id)
    if any(r.status(day) == "valid" and _covers(r, purpose, photos, identifiable) for r in rows):
        return
    with lib.session() as s:
        name = get(s, Client, client_id, "client").name
    what = PURPOSE_LABELS[purpose]
    of_purpose = [r for r in rows if r.purpose is purpose]
    if not of_purpose:
        reason = f"{name} has no recorded consent to {what}"
    elif all(r.status(day) == "withdrawn" for r in of_purpose):
        reason = f"{name} withdrew their consent to {what}"
    elif not any(r.status(day) == "valid" for r in of_purpose):
        reason = f"{name}'s consent to {what} has expired"
    elif identifiable and not any(r.identifiable for r in of_purpose if r.status(day) == "valid"):
        reason = f"{name} agreed to {what} only de-identified, and this export names them"
    else:
        reason = f"{name}'s consent to {what} does not cover every photo in this export"
    raise ConsentRefused(
        f"Refused: {reason}; first record a consent that covers it ('tracker consent add', "
        "or Library ▸ Consent of the client… in the window)."
    )


def clients_of_photos(lib: Library, photo_ids: Iterable[int]) -> dict[int, list[int]]:
    """client id → the photos of ``photo_ids`` that are theirs (unknown ids are left out)."""
    ids = sorted(set(photo_ids))
    query = (
        select(Area.client_id, Photo.id)
        .join(Area, Photo.area_id == Area.id)
        .where(Photo.id.in_(ids))
        .order_by(Photo.id)
    )
    out: dict[int, list[int]] = {}
    with lib.session() as s:
        for client_id, photo_id in s.execute(query):
            out.setdefault(client_id, []).append(photo_id)
    return out


def require(
    lib: Library,
    purpose: Purpose,
    *,
    photo_ids: Iterable[int] = (),
    client_ids: Iterable[int] = (),
    identifiable: bool = True,
    action: Action = Action.EXPORTED,
) -> None:
    """``consent_for`` every client an export concerns: those whose photos it shows and
    ``client_ids`` (whose records it holds); the first refusal is raised. First, on a
    server library, the server is asked whether it takes this login's ``action`` entry
    (``audit.may_record``): a login that may not export is refused before anything is
    read or written."""
    audit.may_record(lib, action)
    by_client = clients_of_photos(lib, photo_ids)
    for client_id in sorted(set(client_ids) | set(by_client)):
        consent_for(lib, client_id, purpose, by_client.get(client_id, ()), identifiable)


def clients_with_records(lib: Library, client_id: int | None = None) -> list[int]:
    """The clients whose ratings or photos a CSV export holds (``client_id``'s alone when
    it is given): each needs a consent for the export's purpose."""
    query = select(Area.client_id).distinct().join(Photo, Photo.area_id == Area.id)
    rated = select(Area.client_id).distinct().join(Rating, Rating.area_id == Area.id)
    if client_id is not None:
        query, rated = (
            query.where(Area.client_id == client_id),
            rated.where(Area.client_id == client_id),
        )
    with lib.session() as s:
        return sorted(set(s.scalars(query)) | set(s.scalars(rated)))


def photos_of(lib: Library, client_id: int, area_id: int | None = None) -> list[int]:
    """The photos of a client (of one area), which a report of them may show."""
    query = select(Photo.id).join(Area, Photo.area_id == Area.id).where(Area.client_id == client_id)
    if area_id is not None:
        query = query.where(Photo.area_id == area_id)
    with lib.session() as s:
        return sorted(s.scalars(query))
