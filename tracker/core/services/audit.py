"""The audit trail: who did what when, append-only, its integrity a SHA-256 hash chain.

Each entry's ``hash`` is SHA-256 over its canonical form (``canonical``: its id, time, actor,
action, client, subject and detail, and the hash of the entry before it, as compact JSON), the
first entry chained to ``GENESIS``. An entry deleted, edited or inserted out of turn breaks
the chain from there on, and ``verify`` names where. Triggers in the schema refuse UPDATE and
DELETE; the chain finds what went around them (a tool writing the file directly). What the
chain cannot show is entries cut off the end (the newest entry has nothing after it to
contradict): for that ``anchor`` keeps the newest entry's id and hash outside the database,
in ``audit-anchor.json`` beside it, sealed in an encrypted library with an HMAC under a key
derived from its master key. The anchor is written after each entry ``record`` keeps; one
behind (a crash between) only checks less, and none (a library from before it) checks
nothing. In a plain library it has no seal: whoever can rewrite the database can rewrite it
too, so it finds a careless cut, not a careful one.

An entry never holds photo data or notes: the subject is ids ("photos 3, 7"), the detail a
few words (a purpose, a file's name), cut to ``DETAIL_MAX`` characters without control
characters.

The actor is the operating system's user name; on a library in a PostgreSQL server (clinic
mode) it is the database login, ``session_user``, which the server's row-level policy on the
table requires (``db.roles``): an entry cannot name someone else.
A library opened for reading only records nothing (nothing can be written to it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import hashlib
import hmac
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tracker.core.db.models import Audit, utc_now
from tracker.core.domain.consent import ACTION_LABELS, Action, Purpose
from tracker.core.store import unlock_log
from tracker.core.store.library import Library

GENESIS = "0" * 64
DETAIL_MAX = 200
# On a server library, the transaction-scoped advisory lock (b"trackAUD") under which an entry
# reads the newest one and is chained to it: two workstations appending at once would both
# read the same newest entry, and the second would fail on the id the first took.
_CHAIN_LOCK = int.from_bytes(b"trackAUD", "big")


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime  # UTC
    actor: str
    action: Action
    client_id: int | None
    subject: str
    detail: str

    @property
    def words(self) -> str:
        return ACTION_LABELS[self.action]

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "at": self.at.isoformat(timespec="seconds") + "Z",
            "actor": self.actor,
            "action": self.action.value,
            "client_id": self.client_id,
            "subject": self.subject,
            "detail": self.detail,
        }


def current_actor(s: Session | None = None) -> str:
    """Who is acting: on a server library (``s`` bound to PostgreSQL) the login, else the
    operating system's user name ("unknown" when it has none)."""
    if s is not None and s.get_bind().dialect.name == "postgresql":
        return str(s.scalar(text("SELECT session_user")))
    try:
        return getpass.getuser()[:DETAIL_MAX] or "unknown"
    except (OSError, KeyError, ImportError):  # no name for the user id (a container)
        return "unknown"


def _clean(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)[:DETAIL_MAX]


def subject_of(photo_ids: Iterable[int] = (), **ids: int | None) -> str:
    """The ids an entry concerns in words: "photos 3, 7", "consent 2", "client 4"."""
    parts = [f"{name} {ident}" for name, ident in ids.items() if ident is not None]
    photos = sorted(set(photo_ids))
    if photos:
        parts.append(("photo " if len(photos) == 1 else "photos ") + ", ".join(map(str, photos)))
    return _clean("; ".join(parts))


def canonical(
    ident: int,
    at: dt.datetime,
    actor: str,
    action: str,
    client_id: int | None,
    subject: str,
    detail: str,
    prev_hash: str,
) -> bytes:
    stamp = at.isoformat(timespec="microseconds")
    fields = [ident, stamp, actor, action, client_id, subject, detail, prev_hash]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def row_hash(row: Audit) -> str:
    data = canonical(
        row.id, row.at, row.actor, row.action, row.client_id, row.subject, row.detail, row.prev_hash
    )
    return hashlib.sha256(data).hexdigest()


