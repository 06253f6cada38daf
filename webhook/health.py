"""Health checks after a deployment: poll every target until all pass N times in a row.

Targets come from the stack output `healthChecks` (list of `{url, status, timeoutSeconds}`,
read by webhook/health_checks.py).
The verdict is pure bookkeeping (`HealthTracker`); `check_health` adds the HTTP and the clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from webhook.health_checks import HealthCheck, read_health_checks


class HealthConfigError(ValueError):
    """The stack output `healthChecks` is not a list of `{url, status, timeoutSeconds}`."""


HealthTarget = HealthCheck
"""What the service probes: a `healthChecks` entry (webhook/health_checks.py)."""


@dataclass(frozen=True)
class HealthPolicy:
    """How long and how often to poll (defaults: every 2 s, 3 passes in a row, 120 s)."""

    interval_seconds: float = 2.0
    consecutive_passes: int = 3
    deadline_seconds: float = 120.0


@dataclass(frozen=True)
class ProbeResult:
    target: HealthTarget
    passed: bool
    detail: str


@dataclass
class HealthReport:
    healthy: bool
    rounds: int
    summary: str
    last_results: list[ProbeResult] = field(default_factory=list)


def parse_health_checks(raw: Any) -> list[HealthTarget]:
    """Validate the `healthChecks` stack output; raise HealthConfigError naming the fix."""
    targets, problems = read_health_checks(raw)
    if problems:
        raise HealthConfigError("; ".join(map(str, problems)))
    return targets


@dataclass
class HealthTracker:
    """Counts consecutive passes per target, up to the goal (a line never reads [10/3]);
    healthy when every target reached the goal."""

    targets: Sequence[HealthTarget]
    needed: int
    streaks: dict[int, int] = field(default_factory=dict)

    def record(self, results: Sequence[ProbeResult]) -> None:
        for index, result in enumerate(results):
            streak = min(self.streaks.get(index, 0) + 1, self.needed)
            self.streaks[index] = streak if result.passed else 0

    @property
    def healthy(self) -> bool:
        return all(self.streaks.get(i, 0) >= self.needed for i in range(len(self.targets)))


def probe(
    client: httpx.Client, target: HealthTarget, clock: Callable[[], float] = time.monotonic
) -> ProbeResult:
    """One GET of the target; passes when the status is the expected one. The whole probe
    (connect, headers and body) ends within the target's `timeout_seconds`: a server that
    accepts and never answers, or answers one byte at a time, fails it."""
    deadline = clock() + target.timeout_seconds
    try:
        with client.stream("GET", target.url, timeout=target.timeout_seconds) as response:
            for _ in response.iter_raw():
                if clock() > deadline:
                    return ProbeResult(
                        target, False, f"timed out: no full answer in {target.timeout_seconds:g}s"
                    )
    except httpx.TimeoutException:
        return ProbeResult(target, False, f"timed out: no answer in {target.timeout_seconds:g}s")
    except httpx.HTTPError as error:
        return ProbeResult(target, False, f"{type(error).__name__}: {error}")
    passed = response.status_code == target.status
    return ProbeResult(target, passed, f"HTTP {response.status_code} (want {target.status})")


def check_health(
    targets: Sequence[HealthTarget],
    policy: HealthPolicy,
    log: Callable[[str], None],
    *,
    client: httpx.Client | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
    watch: Callable[[], str | None] | None = None,
) -> HealthReport:
    """Poll all targets every `interval` until all pass `consecutive_passes` times in a row
    (healthy) or the deadline passes (unhealthy). Every probe result goes to `log`.
    `watch`, asked every round, names a failure that ends the wait at once (a container of
    the release that crashed: webhook/orchestrator/release_watch.py)."""
    if not targets:
        log("health: no healthChecks in the stack outputs; nothing to check")
        return HealthReport(True, 0, "no health checks declared")
    tracker = HealthTracker(targets, policy.consecutive_passes)
    deadline = clock() + policy.deadline_seconds
    stop = stop or threading.Event()
    owns_client = client is None
    client = client or httpx.Client(follow_redirects=False)
    rounds = 0
    results: list[ProbeResult] = []
    try:
        while True:
            rounds += 1
            results = [probe(client, target) for target in targets]
            tracker.record(results)
            for index, result in enumerate(results):
                verdict = "pass" if result.passed else "FAIL"
                log(
                    f"health: {verdict} {result.target.url} {result.detail} "
                    f"[{tracker.streaks[index]}/{policy.consecutive_passes}]"
                )
            failure = watch() if watch is not None else None
            if failure is not None:
                log(f"health: FAIL {failure}")
                summary = f"unhealthy: {failure} (after {rounds} round(s), before the deadline)"
                return HealthReport(False, rounds, summary, results)
            if tracker.healthy:
                return HealthReport(True, rounds, f"healthy after {rounds} round(s)", results)
            remaining = deadline - clock()
            if remaining <= 0:
                failing = [r.target.url for r in results if not r.passed] or [
                    t.url
                    for i, t in enumerate(targets)
                    if tracker.streaks.get(i, 0) < tracker.needed
                ]
                summary = (
                    f"unhealthy: deadline of {policy.deadline_seconds:g}s passed after "
                    f"{rounds} round(s); not passing: {', '.join(failing)}"
                )
                return HealthReport(False, rounds, summary, results)
            if stop.wait(min(policy.interval_seconds, remaining)):  # last round: deadline
                return HealthReport(False, rounds, "health checks stopped by shutdown", results)
    finally:
        if owns_client:
            client.close()
