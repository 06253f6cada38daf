"""Issue 32 finding 9: a slow or silent client cannot hold a connection (webhook/http/server.py).

The first test is the real `python -m webhook serve` with its real bounds and a client that
sends its request one byte a second; the others run the same server configuration in process
with short bounds, one per limit.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from tests.support.ports import free_port
from tests.support.queue_double import FakeQueue
from tests.support.service import AUTH, ServeProcess, make_settings
from webhook.http.app import create_app
from webhook.http.server import HEADER_TIMEOUT_SECONDS, GuardedHttpProtocol, server_config
from webhook.store import Store

# A request head longer than the header bound lets a one-byte-a-second client send.
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: " + b"a" * 30 + b"\r\n\r\n"
assert len(SLOW_HEAD) > 3 * HEADER_TIMEOUT_SECONDS
LIMIT = 60.0  # a bound for the waits below, never asserted on


def send_slowly(port: int, head: bytes, pause: float) -> tuple[int, bytes]:
    """Send `head` one byte per `pause` seconds until the server closes the connection;
    return how many bytes were sent and what the server answered."""
    sent, answer = 0, b""
    with socket.create_connection(("127.0.0.1", port), timeout=LIMIT) as conn:
        for byte in head:
            try:
                conn.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
            readable, _, _ = select.select([conn], [], [], pause)
            if readable:
                answer = read_to_close(conn)
                break
    return sent, answer


def read_to_close(conn: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or LIMIT passes)."""
    conn.settimeout(LIMIT)
    received = b""
    try:
        while chunk := conn.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def exchange(port: int, data: bytes) -> bytes:
    """Send `data` on a new connection; what the server sends until it closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=LIMIT) as conn:
        conn.sendall(data)
        return read_to_close(conn)


def test_a_client_sending_its_headers_byte_by_byte_is_cut_off_and_others_are_served(
    tmp_path: Path,
) -> None:
    port = free_port()
    service = ServeProcess(tmp_path / "state", port)
    try:
        outcome: list[tuple[int, bytes]] = []
        slow = threading.Thread(target=lambda: outcome.append(send_slowly(port, SLOW_HEAD, 1.0)))
        slow.start()
        others = []
        with httpx.Client(base_url=service.url, timeout=10) as client:
            while slow.is_alive():
                others.append(client.get("/healthz").status_code)
                slow.join(0.5)
        [(sent, answer)] = outcome
        assert sent < len(SLOW_HEAD), f"the whole head was read: {answer!r}"
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert others and set(others) == {200}, others
    finally:
        service.stop()


class Quick(GuardedHttpProtocol):
    header_timeout = 0.3
    body_timeout = 0.3
    max_head_bytes = 4096


@contextmanager
def guarded_service(tmp_path: Path, **overrides: object) -> Iterator[int]:
    """The service under `server_config` with Quick's bounds, in this process; its port."""
    settings = make_settings(tmp_path / "state")
    store = Store.open(settings.database_path)
    port = free_port()
    config = server_config(create_app(settings, store, FakeQueue()), "127.0.0.1", port)
    config.http = Quick  # type: ignore[assignment]
    for name, value in overrides.items():
        setattr(config, name, value)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + LIMIT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(LIMIT)
        store.close()


def test_a_connection_that_sends_nothing_gets_408_and_is_closed(tmp_path: Path) -> None:
    with guarded_service(tmp_path) as port:
        answer = exchange(port, b"")
    assert answer.startswith(b"HTTP/1.1 408 "), answer


def test_a_body_that_stops_arriving_closes_the_connection(tmp_path: Path) -> None:
    head = (
        b"POST /deployments HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: {AUTH['Authorization']}\r\n".encode()
        + b"Content-Length: 100\r\n\r\n"
    )
    with guarded_service(tmp_path) as port:
        answer = exchange(port, head + b'{"sha": ')
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            assert client.get("/healthz").status_code == 200
    assert answer == b"", answer  # closed, nothing recorded from half a body


def test_an_idle_connection_is_closed_after_the_keep_alive_bound(tmp_path: Path) -> None:
    with guarded_service(tmp_path, timeout_keep_alive=0.3) as port:
        answer = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b'{"status":"ok"}'), answer


def test_a_second_request_on_a_connection_has_its_own_header_bound(tmp_path: Path) -> None:
    with guarded_service(tmp_path) as port:
        answer = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /hea")
    first, _, second = answer.partition(b'{"status":"ok"}')
    assert first.startswith(b"HTTP/1.1 200 "), answer
    assert second.startswith(b"HTTP/1.1 408 "), answer


def test_a_request_head_over_the_bound_gets_431(tmp_path: Path) -> None:
    padding = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 100) for i in range(60))
    with guarded_service(tmp_path) as port:
        answer = exchange(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + padding)
    assert answer.startswith(b"HTTP/1.1 431 "), answer
