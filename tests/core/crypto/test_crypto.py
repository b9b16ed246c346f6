"""The keys and the file format of an encrypted library (tracker.core.crypto)."""

from __future__ import annotations

import io
import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.core.crypto import cipher, keys, layout
from tracker.core.errors import (
    EncryptedFileRefused,
    KeyFileDamaged,
    ValidationError,
    WrongPassphrase,
)

FAST = keys.MIN_KDF  # the weakest a key file may name: quick enough for tests
PASS = "correct horse battery"


def _cipher(folder: Path) -> tuple[keys.Created, cipher.FileCipher]:
    made = keys.create(folder, PASS, FAST)
    return made, cipher.FileCipher(made.keys)


def test_the_passphrase_and_the_recovery_key_unlock_the_same_master_key(tmp_path: Path) -> None:
    made = keys.create(tmp_path, PASS, FAST)
    assert keys.unlock(tmp_path, PASS) == made.keys
    assert keys.unlock_with_recovery(tmp_path, made.recovery_key) == made.keys
    # As a person types it: lower case, spaces instead of dashes.
    typed = made.recovery_key.lower().replace("-", " ")
    assert keys.unlock_with_recovery(tmp_path, typed) == made.keys
    assert len(made.recovery_key.split("-")) == 8
    text = (tmp_path / keys.KEY_FILE).read_text()
    assert made.keys.master.hex() not in text and PASS not in text
    assert made.recovery_key not in text and "master" not in repr(made.keys).split("(")[1][:7]


def test_the_key_file_states_its_format_and_parameters(tmp_path: Path) -> None:
    keys.create(tmp_path, PASS)
    doc = json.loads((tmp_path / keys.KEY_FILE).read_text())
    assert doc["format"] == 1
    assert doc["kdf"] == {"name": "argon2id", "memory_kib": 65536, "iterations": 3, "lanes": 4}
    assert len(doc["passphrase"]["salt"]) == len(doc["recovery"]["salt"]) == 24  # 16 bytes
    assert doc["passphrase"]["salt"] != doc["recovery"]["salt"]
    assert oct(os.stat(tmp_path / keys.KEY_FILE).st_mode & 0o777) == "0o600"


def test_a_wrong_passphrase_or_recovery_key_is_one_sentence(tmp_path: Path) -> None:
    made = keys.create(tmp_path, PASS, FAST)
    with pytest.raises(
        WrongPassphrase, match=r"^The passphrase is wrong; the library stays locked\.$"
    ):
        keys.unlock(tmp_path, "correct horse battery!")
    (tmp_path / "other").mkdir()
    other = keys.create(tmp_path / "other", PASS, FAST)
    with pytest.raises(WrongPassphrase, match="recovery key is wrong"):
        keys.unlock_with_recovery(tmp_path, other.recovery_key)
    with pytest.raises(WrongPassphrase, match="not a recovery key"):
        keys.unlock_with_recovery(tmp_path, "ABCD-EFGH")
    assert keys.unlock(tmp_path, PASS) == made.keys


def test_changing_the_passphrase_rewraps_the_master_key_only(tmp_path: Path) -> None:
    made, fc = _cipher(tmp_path)
    sealed = fc.encrypt_bytes(b"photo bytes", "original:x")
    keys.change_passphrase(tmp_path, made.keys, "a new long passphrase", FAST)
    with pytest.raises(WrongPassphrase):
        keys.unlock(tmp_path, PASS)
    again = keys.unlock(tmp_path, "a new long passphrase")
    assert again == made.keys
    assert keys.unlock_with_recovery(tmp_path, made.recovery_key) == made.keys
    assert cipher.FileCipher(again).decrypt_bytes(sealed, "original:x", "f") == b"photo bytes"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_short_or_padded_passphrases_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="too short"):
        keys.create(tmp_path, "short", FAST)
    with pytest.raises(ValidationError, match="space"):
        keys.create(tmp_path, " padded passphrase", FAST)
    assert not (tmp_path / keys.KEY_FILE).exists()


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (lambda d: d.update(format=2), "newer version"),
        (lambda d: d["kdf"].update(memory_kib=1024), "weaker than allowed"),
        (lambda d: d["passphrase"].update(salt="***"), "damaged"),
        (lambda d: d.pop("recovery"), "damaged"),
    ],
)
def test_a_damaged_or_weakened_key_file_is_refused(
    tmp_path: Path, edit: Callable[[dict[str, Any]], object], words: str
) -> None:
    keys.create(tmp_path, PASS, FAST)
    path = tmp_path / keys.KEY_FILE
    doc = json.loads(path.read_text())
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyFileDamaged, match=words):
        keys.unlock(tmp_path, PASS)