def record_in(
    s: Session,
    action: Action,
    *,
    client_id: int | None = None,
    subject: str = "",
    detail: str = "",
    actor: str | None = None,
    at: dt.datetime | None = None,
) -> None:
    """Append an entry inside the caller's unit of work (so it is kept exactly when the
    change it records is); ``at`` (UTC) for an event noted earlier, else now. On a server
    library the entries are appended one transaction at a time (``_CHAIN_LOCK``, held until
    the caller's transaction ends; a folder library has one writer)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last = s.execute(select(Audit.id, Audit.hash).order_by(Audit.id.desc()).limit(1)).first()
    ident, prev = (1, GENESIS) if last is None else (last[0] + 1, last[1])
    row = Audit(
        id=ident,
        at=at if at is not None else utc_now(),
        actor=_clean(actor if actor is not None else current_actor(s)),
        action=action.value,
        client_id=client_id,
        subject=_clean(subject),
        detail=_clean(detail),
        prev_hash=prev,
        hash="",
    )
    row.hash = row_hash(row)
    s.add(row)
    s.flush()


def record(
    lib: Library,
    action: Action,
    *,
    client_id: int | None = None,
    subject: str = "",
    detail: str = "",
    actor: str | None = None,
) -> bool:
    """Append an entry in its own unit of work, after the unlock attempts waiting
    (``settle``); False when the library is read-only."""
    if lib.read_only is not None:
        return False
    # The unlock attempts noted in an encrypted folder (a clinic library has no folder).
    noted = lib.keys is not None and lib.server is None
    attempts = unlock_log.take(lib.root) if noted else []
    with lib.session() as s:
        _enter_attempts(s, attempts)
        record_in(s, action, client_id=client_id, subject=subject, detail=detail, actor=actor)
    if attempts:
        unlock_log.done(lib.root)
    anchor(lib)
    return True


class _Tried(Exception):
    """Rolls back the entry ``may_record`` tried."""


def may_record(lib: Library, action: Action, *, client_id: int | None = None) -> None:
    """Raise the server's refusal now if it would not take this login's ``action`` entry
    (``db.roles``: an assistant's or the front desk's export or print), so that an export is
    refused before its file is written, not after: the entry is entered in a transaction
    that is then rolled back (the server's own check, not a copy of its policy).
    Nothing on a folder library, which takes every entry, or a read-only one, which keeps
    none."""
    if lib.server is None or lib.read_only is not None:
        return
    with contextlib.suppress(_Tried), lib.session() as s:
        record_in(s, action, client_id=client_id)
        raise _Tried


def _enter_attempts(s: Session, attempts: list[tuple[str, dt.datetime]]) -> None:
    for outcome, at in attempts:
        failed = outcome == unlock_log.FAILED
        record_in(s, Action.UNLOCK_FAILED if failed else Action.UNLOCKED, at=at)


def settle(lib: Library) -> int:
    """Enter the unlock attempts noted in an encrypted library's folder (``store.unlock_log``:
    "unlocked", and "failed to unlock" for each wrong passphrase or recovery key) into its
    audit trail with their times; how many (0 when read-only or not encrypted)."""
    if lib.read_only is not None or lib.keys is None or lib.server is not None:
        return 0
    attempts = unlock_log.take(lib.root)
    if attempts:
        with lib.session() as s:
            _enter_attempts(s, attempts)
        unlock_log.done(lib.root)
        anchor(lib)
    return len(attempts)


def _seal(lib: Library, count: int, newest: str) -> str:
    assert lib.keys is not None
    key = lib.keys.subkey("audit-anchor")
    return hmac.new(key, f"{count}:{newest}".encode("ascii"), hashlib.sha256).hexdigest()


def anchor(lib: Library) -> None:
    """Move the anchor to the newest entry (see the module's notes). It only moves on along
    the chain: an anchor the table no longer agrees with stays, for ``verify`` to report.
    Nothing when the library is read-only or the folder cannot be written."""
    if lib.read_only is not None or lib.server is not None:  # a server's trail: no file
        return
    found = _anchored(lib, unsealed_ok=True)  # unsealed: a plain library encrypted since
    if isinstance(found, str):
        return
    with lib.session() as s:
        last = s.execute(select(Audit.id, Audit.hash).order_by(Audit.id.desc()).limit(1)).first()
        kept = None if found is None else s.scalar(select(Audit.hash).where(Audit.id == found[0]))
    if last is None or (found is not None and kept != found[1]):
        return
    doc: dict[str, object] = {"entries": last[0], "hash": last[1]}
    if lib.keys is not None:
        doc["seal"] = _seal(lib, last[0], last[1])
    path = lib.root / unlock_log.AUDIT_ANCHOR
    part = path.with_name(path.name + ".part")
    try:
        part.write_text(json.dumps(doc), "ascii")
        os.replace(part, path)
    except OSError:
        return  # an anchor behind checks less; the entry is kept all the same


def _anchored(lib: Library, *, unsealed_ok: bool = False) -> tuple[int, str] | str | None:
    """The anchor's (entries, hash); a sentence when it cannot be trusted; None if none."""
    if lib.server is not None:  # the server lets no one cut its trail (append-only rights)
        return None
    path = lib.root / unlock_log.AUDIT_ANCHOR
    try:
        doc = json.loads(path.read_text("ascii"))
        count, newest = doc["entries"], doc["hash"]
        if not isinstance(count, int) or not isinstance(newest, str) or count < 1:
            raise ValueError
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return (
            f"The audit trail's anchor ({path.name}) cannot be read; whether entries were "
            "cut off its end cannot be checked."
        )
    unsealed = unsealed_ok and "seal" not in doc
    if (
        lib.keys is not None
        and not unsealed
        and not hmac.compare_digest(str(doc.get("seal", "")), _seal(lib, count, newest))
    ):
        return (
            f"The audit trail's anchor ({path.name}) was not written by this library (its "
            "seal is wrong); whether entries were cut off its end cannot be checked."
        )
    return count, newest


def _tail_problem(lib: Library, last_id: int, hashes: dict[int, str]) -> str | None:
    found = _anchored(lib)
    if found is None or isinstance(found, str):
        return found
    count, newest = found
    if last_id < count:
        cut = count - last_id
        return (
            f"The audit trail ends at entry {last_id}, but it had {count} entries: the newest "
            f"{cut} entr{'y was' if cut == 1 else 'ies were'} cut off (or an older copy of "
            "the database was put back)."
        )
    if hashes.get(count) != newest:
        return (
            f"Audit entry {count} is not the entry {count} that was written: entries were cut "
            "off the end of the trail (or an older copy of the database was put back) and "
            "others written after them."
        )
    return None


def entries(lib: Library, client_id: int | None = None) -> list[AuditEntry]:
    """Every entry, oldest first (only those about ``client_id`` when it is given)."""
    query = select(Audit).order_by(Audit.id)
    if client_id is not None:
        query = query.where(Audit.client_id == client_id)
    with lib.session() as s:
        return [
            AuditEntry(
                r.id,
                r.at,
                r.actor,
                Action(r.action),
                r.client_id,
                r.subject,
                r.detail,
            )
            for r in s.scalars(query)
        ]


def verify(lib: Library) -> list[str]:
    """Where the chain breaks, one sentence each (none when it holds)."""
    problems: list[str] = []
    prev_id, prev_hash = 0, GENESIS
    hashes: dict[int, str] = {}
    with lib.session() as s:
        for row in s.scalars(select(Audit).order_by(Audit.id)):
            if row.id != prev_id + 1:
                gap = row.id - prev_id - 1
                problems.append(
                    f"The audit trail lacks {gap} entr{'y' if gap == 1 else 'ies'} before entry "
                    f"{row.id}: {'it was' if gap == 1 else 'they were'} deleted."
                )
            elif row.prev_hash != prev_hash:
                problems.append(
                    f"Audit entry {row.id} does not follow the entry before it: an entry was "
                    "changed, deleted or put in."
                )
            if row_hash(row) != row.hash:
                problems.append(f"Audit entry {row.id} was changed after it was written.")
            prev_id, prev_hash = row.id, row.hash
            hashes[row.id] = row.hash
    tail = _tail_problem(lib, prev_id, hashes)
    if tail is not None:
        problems.append(tail)
    return problems


def record_export(
    lib: Library,
    action: Action,
    purpose: Purpose,
    out: Path,
    *,
    client_id: int | None,
    photo_ids: Iterable[int] = (),
) -> bool:
    """An export's entry (``exported``, a report ``printed``): its purpose and file name,
    never its contents; False when the library is read-only."""
    return record(
        lib,
        action,
        client_id=client_id,
        subject=subject_of(photo_ids, client=client_id),
        detail=f"{purpose.value}: {out.name}",
    )
