"""Encrypted libraries (issue 20): importing 12 MP JPEGs into one against the plain import's
floor (``imports.import_floor``) and the plain import of the same files in the same rounds;
unlocking (Argon2id at the app's own parameters, then the SQLCipher database opened) against
the key derivation alone; a cached preview read from disk and decrypted; and a 20,000-photo
encrypted library opened in the window against a bare window (``window.BARE``).

The machine is often shared: each figure is measured in several rounds, interleaved with its
floor, and printed with its spread and the load average, so that a row is read against what
else the machine was doing. A row's value is its best round (what the code costs), its floor
the floor's best round.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tracker.bench import import_into, p95, record, timed, write_jpegs
from tracker.bench.imports import import_floor
from tracker.bench.window import BARE, _child_large, _time_to_shown, build_large

if TYPE_CHECKING:
    from tracker.core.store.library import Library

PASSPHRASE = "a passphrase for the benchmark"
ROUNDS = 3


def load() -> str:
    """The load average (1, 5, 15 minutes) and the number of cores, for the rows' context."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def spread(values: list[float]) -> str:
    return (
        f"min {min(values):.0f}, median {statistics.median(values):.0f}, "
        f"max {max(values):.0f} ms over {len(values)}"
    )


def bench_encrypted(work: Path, n: int, clients: int, per_client: int) -> None:
    print(f"  (encrypted: {load()})", flush=True)
    root = bench_encrypted_import(work, n)
    bench_unlock(root)
    bench_preview(root)
    bench_encrypted_large(work, clients, per_client)


def _new_encrypted(root: Path) -> Library:
    from tracker.core.store import encrypted

    lib, _recovery = encrypted.create(root, PASSPHRASE)
    return lib


def bench_encrypted_import(work: Path, n: int) -> Path:
    """Rounds of: the floor, a plain import, an encrypted import, of the same files. Returns
    the folder of an encrypted library holding them."""
    from tracker.core.store.library import Library

    paths = write_jpegs(work / "enc-jpegs", n)
    import_floor(paths, work / "enc-warm")  # the page cache, for all three
    with Library.open(work / "enc-warm-lib", create=True) as lib:
        import_into(lib, paths[:2], "Belly")  # OpenCV and the decoders loaded, for all rounds
    floors: list[float] = []
    plains: list[float] = []
    encs: list[float] = []
    for r in range(ROUNDS):
        floors.append(import_floor(paths, work / f"enc-floor{r}"))
        plain_lib = Library.open(work / f"enc-plain{r}", create=True)
        enc_lib = _new_encrypted(work / f"enc{r}")
        # Which goes first alternates, so that neither is always the one after the floor.
        for lib, times in [(plain_lib, plains), (enc_lib, encs)][:: 1 if r % 2 else -1]:
            with lib:
                times.append(timed(partial(import_into, lib, paths, "Belly")))
    best, floor, plain = min(encs), min(floors), min(plains)
    record(
        f"import {n} x 12 MP JPEG, encrypted library",
        best,
        "ms",
        floor,
        "<= 1.4x floor",
        best <= 1.4 * floor,
    )
    # What encryption itself adds: the same files into a plain library, in the same rounds.
    record("  the same into a plain library", plain, "ms", floor, "(same rounds)", None)
    ratios = " ".join(f"{e / f:.2f}" for e, f in zip(encs, floors, strict=True))
    over_plain = " ".join(f"{e / p:.2f}" for e, p in zip(encs, plains, strict=True))
    print(
        f"  (rounds: encrypted {spread(encs)}; floor {spread(floors)}; plain {spread(plains)};\n"
        f"   encrypted/floor by round {ratios}; encrypted/plain by round {over_plain}; {load()})",
        flush=True,
    )
    return work / "enc0"


def bench_unlock(root: Path) -> None:
    """Unlocking as the window and the command line do it (``encrypted.unlock``: the key
    file read, Argon2id, the master key unwrapped and checked; then ``Library.open``, which
    keys SQLCipher and opens the database), against Argon2id alone at the same parameters."""
    from tracker.core.crypto import keys as crypto_keys
    from tracker.core.store import encrypted
    from tracker.core.store.library import Library

    doc = crypto_keys.read(root)
    params = crypto_keys.KdfParams(
        doc["kdf"]["memory_kib"], doc["kdf"]["iterations"], doc["kdf"]["lanes"]
    )
    assert params == crypto_keys.DEFAULT_KDF, "the benchmark's library uses the app's parameters"
    salt = os.urandom(16)
    kdfs: list[float] = []
    unlocks: list[float] = []
    opens: list[float] = []
    for _ in range(5):
        kdfs.append(timed(partial(params.derive, PASSPHRASE, salt)))
        start = time.perf_counter()
        keys = encrypted.unlock(root, passphrase=PASSPHRASE)
        unlocked = time.perf_counter()
        Library.open(root, keys=keys).close()
        unlocks.append((time.perf_counter() - start) * 1000)
        opens.append((time.perf_counter() - unlocked) * 1000)
    best = min(unlocks)
    mib = params.memory_kib // 1024
    record(
        f"unlock (Argon2id m={mib} MiB t={params.iterations} p={params.lanes}, open)",
        best,
        "ms",
        min(kdfs),
        "<= 1500 ms",
        best <= 1500,
    )
    print(
        f"  (unlock and open {spread(unlocks)}; Argon2id alone {spread(kdfs)};\n"
        f"   of which the open {spread(opens)}; {load()})",
        flush=True,
    )


