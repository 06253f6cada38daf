"""Time doubles: an event loop of a test's own, and a sleep that records what it was asked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private event loop. Unlike asyncio.run, this leaves the main
    thread's current loop alone (other suites, e.g. Pulumi mocks, rely on it)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


class RecordingSleep:
    """Records each wait the client asks for and sleeps a short real time instead.

    The waits GitHub asks for (Retry-After, X-RateLimit-Reset) are asserted from the
    record; sleeping them in full would only make the suite slow.
    """

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(min(seconds, 0.01))
