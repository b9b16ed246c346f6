"""The audit trail (issue 20): append-only, and a row deleted, edited or put in is found."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from tracker.core.db.models import Audit
from tracker.core.domain.consent import Action
from tracker.core.exports import audit_csv
from tracker.core.services import audit
from tracker.core.store.library import Library


def _trail(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    with Library.open(root, create=True) as lib:
        audit.record(lib, Action.OPENED)
        audit.record(
            lib,
            Action.EXPORTED,
            client_id=1,
            subject=audit.subject_of([7, 3]),
            detail="care, c.png",
        )
        audit.record(lib, Action.BACKED_UP, detail="b.zip\x00\n")
        audit.record(lib, Action.VIEWED, client_id=1, subject=audit.subject_of(client=1))
        assert audit.verify(lib) == []
        entries = audit.entries(lib)
    assert [e.action for e in entries] == [
        Action.OPENED,
        Action.EXPORTED,
        Action.BACKED_UP,
        Action.VIEWED,
    ]
    assert entries[1].subject == "photos 3, 7" and entries[2].detail == "b.zip  "
    assert entries[0].actor == audit.current_actor() != ""
    return root


def _tamper(root: Path, *statements: str) -> None:
    """What a tool writing the file directly can do: around the triggers."""
    conn = sqlite3.connect(root / "library.sqlite3")
    conn.executescript(
        "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;"
        + ";".join(statements)
        + ";"
        + "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
        "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;"
    )
    conn.close()


@pytest.mark.folder_only(reason="actor")
def test_the_trail_refuses_updates_and_deletes(tmp_path: Path) -> None:
    with Library.open(_trail(tmp_path)) as lib:
        with pytest.raises(DBAPIError, match="append-only"), lib.session() as s:
            s.get(Audit, 2).detail = "nothing"  # type: ignore[union-attr]
        with pytest.raises(DBAPIError, match="append-only"), lib.session() as s:
            s.delete(s.get(Audit, 2))
        assert audit.verify(lib) == []


@pytest.mark.folder_only(reason="actor")
def test_a_deleted_row_is_found(tmp_path: Path) -> None:
    root = _trail(tmp_path)
    _tamper(root, "DELETE FROM audit WHERE id = 2")
    with Library.open(root) as lib:
        assert audit.verify(lib) == [
            "The audit trail lacks 1 entry before entry 3: it was deleted."
        ]


@pytest.mark.folder_only(reason="actor")
def test_an_edited_row_is_found_and_a_renumbered_deletion_too(tmp_path: Path) -> None:
    root = _trail(tmp_path)
    _tamper(root, "UPDATE audit SET detail = 'care, other.png' WHERE id = 2")
    with Library.open(root) as lib:
        assert audit.verify(lib) == ["Audit entry 2 was changed after it was written."]
    root = _trail(tmp_path / "again")
    _tamper(root, "DELETE FROM audit WHERE id = 2", "UPDATE audit SET id = id - 1 WHERE id > 2")
    with Library.open(root) as lib:
        problems = audit.verify(lib)
    assert problems[0] == (
        "Audit entry 2 does not follow the entry before it: an entry was changed, deleted or put in."
    )


@pytest.mark.folder_only(reason="actor")
def test_the_trail_exports_as_csv_safe_from_formulas(tmp_path: Path) -> None:
    with Library.open(_trail(tmp_path)) as lib:
        audit.record(lib, Action.EXPORTED, detail="=HYPERLINK(1)")
        out = tmp_path / "audit.csv"
        assert audit_csv.export(lib, audit.entries(lib), out)["rows"] == 5
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "at", "actor", "action", "client_id", "subject", "detail"]
    assert rows[2][3:] == ["exported", "1", "photos 3, 7", "care, c.png"]
    assert rows[-1][-1] == "'=HYPERLINK(1)"


@pytest.mark.folder_only(reason="actor")
def test_a_read_only_library_records_nothing(tmp_path: Path) -> None:
    root = _trail(tmp_path)
    with Library.open(root, read_only=True) as lib:
        assert audit.record(lib, Action.OPENED) is False
        assert len(audit.entries(lib)) == 4
