"""Headers every answer of the service carries unless its route set its own.

Answers hold deployments, logs and tokens' effects: no cache (a browser's or a proxy's) may
keep them (`Cache-Control: no-store`), and no browser may guess another type than the one
declared (`X-Content-Type-Options: nosniff`). A route that sets `Cache-Control` keeps its own.
"""

from __future__ import annotations

from typing import Any

DEFAULTS = ((b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"))


class DefaultHeaders:
    """ASGI middleware: add each of DEFAULTS the answer does not already have."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_defaults(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in DEFAULTS if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_defaults)
