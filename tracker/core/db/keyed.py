"""The database of an encrypted library: SQLCipher 4 (``sqlcipher3``) keyed with a raw key.

SQLCipher encrypts every page of the database and of its write-ahead log with AES-256 and
authenticates each with HMAC-SHA512, so the file, its ``-wal`` and every copy made with
SQLite's backup API (snapshots, backups) are encrypted with the same key. The key is 32 bytes
derived from the library's master key (``crypto.keys.Keys.database_key``), given as a raw key
(``PRAGMA key = "x'…'"``): no passphrase derivation of SQLCipher's own runs on each
connection, since the passphrase was already stretched once with Argon2id.

Loaded only for an encrypted library: a plain one uses Python's own sqlite3, as before.
"""

from __future__ import annotations

from typing import Any

import sqlcipher3

dbapi = sqlcipher3


def apply_key(conn: Any, key: bytes) -> None:
    """Key a new connection: the first statement it runs. SQLCipher's own log, which would
    print to standard error on a wrong key, is silenced (the app says it in one sentence)."""
    if len(key) != 32:
        raise ValueError("a database key is 32 bytes")
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")


def connect(target: str, key: bytes, *, uri: bool = False) -> Any:
    """A DB-API connection to ``target`` (a path, or a ``file:`` URI with ``uri``), keyed."""
    conn = sqlcipher3.connect(target, uri=uri)
    try:
        apply_key(conn, key)
    except BaseException:
        conn.close()
        raise
    return conn
