"""Request body limits for every route, enforced before the app reads a byte.

`BodyLimit` wraps the whole service (the hook included). A request whose declared
Content-Length is over its route's limit is answered 413 at once, before its body is read; a
body sent without a length (chunked) is counted while it streams and ends in `BodyTooLarge`
(answered 413 by the hook itself, or by the app's handler) as soon as it passes the limit.
Every 413, and every answer given before the body was read to its end (a 401 or 429 that
never looked at it), closes the connection, so an unread body is not drained. The one
exception: a declared body over the limit but at most DRAIN_BYTES is read and discarded
first. A reverse proxy still sending it would otherwise see the connection close mid-request
and answer 502 instead of passing the 413 on (Caddy does); nothing of it is kept.

The limits (docs/webhook.md, "Limits"):
- `POST /hooks/github`: SLIPWAY_MAX_BODY_BYTES (GitHub's payloads reach a few hundred KiB);
- the four routes that take a small form or JSON body (`SMALL_BODY_ROUTES`): SMALL_BODY_BYTES;
- every other route takes no body at all (0 bytes).
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from webhook.http.headers import DEFAULTS

SMALL_BODY_BYTES = 8 * 1024
"""Login/logout forms and the deploy API's JSON: a token, a sha, a ref and a 500-character
reason fit with room to spare (even with every character escaped)."""

MAX_LENGTH_DIGITS = 18
"""A Content-Length with more digits is refused without converting it (int() of thousands of
digits is slow and raises)."""

MAX_ID = 2**63 - 1
"""The largest id, `before` or `after` a route takes: SQLite's largest integer (one more
raised OverflowError, a 500). Larger numbers are refused with 422."""

HOOK_ROUTE = "/hooks/github"
SMALL_BODY_ROUTES = re.compile(r"/ui/login|/ui/logout|/deployments|/deployments/[^/]+/rollback")


class BodyTooLarge(Exception):
    """The request body passed its route's limit while it was being read."""


def body_limit(method: str, path: str, hook_limit: int) -> int:
    """The most body bytes `method path` may carry."""
    if method != "POST":
        return 0
    if path == HOOK_ROUTE:
        return hook_limit
    return SMALL_BODY_BYTES if SMALL_BODY_ROUTES.fullmatch(path) else 0


def too_large_message(limit: int) -> str:
    if limit == 0:
        return "this route takes no request body"
    return f"request body larger than {limit} bytes (or a bad Content-Length)"


# Over-limit bodies up to this size are read to their end (and dropped) before the 413.
DRAIN_BYTES = 4 * 1024 * 1024


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The Content-Length the request declares, when it is a plain number."""
    for name, value in headers:
        if name == b"content-length":
            digits = value.strip()
            if digits.isdigit() and len(digits) <= MAX_LENGTH_DIGITS:
                return int(digits)
    return None


async def drain(receive: Any) -> None:
    """Read the request body to its end, keeping nothing."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


async def send_too_large(send: Any, limit: int) -> None:
    """Answer 413 (JSON) and ask the server to close the connection."""
    body = orjson.dumps({"error": too_large_message(limit), "detail": too_large_message(limit)})
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *DEFAULTS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def declared_too_large(headers: list[tuple[bytes, bytes]], limit: int) -> bool:
    """The request declares more than `limit` body bytes, or a length that is not a number,
    or (for a route that takes none) any chunked body."""
    for name, value in headers:
        if name == b"content-length":
            digits = value.strip()
            if not digits.isdigit() or len(digits) > MAX_LENGTH_DIGITS or int(digits) > limit:
                return True
        elif name == b"transfer-encoding" and limit == 0:
            return True
    return False


def has_body(headers: list[tuple[bytes, bytes]]) -> bool:
    """The request announces a body (chunked, or a Content-Length above 0)."""
    return any(
        name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0")
        for name, value in headers
    )


async def refused_as_declared(scope: Any, receive: Any, send: Any, limit: int) -> bool:
    """Answer 413 (after draining a body of at most DRAIN_BYTES) when the request declares
    more than `limit` bytes; True when it did."""
    if not declared_too_large(scope["headers"], limit):
        return False
    length = declared_length(scope["headers"])
    if length is not None and length <= DRAIN_BYTES:
        await drain(receive)
    await send_too_large(send, limit)
    return True


class BodyLimit:
    """ASGI middleware: the body limit of every route (see the module docstring)."""

    def __init__(self, app: Any, hook_limit: int) -> None:
        self.app = app
        self.hook_limit = hook_limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["method"], scope["path"], self.hook_limit)
        if await refused_as_declared(scope, receive, send, limit):
            return
        size = 0
        unread = has_body(scope["headers"])

        async def counted() -> Any:
            nonlocal size, unread
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > limit:
                    raise BodyTooLarge(too_large_message(limit))
                unread = unread and message.get("more_body", False)
            return message

        async def closing(message: Any) -> None:
            if message["type"] == "http.response.start" and unread:
                # Answered before the body was read (401, 429...): close rather than drain it.
                message = {**message, "headers": [*message["headers"], (b"connection", b"close")]}
            await send(message)

        await self.app(scope, counted, closing)
