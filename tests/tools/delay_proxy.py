"""The delaying proxy, for the tests: it lives in the benchmark harness
(``tracker/bench/delay_proxy.py``), which may not import the tests; here under its old name,
as a program too (``python -m tests.tools.delay_proxy``), with what only the tests use: a link
given back after ``cut()`` (``resume()``), and the connections open, or waited for to end."""

from __future__ import annotations

import sys

from tracker.bench import delay_proxy as _proxy
from tracker.bench.delay_proxy import CALL_TIMEOUT_S, DEFAULT_DELAY_S, Target, main, parse_target

__all__ = ["DEFAULT_DELAY_S", "DelayProxy", "Target", "main", "parse_target"]


class DelayProxy(_proxy.DelayProxy):
    """The harness's proxy, with the tests' controls."""

    def resume(self) -> None:
        """Accept connections again after ``cut()``; the dropped ones stay dropped."""
        self._call(self._set_cut(False))

    async def _set_cut(self, cut: bool) -> None:
        self._cut = cut

    @property
    def open_connections(self) -> int:
        return len(self._links)

    def wait_idle(self, timeout: float = CALL_TIMEOUT_S) -> bool:
        """Wait until no connection is open (every one closed by its ends); False on timeout."""
        with self._ended:
            return self._ended.wait_for(lambda: not self._links, timeout)


if __name__ == "__main__":
    sys.exit(main())
