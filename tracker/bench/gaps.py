"""How long the GUI thread goes without turning its event loop, shared by the window rows.

A repeating timer on the GUI thread (every ``TICK_MS``) records the gap between its ticks and
the GUI thread's own processor time in each gap. A long gap with little processor time is
the thread waiting for a core (another process, or the workers, had them both): a busy
machine's doing. A long gap full of processor time is our code on the GUI thread. The rows
print both, so a figure over budget says which of the two it is.

The floor is the longest gap of the same ticks over a few seconds with nothing of ours
running, once the window has settled: what the machine costs any thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

TICK_MS = 4
FRAME_MS = 16.0


@dataclass
class Gaps:
    """The gaps (wall and the GUI thread's processor time, in ms) of one stretch of ticks."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def longest(self) -> float:
        return max(self.wall, default=0.0)

    def over(self, limit: float = FRAME_MS) -> int:
        return sum(1 for g in self.wall if g > limit)

    def busy_over(self, limit: float = FRAME_MS) -> int:
        """How many gaps over ``limit`` had more than half of it in the GUI thread's own
        processor time: our code, not the machine."""
        return sum(
            1 for g, c in zip(self.wall, self.cpu, strict=True) if g > limit and c > limit / 2
        )

    def most_cpu(self) -> float:
        return max(self.cpu, default=0.0)

    def since(self, index: int) -> Gaps:
        return Gaps(self.wall[index:], self.cpu[index:])

    def until(self, index: int) -> Gaps:
        return Gaps(self.wall[:index], self.cpu[:index])


class GapClock:
    """Ticks on the GUI thread; ``start`` begins a stretch, ``stop`` ends it and returns it."""

    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self._clock = QElapsedTimer()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._used = 0.0
        self.gaps = Gaps()
        self._first = True

    def _tick(self) -> None:
        wall = self._clock.nsecsElapsed() / 1e6
        self._clock.restart()
        now = time.thread_time()
        if self._first:  # the first gap is the timer's start, not a turn of the loop
            self._first = False
        else:
            self.gaps.wall.append(wall)
            self.gaps.cpu.append((now - self._used) * 1000)
        self._used = now

    def start(self) -> None:
        self.gaps = Gaps()
        self._first = True
        self._used = time.thread_time()
        self._clock.start()
        self._timer.start()

    def stop(self) -> Gaps:
        self._timer.stop()
        return self.gaps

    def idle_floor(self, ms: int = 3000) -> Gaps:
        """The ticks over ``ms`` with nothing started: the machine's floor."""
        from PySide6.QtCore import QEventLoop, QTimer

        self.start()
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()
        return self.stop()


def settle(ms: int) -> None:
    """Turn the event loop for ``ms``: what a window queued at showing is done."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
