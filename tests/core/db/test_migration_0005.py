"""0004 → 0005 (issue 20): the consent and audit tables come and go; nothing else changes."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from tests import helpers as h
from tests.core.db.migrating import migrate, schema_objects
from tracker.core.db import engine as db
from tracker.core.domain.consent import Action, Purpose
from tracker.core.services import audit, consent
from tracker.core.store.library import Library


def test_consent_and_audit_come_and_go_and_the_photos_stay(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    path = tmp_path / "p.jpg"
    Image.effect_noise((64, 48), 30).convert("RGB").save(path)
    with Library.open(root, create=True) as lib:
        (done,) = h.import_files(lib, [path], area="Hips").imported
    migrate(root, "0004")
    assert not {"consent", "consent_photo", "audit", "audit_no_update"} & schema_objects(root)
    with Library.open(root) as lib:
        assert db.current_revision(lib.engine) == db.head_revision()
        client = next(iter(consent.clients_of_photos(lib, [done.photo_id])))
        consent.add(lib, client, Purpose.TEACHING, identifiable=False, photo_ids=[done.photo_id])
        audit.record(lib, Action.OPENED)
        assert h.check(lib).ok and audit.verify(lib) == []
    migrate(root, "0004")
    assert not {"consent", "consent_photo", "audit", "audit_no_delete"} & schema_objects(root)
    migrate(root, "0005", up=True)
    with Library.open(root) as lib:
        # The downgrade dropped the trail; the anchor kept beside the database remembers that
        # it had two entries, and check says so (the one problem found).
        (problem,) = h.check(lib).problems
        assert problem.kind == "audit" and "the newest 2 entries were cut off" in problem.detail
        assert consent.consents(lib) == [] and audit.entries(lib) == []
        assert [p["id"] for p in h.list_photos(lib)] == [done.photo_id]
