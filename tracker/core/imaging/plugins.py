"""Decoders loaded the first time they are needed, rather than at start-up."""

from __future__ import annotations

import threading

_heif_ready = False
_heif_lock = threading.Lock()


def ensure_heif() -> None:
    """Load the HEIC/HEIF decoder the first time one is met (it costs start-up time otherwise)."""
    global _heif_ready
    with _heif_lock:
        if not _heif_ready:
            import pillow_heif  # 45 ms of start-up for every photo that is not a HEIC

            pillow_heif.register_heif_opener()
            _heif_ready = True
