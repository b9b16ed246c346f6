"""Consent per client and purpose (issue 20): what covers a use, and what refuses it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from PIL import Image

from tests import helpers as h
from tracker.core.domain.consent import Action, Purpose
from tracker.core.errors import ConsentRefused, UsageError, ValidationError
from tracker.core.services import audit, consent, erase
from tracker.core.store.library import Library


def _library(tmp_path: Path) -> tuple[Library, int, list[int]]:
    files = []
    for n in range(3):
        path = tmp_path / f"p{n}.jpg"
        Image.effect_noise((64, 48), 20 + n * 10).convert("RGB").save(path)
        files.append(path)
    lib = Library.open(tmp_path / "lib", create=True)
    report = h.import_files(lib, files, area="Belly", client="Ana Lima")
    ids = [d.photo_id for d in report.imported]
    client_id = consent.clients_of_photos(lib, ids).popitem()[0]
    return lib, client_id, ids


def test_no_consent_refuses_with_a_sentence_naming_the_purpose_and_the_client(
    tmp_path: Path,
) -> None:
    lib, client, ids = _library(tmp_path)
    with lib, pytest.raises(ConsentRefused, match="Ana Lima has no recorded consent to teaching"):
        consent.consent_for(lib, client, Purpose.TEACHING, ids)


def test_a_consent_covers_its_purpose_kind_and_photos_only(tmp_path: Path) -> None:
    lib, client, ids = _library(tmp_path)
    with lib:
        consent.add(lib, client, Purpose.PUBLICATION, identifiable=False, photo_ids=ids[:2])
        consent.consent_for(lib, client, Purpose.PUBLICATION, ids[:2], identifiable=False)
        with pytest.raises(ConsentRefused, match="does not cover every photo"):
            consent.consent_for(lib, client, Purpose.PUBLICATION, ids, identifiable=False)
        with pytest.raises(ConsentRefused, match="only de-identified"):
            consent.consent_for(lib, client, Purpose.PUBLICATION, ids[:1], identifiable=True)
        with pytest.raises(ConsentRefused, match="no recorded consent to marketing"):
            consent.consent_for(lib, client, Purpose.MARKETING, ids[:1], identifiable=False)
        consent.add(lib, client, Purpose.CARE, identifiable=True)
        consent.consent_for(lib, client, Purpose.CARE, ids, identifiable=True)
        consent.consent_for(lib, client, Purpose.CARE, ids, identifiable=False)


def test_withdrawal_stops_the_next_use_at_once_and_expiry_ends_it(tmp_path: Path) -> None:
    lib, client, ids = _library(tmp_path)
    with lib:
        first = consent.add(lib, client, Purpose.SHOWN, identifiable=True)
        consent.consent_for(lib, client, Purpose.SHOWN, ids)
        row = consent.withdraw(lib, first)
        assert row.withdrawn_on == dt.date.today() and row.status(dt.date.today()) == "withdrawn"
        with pytest.raises(ConsentRefused, match="Ana Lima withdrew their consent"):
            consent.consent_for(lib, client, Purpose.SHOWN, ids)
        with pytest.raises(UsageError, match="already withdrawn"):
            consent.withdraw(lib, first)
        day = dt.date.today() - dt.timedelta(days=30)
        consent.add(
            lib,
            client,
            Purpose.SHOWN,
            identifiable=True,
            recorded_on=day,
            expires_on=day + dt.timedelta(days=10),
        )
        with pytest.raises(ConsentRefused, match="has expired"):
            consent.consent_for(lib, client, Purpose.SHOWN, ids)
        # valid through its expiry day
        consent.consent_for(lib, client, Purpose.SHOWN, ids, today=day + dt.timedelta(days=10))
        actions = [(e.action, e.detail) for e in audit.entries(lib)]
        assert actions == [
            (Action.CONSENT, "recorded: shown, identifiable"),
            (Action.CONSENT, "withdrawn: shown"),
            (Action.CONSENT, "recorded: shown, identifiable"),
        ]


def test_bad_consents_are_refused_and_nothing_is_recorded(tmp_path: Path) -> None:
    lib, client, _ids = _library(tmp_path)
    with lib:
        other = tmp_path / "other.jpg"
        Image.effect_noise((64, 48), 70).convert("RGB").save(other)
        (theirs,) = h.import_files(lib, [other], area="Hips", client="Bo Chen").imported
        with pytest.raises(ValidationError, match=f"Photo {theirs.photo_id} is not one of Ana"):
            consent.add(
                lib, client, Purpose.TEACHING, identifiable=False, photo_ids=[theirs.photo_id]
            )
        tomorrow = dt.date.today() + dt.timedelta(days=1)
        with pytest.raises(ValidationError, match="later day"):
            consent.add(lib, client, Purpose.TEACHING, identifiable=False, recorded_on=tomorrow)
        with pytest.raises(ValidationError, match="before it was given"):
            consent.add(
                lib,
                client,
                Purpose.TEACHING,
                identifiable=False,
                expires_on=dt.date.today() - dt.timedelta(days=1),
            )
        assert consent.consents(lib) == [] and audit.entries(lib) == []


def test_require_checks_every_client_an_export_concerns(tmp_path: Path) -> None:
    lib, client, ids = _library(tmp_path)
    with lib:
        other = tmp_path / "other.jpg"
        Image.effect_noise((64, 48), 70).convert("RGB").save(other)
        (theirs,) = h.import_files(lib, [other], area="Hips", client="Bo Chen").imported
        consent.add(lib, client, Purpose.CARE, identifiable=True)
        consent.require(lib, Purpose.CARE, photo_ids=ids)
        with pytest.raises(ConsentRefused, match="Bo Chen"):
            consent.require(lib, Purpose.CARE, photo_ids=[ids[0], theirs.photo_id])


def test_erasing_a_photo_or_the_client_takes_their_consent_and_leaves_only_ids_in_the_trail(
    tmp_path: Path,
) -> None:
    lib, client, ids = _library(tmp_path)
    with lib:
        consent.add(lib, client, Purpose.TEACHING, identifiable=False, photo_ids=ids[:2])
        with pytest.raises(ValidationError, match="later day"):
            consent.withdraw(lib, 1, on=dt.date.today() + dt.timedelta(days=1))
        erase.erase(lib, erase.Target.PHOTO, ids[0])
        (row,) = consent.consents(lib)
        assert row.photo_ids == (ids[1],)
        erase.erase(lib, erase.Target.CLIENT, client)
        assert consent.consents(lib) == []
        trail = audit.entries(lib)
        assert [(e.action, e.subject) for e in trail[-2:]] == [
            (Action.ERASED, f"photo {ids[0]}"),
            (Action.ERASED, f"client {client}"),
        ]
        assert trail[-1].client_id == client and "Ana" not in repr(trail)
        assert audit.verify(lib) == []
