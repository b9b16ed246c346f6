"""What a backup archive holds besides the database (``care.backups`` writes it, ``care.restore``
reads it): the files a database image names, and the audit trail's anchor.

The files are the photos' originals and the consents' signed forms (``services.
consent_forms``: ``originals/ab/<sha256>.form.<kind>``), each named once even when two consents
hold the same form.

The anchor (``services.audit``: the trail's newest entry's number and hash, sealed in an
encrypted library) lives beside the database, not in it, so a backup of the database alone
would lose it: a library restored from it would anchor a cut trail afresh and never report
it. The manifest carries it (``audit_anchor``), read *before* the database is copied: entries
written between the two are in the copy, never the other way round, so the anchor is never
ahead of a whole trail. Restore puts it back beside the restored database, where ``tracker
check`` holds the trail to it. A library without an anchor (one a snapshot was put back in,
``repair.restore_snapshot``, until its next entry) makes an archive without one.
"""

from __future__ import annotations

import json
import re
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.core.db.engine import DB_NAME, connect_file
from tracker.core.db.models import Consent, Photo
from tracker.core.services.consent_forms import form_relpath
from tracker.core.store.unlock_log import AUDIT_ANCHOR

ANCHOR_KEY = "audit_anchor"
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Named:
    """A file the database names: a photo's original or a consent's signed form."""

    relpath: str
    photo_id: int | None = None
    consent_id: int | None = None


def named(image: bytes, key: bytes | None = None) -> list[Named]:
    """Every original the database image names, removed photos too (their originals are
    kept for their undo), then every signed form. An encrypted image (``key``) is read from a
    private temporary file, still encrypted: SQLCipher cannot deserialise."""
    if key is not None:
        with tempfile.TemporaryDirectory(prefix="stria-") as tmp:
            path = Path(tmp) / DB_NAME
            path.write_bytes(image)
            conn = connect_file(path, "immutable=1", key)
            try:
                return _named(conn)
            finally:
                conn.close()
    readable = bytearray(image)
    # The image says "write-ahead log" in its header (bytes 18 and 19), as the library's file
    # does; a database in memory cannot have one, so it is read as a rollback-journal one.
    readable[18:20] = b"\x01\x01"
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(bytes(readable))
        return _named(conn)
    finally:
        conn.close()


def _named(conn: Any) -> list[Named]:
    photos = conn.execute(
        f"SELECT id, sha256, ext FROM {Photo.__tablename__} ORDER BY id"
    ).fetchall()
    out = [
        Named(f"originals/{str(sha)[:2]}/{sha}.{ext}", photo_id=int(i)) for i, sha, ext in photos
    ]
    forms = conn.execute(
        f"SELECT id, form_sha256, form_kind FROM {Consent.__tablename__} "
        "WHERE form_sha256 IS NOT NULL ORDER BY id"
    ).fetchall()
    seen: set[str] = set()
    for ident, sha, kind in forms:
        rel = form_relpath(str(sha), str(kind))
        if rel not in seen:
            seen.add(rel)
            out.append(Named(rel, consent_id=int(ident)))
    return out


def anchor_doc(value: object) -> dict[str, Any] | None:
    """``value`` as an anchor this app writes (``{"entries", "hash"[, "seal"]}``), or None
    when it is not one."""
    if not isinstance(value, dict) or not set(value) <= {"entries", "hash", "seal"}:
        return None
    entries, newest, seal = value.get("entries"), value.get("hash"), value.get("seal", "")
    if type(entries) is not int or entries < 1 or not isinstance(newest, str):
        return None
    if not _HEX64.fullmatch(newest) or not isinstance(seal, str):
        return None
    if "seal" in value and not _HEX64.fullmatch(seal):
        return None
    return dict(value)


def read_anchor(root: Path) -> dict[str, Any] | None:
    """The library's anchor as it is on disk, for the manifest; None when there is none, or
    one that cannot be read (the library's own check says so)."""
    try:
        return anchor_doc(json.loads((root / AUDIT_ANCHOR).read_text("ascii")))
    except (OSError, ValueError):
        return None


def put_anchor(root: Path, doc: dict[str, Any]) -> None:
    """Write the anchor a manifest carried beside the restored database."""
    path = root / AUDIT_ANCHOR
    path.write_text(json.dumps(doc), "ascii")
    path.chmod(0o600)
