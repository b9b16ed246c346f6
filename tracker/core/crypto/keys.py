"""An encrypted library's keys: a master key kept wrapped in the library's key file.

The master key is 32 random bytes, never written anywhere unwrapped. The key file
(``library.key``, JSON) holds it twice:

- wrapped (AES-256-GCM) by a key derived from the passphrase with **Argon2id**, at
  m = 64 MiB, t = 3 passes, p = 4 lanes, 32-byte output, a 16-byte random salt: RFC 9106's
  second recommended setting, stronger than OWASP's minimum (m = 19 MiB, t = 2, p = 1).
  The parameters are stored in the file, so a later version can raise them;
- wrapped by the **recovery key**: 160 random bits shown once as 8 groups of 4 base32
  characters (``ABCD-EFGH-…``) to print or write down. It is random, not chosen, so it is
  stretched with HKDF-SHA256 (and its own salt) rather than Argon2id: guessing 2^160 is out
  of reach however cheap each guess.

A **key check** (HMAC-SHA256 of the library's id under a key derived from the master key)
tells a wrong passphrase from a damaged file in one sentence, and binds the file to the
library's id. Changing the passphrase re-wraps the master key only: a new salt and a new
wrap, written atomically; nothing else is encrypted again.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tracker.core.crypto.layout import KEY_FILE
from tracker.core.errors import KeyFileDamaged, ValidationError, WrongPassphrase

FORMAT = 1
MIN_PASSPHRASE = 8
_RECOVERY_BYTES = 20  # 160 bits: 32 base32 characters
_WRAP_AAD = b"stria-tracker master key v1"


@dataclass(frozen=True)
class KdfParams:
    """Argon2id's cost: memory in KiB, passes, lanes (see the module docstring)."""

    memory_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        kdf = Argon2id(
            salt=salt,
            length=32,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        )
        return kdf.derive(passphrase.encode("utf-8"))


DEFAULT_KDF = KdfParams()
# The weakest parameters a key file may name (OWASP's minimum): a file asking for less was
# not written by this app, and would make the passphrase cheap to guess.
MIN_KDF = KdfParams(memory_kib=19 * 1024, iterations=2, lanes=1)


