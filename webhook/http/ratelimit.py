"""Per-client rate limits (fixed windows in memory, from the `limits` library)."""

from __future__ import annotations

import math
import time

from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter


class RateLimiter:
    """One limit applied per key (the client address)."""

    def __init__(self, item: RateLimitItem, namespace: str) -> None:
        self._item = item
        self._namespace = namespace
        self._limiter = FixedWindowRateLimiter(MemoryStorage())

    def retry_after(self, key: str) -> int | None:
        """Count one hit for `key`; None if allowed, else seconds until it would be."""
        if self._limiter.hit(self._item, self._namespace, key):
            return None
        reset_at = self._limiter.get_window_stats(self._item, self._namespace, key).reset_time
        return max(1, math.ceil(reset_at - time.time()))
