"""Per-client rate limits: fixed windows in memory.

A key's window opens at its first hit and lasts the limit's period (60 s for `300/minute`);
within it the first `amount` hits are allowed and the others refused until it ends. The
same rule as the `limits` library's fixed window, kept in a dict under a lock: its
MemoryStorage started a timer thread every 10 ms to expire keys, which on the hook's hot
path cost a thread start per burst of deliveries. Expired windows are swept once a period.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from limits import RateLimitItem


class RateLimiter:
    """One limit applied per key (the client address); safe from any thread."""

    def __init__(
        self, item: RateLimitItem, namespace: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.namespace = namespace
        self._amount = item.amount
        self._period = float(item.get_expiry())
        self._clock = clock
        self._windows: dict[str, list[float]] = {}  # key -> [window end, hits]
        self._lock = threading.Lock()
        self._next_sweep = clock() + self._period

    def retry_after(self, key: str) -> int | None:
        """Count one hit for `key`; None if allowed, else seconds until it would be."""
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
                self._next_sweep = now + self._period
            window = self._windows.get(key)
            if window is None or now >= window[0]:
                window = self._windows[key] = [now + self._period, 0]
            window[1] += 1
            if window[1] <= self._amount:
                return None
            ends = window[0]
        return max(1, math.ceil(ends - now))

    def __len__(self) -> int:
        """Keys with a window (expired ones until the next sweep)."""
        return len(self._windows)
