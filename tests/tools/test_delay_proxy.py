"""The delaying proxy (tracker/bench/delay_proxy.py, with tests/tools/delay_proxy.py's
controls): the delay it adds each way, measured on a real PostgreSQL connection and on plain
sockets; bytes intact and in order, many connections at once, a cut link seen by the client, a
clean close. The round trips it measures are printed (-s)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests import postgres
from tests.conftest import REPO
from tests.tools.delay_proxy import DEFAULT_DELAY_S, DelayProxy, Target, parse_target

# What a round trip through the proxy may take beyond twice its delay, on a loaded machine:
# the fastest of several trips is kept, so one stall does not count.
SLACK_S = 0.040


def pg_socket(server: postgres.Server) -> Path:
    """The server's unix socket, the proxy's target (the test server listens on no TCP port)."""
    return server.socket_dir / ".s.PGSQL.5432"


def connect_via(proxy: DelayProxy, pg_url: str) -> psycopg.Connection:
    host, port = proxy.address
    database = make_url(pg_url).database
    return psycopg.connect(host=host, port=port, user="postgres", dbname=database, autocommit=True)


def fastest(trip: Callable[[], object], times: int) -> float:
    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        trip()
        best = min(best, time.perf_counter() - start)
    return best


class _Echo(socketserver.BaseRequestHandler):
    """Says "+" at once, then sends back whatever it reads until the other end stops."""

    def handle(self) -> None:
        self.request.sendall(b"+")
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _TCPEcho(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # all the connections of a test at once


class _UnixEcho(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    request_queue_size = 128


class _Clock(socketserver.BaseRequestHandler):
    """Answers each byte with the time it arrived (perf_counter, the tests' own clock)."""

    def handle(self) -> None:
        while self.request.recv(1):
            self.request.sendall(struct.pack("d", time.perf_counter()))


@contextlib.contextmanager
def serving(
    kind: str, handler: type[socketserver.BaseRequestHandler], where: Path
) -> Iterator[Target]:
    """A server of ``handler`` in a thread; its address as a (host, port) target or a path."""
    server: socketserver.BaseServer
    target: Target
    if kind == "tcp":
        server = _TCPEcho(("127.0.0.1", 0), handler)
        target = ("127.0.0.1", server.server_address[1])
    else:
        target = str(where / "server.sock")
        server = _UnixEcho(target, handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield target
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(params=["tcp", "unix"])
def echo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """An echo server's address, as a (host, port) target or a unix socket path."""
    with serving(request.param, _Echo, tmp_path) as target:
        yield target


def dial(proxy: DelayProxy) -> socket.socket:
    sock = socket.create_connection(proxy.address, timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    chunks, got = [], 0
    while got < size:
        chunk = sock.recv(min(size - got, 1 << 20))
        if not chunk:
            raise ConnectionError(f"closed after {got} of {size} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def test_select_1_through_the_proxy_takes_twice_its_delay_longer(
    pg_server: postgres.Server, pg_url: str
) -> None:
    database = make_url(pg_url).database
    with psycopg.connect(
        host=str(pg_server.socket_dir), user="postgres", dbname=database, autocommit=True
    ) as conn:
        direct = fastest(lambda: conn.execute("SELECT 1").fetchone(), 10)
    with DelayProxy(pg_socket(pg_server)) as proxy, connect_via(proxy, pg_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        delayed = fastest(lambda: conn.execute("SELECT 1").fetchone(), 10)
        proxy.delay_s = 0.100
        slower = fastest(lambda: conn.execute("SELECT 1").fetchone(), 3)
        proxy.delay_s = 0.0
        undelayed = fastest(lambda: conn.execute("SELECT 1").fetchone(), 10)
    print(
        f"\nSELECT 1 round trip: direct {direct * 1000:.2f} ms, through the proxy at 0 ms "
        f"{undelayed * 1000:.2f} ms, at 30 ms each way {delayed * 1000:.2f} ms, "
        f"at 100 ms {slower * 1000:.2f} ms"
    )
    assert 2 * DEFAULT_DELAY_S <= delayed < 2 * DEFAULT_DELAY_S + SLACK_S
    assert 0.200 <= slower < 0.200 + SLACK_S
    assert undelayed < SLACK_S


@pytest.mark.parametrize("kind", ["tcp", "unix"])
def test_each_way_is_delayed_on_its_own(kind: str, tmp_path: Path) -> None:
    """The server notes when a byte reached it: the way there and the way back are timed apart."""
    up, down = float("inf"), float("inf")
    with (
        serving(kind, _Clock, tmp_path) as target,
        DelayProxy(target) as proxy,
        dial(proxy) as sock,
    ):
        for _ in range(5):
            sent = time.perf_counter()
            sock.sendall(b"t")
            (arrived,) = struct.unpack("d", recv_exactly(sock, 8))
            back = time.perf_counter()
            up, down = min(up, arrived - sent), min(down, back - arrived)
    print(f"\n{kind}: there {up * 1000:.2f} ms, back {down * 1000:.2f} ms")
    assert DEFAULT_DELAY_S <= up < DEFAULT_DELAY_S + SLACK_S
    assert DEFAULT_DELAY_S <= down < DEFAULT_DELAY_S + SLACK_S


def test_large_payloads_arrive_intact_both_ways(pg_server: postgres.Server, pg_url: str) -> None:
    up = random.Random(1).randbytes(8 * 1024 * 1024)
    with DelayProxy(pg_socket(pg_server)) as proxy, connect_via(proxy, pg_url) as conn:
        # To the server: it hashes what it got; and back: it sends the same bytes again.
        row = conn.execute("SELECT md5(%b), %b::bytea", [up, up]).fetchone()
        assert row is not None
        assert row[0] == hashlib.md5(up).hexdigest()
        assert row[1] == up
        down = conn.execute("SELECT decode(repeat('0123456789abcdef', 262144), 'hex')").fetchone()
        assert down == (bytes.fromhex("0123456789abcdef" * 262144),)


def test_many_connections_at_once_keep_their_bytes_apart_and_in_order(echo: Target) -> None:
    count, size = 40, 256 * 1024

    def talk(n: int) -> bool:
        data = random.Random(n).randbytes(size)
        with dial(proxy) as sock:
            assert recv_exactly(sock, 1) == b"+"
            sender = threading.Thread(target=sock.sendall, args=(data,))
            sender.start()
            back = recv_exactly(sock, size)
            sender.join()
        return back == data

    with DelayProxy(echo, delay_s=0.005) as proxy:
        with ThreadPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(talk, range(count)))
        assert results == [True] * count
        assert proxy.accepted == count
        assert proxy.wait_idle()
        assert proxy.open_connections == 0


def test_a_cut_drops_every_connection_until_resumed(
    pg_server: postgres.Server, pg_url: str
) -> None:
    with DelayProxy(pg_socket(pg_server)) as proxy:
        first, second = connect_via(proxy, pg_url), connect_via(proxy, pg_url)
        with first, second:
            assert proxy.open_connections == 2
            proxy.cut()
            for conn in (first, second):
                with pytest.raises(psycopg.OperationalError):
                    conn.execute("SELECT 1")
            assert proxy.open_connections == 0
            with pytest.raises(psycopg.OperationalError):
                connect_via(proxy, pg_url)
        proxy.resume()
        with connect_via(proxy, pg_url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)


def test_a_cut_mid_transfer_is_an_error_on_the_client(echo: Target) -> None:
    with DelayProxy(echo, delay_s=0.050) as proxy, dial(proxy) as sock:
        assert recv_exactly(sock, 1) == b"+"
        sock.sendall(b"x" * 100_000)  # still in the proxy when it is cut
        proxy.cut()
        with pytest.raises((ConnectionError, OSError)):
            recv_exactly(sock, 100_000)


def test_close_drops_connections_stops_listening_and_its_thread() -> None:
    def proxy_threads() -> int:
        return sum(t.name == "delay-proxy" for t in threading.enumerate())

    with socket.socket() as target:
        target.bind(("127.0.0.1", 0))
        target.listen()
        proxy = DelayProxy(target.getsockname()).start()
        assert proxy_threads() == 1
        sock = dial(proxy)
        accepted, _ = target.accept()
        with sock, accepted:
            proxy.close()
            assert accepted.recv(1) == b""  # the proxy's side of the link is gone
            assert sock.recv(1) == b""
        proxy.close()  # a second close does nothing
    assert proxy_threads() == 0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(proxy.address, timeout=5).close()


def test_targets_and_delays_are_read_as_given() -> None:
    assert parse_target("db.clinic.example:5432") == ("db.clinic.example", 5432)
    assert parse_target("[::1]:6543") == ("::1", 6543)
    assert parse_target("/tmp/pg-x/.s.PGSQL.5432") == "/tmp/pg-x/.s.PGSQL.5432"
    assert parse_target("relative.sock") == "relative.sock"
    with pytest.raises(ValueError, match="0 or more seconds"):
        DelayProxy(("127.0.0.1", 1), delay_s=-0.01)


def test_the_program_forwards_until_terminated(tmp_path: Path) -> None:
    program = [sys.executable, "-m", "tests.tools.delay_proxy"]
    with serving("unix", _Echo, tmp_path) as path:
        assert isinstance(path, str)
        missing = subprocess.run(
            [*program, str(tmp_path / "none.sock")], cwd=REPO, capture_output=True, text=True
        )
        assert missing.returncode == 2 and "none.sock does not exist" in missing.stderr
        child = subprocess.Popen(
            [*program, path, "--delay-ms", "5"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert child.stdout is not None
        try:
            line = child.stdout.readline()
            assert line.startswith("listening on 127.0.0.1:"), line
            port = int(line.split(":")[1].split(",")[0])
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                assert recv_exactly(sock, 1) == b"+"
                sock.sendall(b"hello")
                assert recv_exactly(sock, 5) == b"hello"
            child.send_signal(signal.SIGTERM)
            assert child.wait(timeout=10) == 0
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            child.stdout.close()
