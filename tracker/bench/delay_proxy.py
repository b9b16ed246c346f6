"""A TCP proxy that holds every byte back for a while each way: a slow link (a clinic chain's VPN
to its server, issue 21) on one machine, for the tests and the benchmark harness.

``DelayProxy(target, delay_s=0.030)`` listens on 127.0.0.1 (a free port unless one is given)
and forwards each connection to ``target``: a ``(host, port)`` pair, or the path of a unix
socket (the throwaway PostgreSQL servers of tests/postgres.py and tracker/bench/pg.py listen
only on one). Each chunk
read from one side is written to the other ``delay_s`` after it was read, in order, so a round
trip through the proxy takes at least twice the delay longer; bandwidth is not limited (the
chunks in flight are pipelined, as on a real link). ``requests`` counts the chunks read from
the clients: a client waiting for each answer sends one per round trip. ``cut()`` drops every
connection at once, as a lost link does, and refuses new ones (the tests' own subclass,
tests/tools/delay_proxy.py, adds ``resume()`` and waiting for the connections to end).

It runs an asyncio loop in its own thread, so the test's thread stays free to use the
connections. Only the standard library. As a program, for trying the window over a slow link::

    python -m tracker.bench.delay_proxy /tmp/pg-xyz/.s.PGSQL.5432 --delay-ms 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeVar

from sqlalchemy.engine import make_url

DEFAULT_DELAY_S = 0.030
CHUNK = 64 * 1024
# Chunks in flight each way before the reading side waits (backpressure): 16 MiB.
IN_FLIGHT = 256
CALL_TIMEOUT_S = 10.0

Target = tuple[str, int] | str | os.PathLike[str]
T = TypeVar("T")


def parse_target(text: str) -> Target:
    """``host:port`` (``[::1]:5432`` for IPv6) as a TCP target; anything else is a socket path."""
    host, sep, port = text.rpartition(":")
    if sep and port.isdigit() and host and "/" not in host:
        return host.strip("[]"), int(port)
    return text


@dataclass(eq=False)
class _Link:
    """One client's connection and the proxy's own connection to the target."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    task: asyncio.Task[None] | None = None
    cut: bool = False
    pipes: list[asyncio.Task[None]] = field(default_factory=list)

    async def close(self) -> None:
        writers = [w for w in (self.client, self.server) if w is not None]
        for writer in writers:
            if self.cut:
                writer.transport.abort()
            else:
                writer.close()
        for writer in writers:
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class DelayProxy:
    """A delaying TCP proxy; ``with DelayProxy(target) as proxy:`` starts and closes it."""

    def __init__(
        self,
        target: Target,
        *,
        delay_s: float = DEFAULT_DELAY_S,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if delay_s < 0:
            raise ValueError(f"The proxy's delay must be 0 or more seconds, not {delay_s}.")
        self.target = target
        # Read for every chunk: a test may change it while connections are open.
        self.delay_s = delay_s
        self.host = host
        self.port = port
        self.accepted = 0
        # Chunks read from the clients (the loop's thread adds, any thread reads).
        self.requests = 0
        self._cut = False
        self._links: set[_Link] = set()
        # Told when a connection ends (the tests wait for it in their thread).
        self._ended = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    # -- the test's side (any thread) ---------------------------------------------------

    def start(self) -> Self:
        if self._loop is not None:
            raise RuntimeError("The delaying proxy is already started.")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="delay-proxy", daemon=True
        )
        self._thread.start()
        try:
            self._call(self._listen())
        except BaseException:
            self._stop_loop()
            raise
        return self

    def close(self) -> None:
        """Stop listening, drop every connection and stop the thread; safe to call twice."""
        if self._loop is None:
            return
        try:
            self._call(self._shutdown())
        finally:
            self._stop_loop()

    def cut(self) -> None:
        """Drop every open connection at once (both sides see it closed, nothing in flight is
        delivered) and refuse new ones: a lost link."""
        self._call(self._cut_all())

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def reaching(self, url: str) -> str:
        """The database address ``url`` reached through this proxy (on its host and port,
        not the server's socket), its password kept."""
        return (
            make_url(url)
            .set(host=self.host, port=self.port, query={})
            .render_as_string(hide_password=False)
        )

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("The delaying proxy is not running.")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(CALL_TIMEOUT_S)

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(CALL_TIMEOUT_S)
        loop.close()

    # -- the loop's side ----------------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _cut_all(self) -> None:
        self._cut = True
        await self._drop_all()

    async def _drop_all(self) -> None:
        tasks = []
        for link in list(self._links):
            link.cut = True
            if link.task is not None:
                link.task.cancel()
                tasks.append(link.task)
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self._drop_all()

    async def _open_target(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if isinstance(self.target, tuple):
            return await asyncio.open_connection(*self.target, limit=CHUNK)
        return await asyncio.open_unix_connection(os.fspath(self.target), limit=CHUNK)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(client=client_w, task=asyncio.current_task(), cut=self._cut)
        if self._cut:
            await link.close()
            return
        self._links.add(link)
        try:
            server_r, link.server = await self._open_target()
            link.pipes = [
                asyncio.create_task(self._pipe(client_r, link.server, upstream=True)),
                asyncio.create_task(self._pipe(server_r, client_w)),
            ]
            await asyncio.gather(*link.pipes)
        except OSError:
            # The target refused or reset: the client sees its connection closed.
            link.cut = True
        except asyncio.CancelledError:
            # cut() or close(): the connection ends here, and its task ends normally (asyncio
            # logs a connection's task that ends cancelled as an error).
            if not link.cut:
                raise
        finally:
            for pipe in link.pipes:
                pipe.cancel()
            await asyncio.gather(*link.pipes, return_exceptions=True)
            await link.close()
            with self._ended:
                self._links.discard(link)
                self._ended.notify_all()

    async def _pipe(
        self, src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, upstream: bool = False
    ) -> None:
        """Copy ``src`` to ``dst``, each chunk ``delay_s`` after it was read; end-of-file too
        (``upstream``: from a client, counted in ``requests``)."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(IN_FLIGHT)

        async def send() -> None:
            while True:
                due, data = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if dst.can_write_eof():
                        dst.write_eof()
                    return
                dst.write(data)
                await dst.drain()

        async def receive() -> None:
            while True:
                data = await src.read(CHUNK)
                if upstream and data:
                    self.requests += 1
                await queue.put((loop.time() + self.delay_s, data))
                if not data:
                    return

        # Both ends run at once: a reset seen by either ends the copy at once.
        tasks = {asyncio.create_task(receive()), asyncio.create_task(send())}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()  # raises what went wrong
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tracker.bench.delay_proxy",
        description="Forward 127.0.0.1:PORT to TARGET, delaying every byte each way.",
    )
    parser.add_argument("target", help="host:port, or the path of a unix socket")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (default: free)")
    parser.add_argument("--delay-ms", type=float, default=DEFAULT_DELAY_S * 1000)
    args = parser.parse_args(argv)
    target = parse_target(args.target)
    if not isinstance(target, tuple) and not Path(target).exists():
        parser.error(f"{target} does not exist (a unix socket path, or host:port).")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with DelayProxy(target, delay_s=args.delay_ms / 1000, port=args.port) as proxy:
        host, port = proxy.address
        print(f"listening on {host}:{port}, {args.delay_ms:g} ms each way", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