@dataclass(frozen=True)
class Keys:
    """An unlocked library's master key. Its ``repr`` never shows the key."""

    master: bytes = field(repr=False)
    library_id: str

    def subkey(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose, derived from the master key (HKDF-SHA256)."""
        return _hkdf(self.master, self.library_id.encode("ascii"), purpose.encode("ascii"))

    def database_key(self) -> bytes:
        """SQLCipher's raw key for the library database."""
        return self.subkey("database")


def _hkdf(key: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text, validate=True)


def _wrap(kek: bytes, master: bytes) -> dict[str, str]:
    nonce = secrets.token_bytes(12)
    return {"nonce": _b64(nonce), "wrapped": _b64(AESGCM(kek).encrypt(nonce, master, _WRAP_AAD))}


def _unwrap(kek: bytes, entry: dict[str, Any]) -> bytes | None:
    try:
        return AESGCM(kek).decrypt(_unb64(entry["nonce"]), _unb64(entry["wrapped"]), _WRAP_AAD)
    except InvalidTag:
        return None


def _check(master: bytes, library_id: str) -> str:
    key = _hkdf(master, library_id.encode("ascii"), b"key check")
    return _b64(hmac.new(key, library_id.encode("ascii"), hashlib.sha256).digest())


def check_passphrase(passphrase: str) -> None:
    """ValidationError unless ``passphrase`` is one a library may be locked with."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise ValidationError(
            f"The passphrase is too short: use at least {MIN_PASSPHRASE} characters "
            "(a few words are easier to remember than symbols)."
        )
    if passphrase != passphrase.strip():
        raise ValidationError(
            "The passphrase starts or ends with a space, which is too easy to lose; leave it out."
        )


def format_recovery(raw: bytes) -> str:
    text = base64.b32encode(raw).decode("ascii")
    return "-".join(text[i : i + 4] for i in range(0, len(text), 4))


def parse_recovery(text: str) -> bytes:
    """The recovery key's bytes from what a person typed: case, spaces and dashes ignored,
    and the letters people confuse with digits (O, I, L) read as the digits base32 lacks."""
    cleaned = "".join(c for c in text.upper() if c.isalnum())
    cleaned = cleaned.replace("0", "O").replace("1", "I").replace("8", "B")
    try:
        raw = base64.b32decode(cleaned)
    except ValueError:
        raw = b""
    if len(raw) != _RECOVERY_BYTES:
        raise WrongPassphrase(
            "That is not a recovery key: it is 32 letters and digits in groups of four "
            "(ABCD-EFGH-…), as shown when the library was made."
        )
    return raw


def _recovery_kek(raw: bytes, salt: bytes) -> bytes:
    return _hkdf(raw, salt, b"stria-tracker recovery key")


@dataclass(frozen=True)
class Created:
    keys: Keys
    recovery_key: str  # shown once, never stored


def create(
    folder: Path, passphrase: str, kdf: KdfParams = DEFAULT_KDF, master: bytes | None = None
) -> Created:
    """Make a new master key (or wrap ``master``, a key being kept) for the library in
    ``folder`` and write its key file; returns the keys and the recovery key to show."""
    doc, created = new_document(passphrase, kdf, master)
    write(folder, doc)
    return created


def new_document(
    passphrase: str, kdf: KdfParams = DEFAULT_KDF, master: bytes | None = None
) -> tuple[dict[str, Any], Created]:
    """A new key document (what a key file holds: a clinic library keeps it in its database,
    ``store.server_keys``), with the keys and the recovery key to show."""
    check_passphrase(passphrase)
    master = master if master is not None else secrets.token_bytes(32)
    library_id = secrets.token_hex(16)
    recovery = secrets.token_bytes(_RECOVERY_BYTES)
    doc = _document(master, library_id, passphrase, kdf)
    salt = secrets.token_bytes(16)
    doc["recovery"] = {"salt": _b64(salt), **_wrap(_recovery_kek(recovery, salt), master)}
    return doc, Created(Keys(master, library_id), format_recovery(recovery))


def _document(master: bytes, library_id: str, passphrase: str, kdf: KdfParams) -> dict[str, Any]:
    salt = secrets.token_bytes(16)
    return {
        "format": FORMAT,
        "library_id": library_id,
        "kdf": {
            "name": "argon2id",
            "memory_kib": kdf.memory_kib,
            "iterations": kdf.iterations,
            "lanes": kdf.lanes,
        },
        "passphrase": {"salt": _b64(salt), **_wrap(kdf.derive(passphrase, salt), master)},
        "check": _check(master, library_id),
    }


def read(folder: Path) -> dict[str, Any]:
    """The key file's contents, checked for shape; KeyFileDamaged with a sentence if not."""
    path = folder / KEY_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyFileDamaged(
            f"The library in {folder} is encrypted but its key file {KEY_FILE} is missing; "
            "restore it from a backup of the library."
        ) from None
    except (OSError, ValueError) as exc:
        raise KeyFileDamaged(
            f"The library's key file {path} cannot be read ({exc}); restore it from a backup."
        ) from exc
    return checked(doc, f"The library's key file {path}")


def checked(doc: Any, what: str) -> dict[str, Any]:
    """``doc`` if it is a key document of this version's shape (``what`` names where it was
    read, for the sentence); KeyFileDamaged otherwise."""
    try:
        if not isinstance(doc, dict) or doc["format"] != FORMAT:
            raise ValueError("unknown format")
        kdf = doc["kdf"]
        if kdf["name"] != "argon2id":
            raise ValueError("unknown key derivation")
        params = _params(kdf)
        if params.memory_kib < MIN_KDF.memory_kib or params.iterations < MIN_KDF.iterations:
            raise ValueError("key derivation weaker than allowed")
        for name in ("passphrase", "recovery"):
            for part in ("salt", "nonce", "wrapped"):
                _unb64(doc[name][part])
        str(doc["library_id"]).encode("ascii")
        _unb64(doc["check"])
    except (KeyError, TypeError, ValueError) as exc:
        raise KeyFileDamaged(
            f"{what} is damaged or of a newer version ({exc}); restore it from a backup, or "
            "update the app."
        ) from exc
    assert isinstance(doc, dict)
    return doc


def _params(kdf: dict[str, Any]) -> KdfParams:
    values = (kdf["memory_kib"], kdf["iterations"], kdf["lanes"])
    if not all(isinstance(v, int) and 0 < v < 1 << 24 for v in values):
        raise ValueError("bad key derivation parameters")
    return KdfParams(*values)


def _verified(doc: dict[str, Any], master: bytes | None, what: str) -> Keys:
    library_id = str(doc["library_id"])
    if master is None:
        raise WrongPassphrase(f"The {what} is wrong; the library stays locked.")
    if not hmac.compare_digest(_check(master, library_id), str(doc["check"])):
        raise KeyFileDamaged(
            "The library's key file does not match itself (its key check fails); restore it "
            "from a backup of the library."
        )
    return Keys(master, library_id)


def unlock(folder: Path, passphrase: str) -> Keys:
    """The library's keys from its passphrase; WrongPassphrase (one sentence) if it is wrong."""
    return unlock_document(read(folder), passphrase)


def unlock_document(doc: dict[str, Any], passphrase: str) -> Keys:
    """``unlock`` of a key document already read (and ``checked``)."""
    entry = doc["passphrase"]
    kek = _params(doc["kdf"]).derive(passphrase, _unb64(entry["salt"]))
    return _verified(doc, _unwrap(kek, entry), "passphrase")


def unlock_with_recovery(folder: Path, recovery_key: str) -> Keys:
    """The library's keys from its recovery key; WrongPassphrase if it is not this library's."""
    return unlock_document_with_recovery(read(folder), recovery_key)


def unlock_document_with_recovery(doc: dict[str, Any], recovery_key: str) -> Keys:
    """``unlock_with_recovery`` of a key document already read (and ``checked``)."""
    entry = doc["recovery"]
    kek = _recovery_kek(parse_recovery(recovery_key), _unb64(entry["salt"]))
    return _verified(doc, _unwrap(kek, entry), "recovery key")


def change_passphrase(folder: Path, keys: Keys, new: str, kdf: KdfParams = DEFAULT_KDF) -> None:
    """Wrap the master key with a new passphrase; the recovery key and every file stay."""
    check_passphrase(new)
    doc = read(folder)
    if str(doc["library_id"]) != keys.library_id:
        raise KeyFileDamaged("The library's key file belongs to another library.")
    fresh = _document(keys.master, keys.library_id, new, kdf)
    doc.update({k: fresh[k] for k in ("kdf", "passphrase", "check")})
    write(folder, doc)


def write(folder: Path, doc: dict[str, Any]) -> None:
    """Write the key file complete or not at all (a temporary file, fsynced, renamed)."""
    path = folder / KEY_FILE
    part = folder / f".{KEY_FILE}.{secrets.token_hex(4)}.part"
    data = json.dumps(doc, indent=1, sort_keys=True).encode("ascii")
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(part, path)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