def test_a_key_file_whose_check_fails_is_told_from_a_wrong_passphrase(tmp_path: Path) -> None:
    keys.create(tmp_path, PASS, FAST)
    path = tmp_path / keys.KEY_FILE
    doc = json.loads(path.read_text())
    doc["library_id"] = "0" * 32
    path.write_text(json.dumps(doc))
    with pytest.raises(KeyFileDamaged, match="key check"):
        keys.unlock(tmp_path, PASS)
    path.unlink()
    with pytest.raises(KeyFileDamaged, match="missing"):
        keys.unlock(tmp_path, PASS)


@settings(max_examples=25, deadline=None)
@given(
    size=st.sampled_from([0, 1, cipher.CHUNK - 1, cipher.CHUNK, cipher.CHUNK + 1, 3 * cipher.CHUNK])
)
def test_files_round_trip_in_chunks_and_stream(
    size: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    _, fc = _cipher(tmp_path_factory.mktemp("k"))
    data = os.urandom(size)
    sealed = fc.encrypt_bytes(data, "original:a.jpg")
    assert len(sealed) == cipher.HEADER_SIZE + size + (size // cipher.CHUNK + 1) * cipher.TAG
    assert fc.decrypt_bytes(sealed, "original:a.jpg", "f") == data
    with fc.open(io.BytesIO(sealed), "original:a.jpg", "f") as reader:
        assert reader.read() == data


def _refusal(fc: cipher.FileCipher, data: bytes, identity: str = "original:a.jpg") -> str:
    with pytest.raises(EncryptedFileRefused) as info:
        fc.decrypt_bytes(data, identity, "originals/a.jpg")
    return str(info.value)


def test_every_change_to_an_encrypted_file_is_refused_with_a_sentence(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    made, fc = _cipher(tmp_path / "a")
    data = os.urandom(2 * cipher.CHUNK + 100)
    sealed = fc.encrypt_bytes(data, "original:a.jpg")
    for at in (9, 20, cipher.HEADER_SIZE - 1, cipher.HEADER_SIZE + 5, len(sealed) - 1):
        flipped = bytearray(sealed)
        flipped[at] ^= 0x01
        assert _refusal(fc, bytes(flipped)).startswith("originals/a.jpg ")
    assert "cut short" in _refusal(fc, sealed[:-1])
    assert "cut short" in _refusal(fc, sealed[: cipher.HEADER_SIZE + cipher.CHUNK + cipher.TAG])
    assert "another photo" in _refusal(fc, sealed, "original:b.jpg")
    assert "not encrypted" in _refusal(fc, data)
    (tmp_path / "b").mkdir()
    _, elsewhere = _cipher(tmp_path / "b")
    assert "another library" in _refusal(elsewhere, sealed)
    # Chunks swapped within the file.
    body = sealed[cipher.HEADER_SIZE :]
    step = cipher.CHUNK + cipher.TAG
    swapped = sealed[: cipher.HEADER_SIZE] + body[step : 2 * step] + body[:step] + body[2 * step :]
    assert "damaged" in _refusal(fc, swapped)
    assert fc.decrypt_bytes(sealed, "original:a.jpg", "f") == data
    assert made.keys.master not in sealed


def test_the_ciphertext_shows_nothing_of_the_plaintext(tmp_path: Path) -> None:
    _, fc = _cipher(tmp_path)
    data = b"\xff\xd8\xff\xe0" + b"CANARY-PLAINTEXT" * 10_000
    a = fc.encrypt_bytes(data, "original:a.jpg")
    b = fc.encrypt_bytes(data, "original:a.jpg")
    assert a != b  # a fresh key and nonce for every file written
    for sealed in (a, b):
        # Random bytes hold any short pattern by chance (a 3-byte one about once in a hundred
        # files this size), so look for what would leak: the plaintext's 16-byte blocks, its
        # magic at the start, and its repetition (it compresses 300-fold; ciphertext cannot).
        assert b"CANARY-PLAINTEXT" not in sealed
        assert not sealed.startswith(b"\xff\xd8\xff")
        assert not sealed[cipher.HEADER_SIZE :].startswith(b"\xff\xd8\xff")
        assert len(zlib.compress(sealed, 9)) > 0.99 * len(sealed)


@pytest.mark.parametrize("size", [0, 1, 100, cipher.CHUNK - 1, cipher.CHUNK, 5 * cipher.CHUNK + 7])
def test_sizes_stored_and_plain_turn_round(size: int) -> None:
    assert layout.plain_size(layout.stored_size(size)) == size
