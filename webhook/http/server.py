"""The HTTP server's own limits: how long a client may take to send a request, how long an
idle connection stays open, how large the request head may grow.

uvicorn bounds only the idle time between two requests of a connection
(`timeout_keep_alive`); it has no bound on the time to send the request itself, so a client
that sends its headers one byte a second (or nothing at all) held a connection forever.
`GuardedHttpProtocol` is uvicorn's httptools protocol with that bound added:

- the request head (request line and headers) must be complete within `header_timeout`
  seconds of the connection opening or of the request's first byte, and hold at most
  `max_head_bytes`; else the server answers 408 (or 431) and closes the connection;
- the body must be complete within `body_timeout` seconds of the head; else the connection
  closes (the app sees the client gone);
- between requests, uvicorn's `timeout_keep_alive` closes an idle connection.

Each response's head waits for its first body write (or the loop's next turn) and leaves
with it in one send (`CoalescingTransport`): on loopback a send costs the receiver's
network processing too, and the head's own send was the hook's largest single cost.

`server_config` is the uvicorn configuration `python -m webhook serve` runs with.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT_SECONDS = 10.0
"""The request line and headers, from the connection (or the request's first byte) on."""
BODY_TIMEOUT_SECONDS = 30.0
"""The body, from the end of the headers on: 1 MiB (the hook's limit) at ~35 KiB/s."""
KEEP_ALIVE_SECONDS = 5
"""An idle connection between two requests (uvicorn's `timeout_keep_alive`)."""
MAX_HEAD_BYTES = 64 * 1024
"""Request line and headers together; GitHub's and browsers' are a few KiB."""


def _answer(status: bytes, message: bytes) -> bytes:
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: " + str(len(message)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
            message,
        ]
    )


TIMED_OUT = _answer(b"408 Request Timeout", b"request not received in time")
HEAD_TOO_LARGE = _answer(b"431 Request Header Fields Too Large", b"request headers too large")


class CoalescingTransport:
    """One response's view of the connection: its first write (the response head) is held
    until the next write (the body), which sends both at once, or until the loop's next
    turn; every other call goes to the connection's transport."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._first = True

    def write(self, data: bytes) -> None:
        if self._held is not None:
            data, self._held = self._held + data, None
            self._transport.write(data)
        elif self._first:
            self._first = False
            self._held = data
            self._loop.call_soon(self._release)
        else:
            self._transport.write(data)

    def close(self) -> None:
        self._release()
        self._transport.close()

    def _release(self) -> None:
        if self._held is not None:
            data, self._held = self._held, None
            if not self._transport.is_closing():
                self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline on reading each request and a bound on
    its head (see the module docstring). Subclass to change the class attributes."""

    header_timeout: float = HEADER_TIMEOUT_SECONDS
    body_timeout: float = BODY_TIMEOUT_SECONDS
    max_head_bytes: int = MAX_HEAD_BYTES

    _deadline: asyncio.TimerHandle | None = None
    _in_head = True
    _head_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._in_head = True
        self._arm(self.header_timeout)  # also a connection that never sends a byte

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > self.max_head_bytes:
            self._refuse(HEAD_TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        if self._deadline is None:  # a later request of the connection: its first byte
            self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._arm(self.body_timeout)
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not None and self.cycle is not previous:  # not an upgrade
            self.cycle.transport = CoalescingTransport(self.transport, self.loop)  # type: ignore[assignment]

    def on_message_complete(self) -> None:
        self._disarm()
        self._head_bytes = 0  # the next request's head counts from here
        super().on_message_complete()

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if self._in_head:
            self._refuse(TIMED_OUT)
        elif not self.transport.is_closing():
            self.transport.close()  # mid-body: the app reads `http.disconnect`

    def _refuse(self, answer: bytes) -> None:
        """Answer (when no response of this connection is under way) and close."""
        self._disarm()
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(answer)
        self.transport.close()


def server_config(app: Any, host: str, port: int, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration for the service: the guarded protocol, keep-alive bounded,
    no proxy headers (the app believes X-Forwarded-For only from SLIPWAY_TRUSTED_PROXIES),
    no Server header, uvicorn's logging off (the service logs for itself)."""
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "loop": "uvloop",
        "http": GuardedHttpProtocol,
        "log_config": None,
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": 10,
        **overrides,
    }
    return uvicorn.Config(app, **options)
