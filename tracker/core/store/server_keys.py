"""The keys of an encrypted clinic library (issue 21: "encrypted on the workstation, so the
server never holds plaintext photos").

A folder library keeps its key document in its ``library.key`` file (``crypto.keys``); a
clinic library keeps the same document in its database, in the one row of ``library_key``
(migration 0010): the master key wrapped by the clinic's passphrase (Argon2id) and by its
recovery key, a key check, never the key itself. A workstation reads the document, unwraps
the master key with the passphrase it is given, and from then on every original, thumbnail
and preview it stores is AES-GCM ciphertext (``blobs_db`` with a ``FileCipher``) and every
one it reads is decrypted and checked on the workstation. The server's administrator, a
copy of the database or a backup of it sees only ciphertext for the photos; the records
(names, dates, notes, ratings) are in the server's tables, guarded by the logins' rights.

Only an empty clinic library is encrypted (``clinic create --encrypt``): photos stored plain
would stay so. Encrypting a library that holds photos is not offered yet. Changing the
passphrase (``rewrap``) wraps the same master key again, as a folder's does: the photos stay
as they are, and the recovery key too. The document is written by whoever may UPDATE its
table: the library's owner (``roles`` grants the staff only SELECT on it). Recording unlock
attempts and the change in the audit trail is the services' (``services.clinic_keys``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, text

from tracker.core.crypto import keys as crypto_keys
from tracker.core.crypto.keys import DEFAULT_KDF, KdfParams, Keys
from tracker.core.errors import LibraryError, UsageError

TABLE = "library_key"


class PassphraseNeeded(LibraryError):
    """The clinic library is encrypted and was opened without its passphrase."""


def document(conn: Connection, where: str) -> dict[str, Any] | None:
    """The library's key document, checked; None when it is not encrypted. The caller checks
    that the login may read it (the front desk, who opens no photo, may not)."""
    found = conn.execute(text(f"SELECT document FROM {TABLE} WHERE id = 1")).scalar_one_or_none()
    if found is None:
        return None
    try:
        doc = json.loads(found)
    except ValueError as exc:
        doc = exc
    return crypto_keys.checked(doc, f"The key document of {where}")


def unlock(
    doc: dict[str, Any], *, passphrase: str | None = None, recovery_key: str | None = None
) -> Keys:
    """The library's keys from its passphrase (or recovery key); WrongPassphrase if wrong."""
    if recovery_key is not None:
        return crypto_keys.unlock_document_with_recovery(doc, recovery_key)
    if passphrase is None:
        raise UsageError("Give the clinic library's passphrase or its recovery key.")
    return crypto_keys.unlock_document(doc, passphrase)


def unlock_from(
    engine: Engine, where: str, *, passphrase: str | None = None, recovery_key: str | None = None
) -> Keys:
    """``unlock`` with the document read afresh from the library's database (the window's
    lock asks again for the passphrase of a library that is open)."""
    with engine.connect() as conn:
        doc = document(conn, where)
    if doc is None:
        raise LibraryError(f"The clinic library in {where} holds no key any more.")
    return unlock(doc, passphrase=passphrase, recovery_key=recovery_key)


def encrypt_new(engine: Engine, passphrase: str, kdf: KdfParams = DEFAULT_KDF) -> str:
    """Make the keys of a new, empty clinic library and keep their document in it; returns
    the recovery key, to show once. Refused (nothing written) when the library holds a photo
    or a stored file, or is encrypted already."""
    crypto_keys.check_passphrase(passphrase)
    with engine.begin() as conn:
        conn.execute(text(f"LOCK TABLE {TABLE} IN EXCLUSIVE MODE"))
        if conn.execute(text(f"SELECT count(*) FROM {TABLE}")).scalar_one():
            raise UsageError("This clinic library is encrypted already; nothing was changed.")
        stored = conn.execute(
            text("SELECT (SELECT count(*) FROM photo) + (SELECT count(*) FROM blob)")
        ).scalar_one()
        if stored:
            raise UsageError(
                "This clinic library holds photos already, which would stay unencrypted: only "
                "a new, empty clinic library is encrypted; nothing was changed."
            )
        doc, created = crypto_keys.new_document(passphrase, kdf)
        conn.execute(
            text(f"INSERT INTO {TABLE} (id, document) VALUES (1, :d)"),
            {"d": json.dumps(doc, sort_keys=True)},
        )
    return created.recovery_key


def may_rewrap(conn: Connection) -> bool:
    """Whether this login may write the key document (UPDATE on its table)."""
    return bool(conn.scalar(text(f"SELECT has_table_privilege('{TABLE}', 'UPDATE')")))


def rewrap(
    conn: Connection, where: str, keys: Keys, new: str, kdf: KdfParams = DEFAULT_KDF
) -> None:
    """Wrap the master key of ``keys`` with the ``new`` passphrase, in the caller's
    transaction (the row locked until it ends): the recovery key's wrap, the library's id
    and every stored photo stay as they are. A ValidationError for a passphrase too weak, a
    LibraryError when the document is not there or is another library's."""
    crypto_keys.check_passphrase(new)
    found = conn.execute(
        text(f"SELECT document FROM {TABLE} WHERE id = 1 FOR UPDATE")
    ).scalar_one_or_none()
    if found is None:
        raise LibraryError(f"The clinic library in {where} is not encrypted; it has no passphrase.")
    try:
        doc = json.loads(found)
    except ValueError as exc:
        doc = exc
    doc = crypto_keys.checked(doc, f"The key document of {where}")
    if str(doc["library_id"]) != keys.library_id:
        raise LibraryError(
            f"The key document of {where} belongs to another library than the key given; "
            "nothing was changed."
        )
    # The folder's change (crypto.keys.change_passphrase) does the same on its key file.
    fresh = crypto_keys._document(keys.master, keys.library_id, new, kdf)
    doc.update({k: fresh[k] for k in ("kdf", "passphrase", "check")})
    conn.execute(
        text(f"UPDATE {TABLE} SET document = :d WHERE id = 1"),
        {"d": json.dumps(doc, sort_keys=True)},
    )
