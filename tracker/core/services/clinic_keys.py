"""An encrypted clinic library's unlock attempts and passphrase, entered in its audit trail
(issue 21; its keys are ``store.server_keys``).

A folder library notes each unlock attempt beside its database (``store.unlock_log``) because
a wrong passphrase cannot open it; a clinic library's database is reachable without the
passphrase, so each attempt is an entry of its own at once: "unlocked", or "failed to unlock"
for a wrong passphrase or recovery key, in a transaction of its own, in the name of the
database login (``session_user``: the trail's row-level policy accepts no other name). Every
staff role that reads the key may append these (``db.roles``: they are not among the limited
actions); the front desk reads no key and never unlocks. When the server does not take the
entry (a standby, a read-only server, a login given the key's table by hand but no INSERT on
the trail), the unlock goes on and the log says the entry was not written: keeping a clinic
from its photos because the trail is out of reach would not make them safer, and the
passphrase is what guards them.

A library that holds nothing yet (no client, no audit entry: one just made by ``clinic create
--encrypt``) records no attempt: it has no photo to guard, and a library folder is moved only
into a clinic library that holds nothing (``care.clinic_migrate``): a first entry, which the
trail keeps for ever, would bar that move for good.

Changing the passphrase wraps the same master key again (``server_keys.rewrap``), and its
entry ("unlocked", the detail saying the passphrase was changed: the trail's list of actions,
a CHECK of the schema, has no word of its own for it) is written in the same transaction, so
the one is kept exactly when the other is.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from tracker.core.crypto.keys import check_passphrase
from tracker.core.db import server
from tracker.core.domain.consent import Action
from tracker.core.errors import LibraryError, WrongPassphrase
from tracker.core.services import audit
from tracker.core.store import server_keys
from tracker.core.store.server_library import ServerLibrary

if TYPE_CHECKING:
    from tracker.core.crypto.keys import KdfParams, Keys

log = logging.getLogger(__name__)

_TRIES = 3  # two workstations writing the trail's next entry at once: the later tries again
CHANGED = "changed the passphrase (the key wrapped again; the photos as they were)"


def record_unlock(engine: Engine, *, failed: bool, detail: str = "") -> bool:
    """Enter one unlock attempt in the trail, in a transaction of its own; False (and a line
    in the log) when the server does not take it (see the module)."""
    action = Action.UNLOCK_FAILED if failed else Action.UNLOCKED
    for _ in range(_TRIES):
        try:
            with engine.begin() as conn, Session(bind=conn) as s:
                if not _holds_anything(s):
                    return False
                audit.record_in(s, action, detail=detail)
            return True
        except IntegrityError:
            continue  # the same id taken by another workstation's entry: the next one
        except DBAPIError as exc:
            log.warning("An unlock attempt was not entered in the audit trail (%s)", type(exc))
            return False
    log.warning("An unlock attempt was not entered in the audit trail (the trail was busy)")
    return False


def _holds_anything(s: Session) -> bool:
    """Whether the library holds a client or an audit entry (see the module)."""
    return bool(
        s.scalar(text("SELECT EXISTS (SELECT 1 FROM client) OR EXISTS (SELECT 1 FROM audit)"))
    )


def open_server(
    url: str, *, passphrase: str | None = None, recovery_key: str | None = None, **options: Any
) -> ServerLibrary:
    """``ServerLibrary.open_server``, with an encrypted library's unlock, and each wrong
    passphrase or recovery key tried, entered in its audit trail."""
    try:
        lib = ServerLibrary.open_server(
            url, passphrase=passphrase, recovery_key=recovery_key, **options
        )
    except WrongPassphrase:
        engine = server.make_pg_engine(url)
        try:
            record_unlock(engine, failed=True)
        finally:
            engine.dispose()
        raise
    if lib.keys is not None:
        record_unlock(lib.engine, failed=False)
    return lib


def unlock_again(
    engine: Engine,
    where: str,
    *,
    passphrase: str | None = None,
    recovery_key: str | None = None,
    entered: bool = True,
) -> Keys:
    """``server_keys.unlock_from`` (the window's lock asking again, or the old passphrase
    before a change), a wrong one entered as a failed attempt; the unlock itself too when
    ``entered`` (a change enters its own, with it)."""
    try:
        keys = server_keys.unlock_from(
            engine, where, passphrase=passphrase, recovery_key=recovery_key
        )
    except WrongPassphrase:
        record_unlock(engine, failed=True)
        raise
    if entered:
        record_unlock(engine, failed=False)
    return keys


def refuse_unless_may_change(engine: Engine, where: str) -> None:
    """A LibraryError, before any passphrase is asked, unless the library is encrypted and
    this login may write its key (the owner: see ``server_keys``)."""
    with engine.connect() as conn:
        if server_keys.may_rewrap(conn):  # first: the front desk may not even read the key
            if not conn.scalar(text(f"SELECT count(*) FROM {server_keys.TABLE}")):
                raise LibraryError(
                    f"The clinic library in {where} is not encrypted; it has no passphrase."
                )
            return
        who = conn.scalar(text("SELECT session_user"))
        owner = conn.scalar(
            text(
                "SELECT tableowner FROM pg_tables "
                "WHERE schemaname = current_schema() AND tablename = :t"
            ),
            {"t": server_keys.TABLE},
        )
    raise LibraryError(
        f"Your login {who} may not change the passphrase of the clinic library in {where}: "
        f"its key is written only by the library's owner (the login {owner}) or the server's "
        "superuser; nothing was changed."
    )


def change_passphrase(
    engine: Engine, where: str, keys: Keys, new: str, kdf: KdfParams | None = None
) -> None:
    """Wrap the master key of ``keys`` (``unlock_again``'s, not ``entered``) with ``new``,
    and enter the change in the trail, in one transaction."""
    check_passphrase(new)
    refuse_unless_may_change(engine, where)
    with engine.begin() as conn, Session(bind=conn) as s:
        if kdf is None:
            server_keys.rewrap(conn, where, keys, new)
        else:
            server_keys.rewrap(conn, where, keys, new, kdf)
        audit.record_in(s, Action.UNLOCKED, detail=CHANGED)
