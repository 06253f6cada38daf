"""Small timing helpers shared by the benchmarks (milliseconds, sequential calls)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(count: int, call: Callable[[], object]) -> list[float]:
    """Milliseconds per call, `count` sequential calls."""
    times = []
    for _ in range(count):
        begin = time.perf_counter()
        call()
        times.append((time.perf_counter() - begin) * 1000)
    return times


def p95(times: list[float]) -> float:
    """The 95th percentile (nearest rank) of `times`."""
    return sorted(times)[max(int(len(times) * 0.95) - 1, 0)]


def table_row(label: str, times: list[float]) -> str:
    """A Markdown row: label | count | median | p95 | max, in milliseconds."""
    return (
        f"| {label} | {len(times)} | {statistics.median(times):.3f} | {p95(times):.3f} | "
        f"{max(times):.3f} |"
    )
