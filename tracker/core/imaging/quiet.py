"""Keeping C libraries' messages off the person's terminal while they decode.

libtiff reports what it cannot do ("WEBP compression support is not configured", "Unknown field
with tag ...") by writing to the process's standard error, file descriptor 2, below Python;
neither ``sys.stderr`` nor ``warnings`` can catch it. The imaging layer refuses such files with a
sentence before decoding them (``formats.identify``), so this is the safety net for what slips
through: for the duration of a decode, descriptor 2 points at the null device.

Decodes run on several worker threads at once, and descriptor 2 belongs to the whole process,
so the silence is reference-counted under one lock: the first decode to enter points descriptor 2
at the null device, the last to leave puts the terminal back.

The trade-off: whatever any other thread writes to standard error while a TIFF decode is in
progress is lost too: a warning the command line prints about another file in those
milliseconds, a traceback another library prints. The window's own messages also go to its
log file, the command line's only to the terminal. That is why only the decoder known to print
is wrapped (TIFF, through libtiff); Pillow's JPEG, PNG and WebP decoders and libheif report
through exceptions, and a JPEG import is never silenced.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_depth = 0
# The real standard error while it is silenced; None when it is not (or could not be).
_saved: int | None = None


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 (standard error) until the block ends; nests across threads."""
    _enter()
    try:
        yield
    finally:
        _leave()


def _enter() -> None:
    global _depth, _saved
    with _lock:
        _depth += 1
        if _depth > 1:
            return
        try:
            # What Python has buffered for standard error belongs to the terminal, not the void.
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            saved = os.dup(2)
        except OSError:  # no descriptor 2 at all (a windowed app on Windows): nothing to silence
            return
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 2)
            finally:
                os.close(null)
        except OSError:
            os.close(saved)
            return
        _saved = saved


def _leave() -> None:
    global _depth, _saved
    with _lock:
        _depth -= 1
        if _depth > 0 or _saved is None:
            return
        saved, _saved = _saved, None
        with contextlib.suppress(Exception):
            sys.stderr.flush()  # what was written during the silence went nowhere; keep it so
        try:
            os.dup2(saved, 2)
        finally:
            os.close(saved)
