"""Run feedback calls on one background thread, in order, off the deployment's path.

A rate limit can make a GitHub call wait a minute; the deployment worker must not. One
worker keeps the calls in the order they were submitted (statuses arrive in order).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)


class FeedbackDispatcher:
    """`submit` returns at once; `drain` waits until everything submitted has run."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="github-feedback")

    def submit(self, call: Callable[..., Any], *args: Any) -> None:
        try:
            self._executor.submit(call, *args)
        except RuntimeError:  # shut down: the service is stopping
            name = getattr(call, "__name__", call)
            log.warning("GitHub feedback dropped after shutdown: %s", name)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait for the calls submitted so far; False if `timeout` ran out first."""
        try:
            marker = self._executor.submit(lambda: None)
        except RuntimeError:
            return True
        try:
            marker.result(timeout=timeout)
        except TimeoutError:
            return False
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Give the pending calls `timeout` seconds, then drop the rest (logged)."""
        if not self.drain(timeout):
            log.warning("GitHub feedback: calls still pending after %.0f s are dropped", timeout)
        self._executor.shutdown(wait=False, cancel_futures=True)