def _evict(path: Path) -> None:
    """Drop ``path`` from the page cache, so that it is read from the disk next time."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # written pages are only dropped once they are on the disk
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def bench_preview(root: Path) -> None:
    """A cached preview of a 12 MP photo, as the window reads it (``read_cache``: read, the
    file's key unwrapped, decrypted, its seal checked), first from the disk (dropped from the
    page cache), then from the page cache; the floor is reading the same file's bytes."""
    from tracker.core.store import encrypted
    from tracker.core.store.library import Library

    keys = encrypted.unlock(root, passphrase=PASSPHRASE)
    with Library.open(root, keys=keys) as lib:
        shas = [p.name.partition(".")[0] for p in sorted((root / "originals").glob("*/*"))]
        lib.make_previews(shas)
        paths = [lib.store._cache_path("previews", sha) for sha in shas]
        size = sum(p.stat().st_size for p in paths) / len(paths) / 1000
        cold: list[float] = []
        raw: list[float] = []
        warm: list[float] = []
        for _round in range(3):
            for sha, path in zip(shas, paths, strict=True):
                _evict(path)
                raw.append(timed(path.read_bytes))
                _evict(path)
                start = time.perf_counter()
                data = lib.store.read_cache("previews", sha)
                cold.append((time.perf_counter() - start) * 1000)
                assert data is not None, "a preview just made reads back"
                warm.append(timed(partial(lib.store.read_cache, "previews", sha)))
    worst = p95(cold)
    record("preview read from disk + decrypt, p95", worst, "ms", p95(raw), "<= 20 ms", worst <= 20)
    record("  the same from the page cache, p95", p95(warm), "ms", None, "(<= 20 ms)", None)
    print(f"  ({len(cold)} reads of {len(shas)} previews of {size:.0f} kB; {load()})", flush=True)


def _child_large_encrypted(root: Path, prefs_file: Path) -> None:
    """Runs in its own process: unlocks the library as the window's prompt does once the
    passphrase is typed, then opens it in the window and measures (``window._child_large``)."""
    from tracker.core.store import encrypted

    _child_large(root, prefs_file, encrypted.unlock(root, passphrase=PASSPHRASE))


def bench_encrypted_large(work: Path, clients: int, per_client: int) -> None:
    """Start, unlock and open a large encrypted library in the window (its database
    SQLCipher, its thumbnails encrypted), against a bare window and the same library plain,
    in the same rounds."""
    import json

    from tracker.core.store import encrypted

    root, plain_root = work / "enc-large", work / "enc-large-plain"
    _new_encrypted(root).close()
    keys = encrypted.unlock(root, passphrase=PASSPHRASE)
    took = timed(partial(build_large, root, clients, per_client, keys))
    build_large(plain_root, clients, per_client)
    photos = clients * per_client
    print(f"  (built an encrypted library of {photos} photos in {took / 1000:.1f} s)", flush=True)

    def child(flag: str, at: Path) -> list[str]:
        return [sys.executable, "-m", "tracker.bench", flag, str(at), str(work / "enc-prefs.ini")]

    bare: list[float] = []
    plain: list[float] = []
    opened: list[float] = []
    figures: list[dict[str, float]] = []
    plain_figures: list[dict[str, float]] = []
    for _round in range(ROUNDS):
        bare.append(_time_to_shown([sys.executable, "-c", BARE])[0])
        shown, rest = _time_to_shown(child("--child-large", plain_root))
        plain.append(shown)
        plain_figures.append(json.loads(rest[-1]))
        shown, rest = _time_to_shown(child("--child-large-encrypted", root))
        opened.append(shown)
        figures.append(json.loads(rest[-1]))
    best, floor = min(opened), min(bare)
    record(
        f"start, unlock, open {photos} photos, encrypted",
        best,
        "ms",
        floor,
        "<= 3.5x bare window",
        best <= 3.5 * floor,
    )
    record(
        "  the same library plain, start and open", min(plain), "ms", floor, "(same rounds)", None
    )
    print(
        f"  (encrypted {spread(opened)}; plain {spread(plain)}; bare window {spread(bare)};\n"
        f"   {load()})",
        flush=True,
    )
    for key, what, unit, budget in (
        ("switch_p95", "switch client (p95)", "ms", 100),
        ("frame_p95", "scroll, frame p95", "ms", 16),
        ("rss", "resident memory, peak", "MB", 400),
    ):
        value = min(f[key] for f in figures)
        record(f"  {what}, encrypted", value, unit, None, f"<= {budget} {unit}", value <= budget)
        same = min(f[key] for f in plain_figures)
        record(f"  {what}, plain", same, unit, None, f"(<= {budget} {unit})", None)
