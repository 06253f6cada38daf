"""A deployment's log as Server-Sent Events: lines as they are written, state changes, and
`end` once nothing more will come.

Each stream polls the store (an indexed read) a few times a second and lasts at most
STREAM_SECONDS; the browser's EventSource then reconnects with Last-Event-ID and goes on
where it stopped, so a stream never holds the service's shutdown for long. At most
`LiveStreams.limit` streams run at once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool

from webhook.http.ui.views import is_settled
from webhook.store import Store

POLL_SECONDS = 0.25
STREAM_SECONDS = 30.0
KEEPALIVE_SECONDS = 15.0
BATCH = 500


def sse(event: str, data: object, event_id: int | None = None) -> str:
    """One Server-Sent Event."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data)}\n\n"


@dataclass
class LiveStreams:
    """Counts the open streams of one app."""

    limit: int = 64
    open: int = 0

    def try_open(self) -> bool:
        if self.open >= self.limit:
            return False
        self.open += 1
        return True

    def close(self) -> None:
        self.open -= 1


async def follow(
    store: Store,
    deployment_id: int,
    after: int,
    disconnected: Callable[[], Awaitable[bool]],
    streams: LiveStreams,
    *,
    stream_seconds: float = STREAM_SECONDS,
) -> AsyncIterator[str]:
    """Events of deployment `deployment_id` from log line `after` on (call after `try_open`)."""
    try:
        yield "retry: 2000\n\n"
        state = None
        began = quiet_since = time.monotonic()
        while True:
            deployment = await run_in_threadpool(store.get_deployment, deployment_id)
            lines = await run_in_threadpool(store.read_log, deployment_id, after, BATCH)
            for line in lines:
                yield sse("line", {"seq": line.seq, "at": line.at, "line": line.line}, line.seq)
                after = line.seq
            if deployment.state != state:
                state = deployment.state
                yield sse("state", {"state": str(state), "at": deployment.updated_at})
            if lines:
                quiet_since = time.monotonic()
                if len(lines) == BATCH:
                    continue
            elif is_settled(deployment, datetime.now(UTC)):
                yield sse("end", {"state": str(state)})
                return
            now = time.monotonic()
            if now - began > stream_seconds or await disconnected():
                return
            if now - quiet_since > KEEPALIVE_SECONDS:
                quiet_since = now
                yield ": keep-alive\n\n"
            await asyncio.sleep(POLL_SECONDS)
    finally:
        streams.close()
