"""The Qt binding itself: faults of a release that would bring the app down in a long session.

PySide6 6.12.0 on Python 3.11 drops a reference to ``True`` at every ``Signal.emit()`` made
from Python: after a few thousand emits (thumbnails arriving, import progress) the interpreter
aborts with "bool_dealloc: deallocating True or False". The project pins a release without it;
this test stops an upgrade from bringing it back. (From Python 3.12 ``True`` is immortal and the
fault is harmless, which is why it can pass unnoticed elsewhere.)
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    plain = Signal()
    text = Signal(str)


def test_emitting_a_signal_does_not_drop_references_to_true() -> None:
    emitter = _Emitter()
    received: list[str] = []
    emitter.text.connect(received.append)
    before = sys.getrefcount(True)
    for _ in range(25):
        emitter.plain.emit()
        emitter.text.emit("x")
    after = sys.getrefcount(True)
    assert len(received) == 25
    # Other threads may take or drop a few references meanwhile; the fault drops 50.
    assert after >= before - 10, f"{before - after} references to True lost in 50 emits"
