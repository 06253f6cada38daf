"""Where a routed healthy deploy's slow requests fall: the deployment log's lines against
the requests slower than the baseline's p99, in 0.5 s buckets, one deploy per round.

A diagnostic next to bench/bench_cutover.py (same service, stack and load; nothing is
written to the docs). Each round: a baseline, then a deploy under load while a thread
stamps each new log line with the time it appeared. Per phase of the deploy (push to
switch, the watch window, the retire) it prints how many requests were slower than the
baseline's p99 against how many the baseline's own rate (1 %) would give.

Run: `scripts/with-toolchain.sh .venv/bin/python bench/cutover_timeline.py --rounds 3`
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.bench_cutover import EXAMPLES, RATE, WATCH, baseline, p99
from bench.loadgen import Load, Sample
from tests.support.deploy_loop import Loop, routed_loop
from tests.support.fake_github import TOKEN, FakeGitHub
from tests.support.routed_repo import RoutedRepo
from webhook.store.states import DeploymentState as S

BUCKET = 0.5  # seconds
# Log lines that mark the phases and the engine's work; the rest is Pulumi's diff output.
SHOWN = ("state:", "deploy:", "cutover:", "watch:", " ++ ", " +- ", " -- ", " + ", " - ")
SWITCH, WATCH_END = "cutover: users now reach", "watch: the release stayed healthy"


@dataclass
class LogStamps:
    """A thread that reads a deployment's log every 50 ms and stamps each new line."""

    loop: Loop
    deployment: int | None = None
    lines: list[tuple[float, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        seen = 0
        while not self.stop.wait(0.05):
            if self.deployment is None:
                continue
            found = self.loop.log(self.deployment)
            now = time.monotonic()
            self.lines += [(now, line) for line in found[seen:]]
            seen = len(found)

    def first(self, text: str, default: float) -> float:
        return next((at for at, line in self.lines if text in line), default)


def phase_counts(
    samples: list[Sample], threshold: float, edges: list[tuple[str, float, float]]
) -> list[str]:
    """Per phase (name, start, end): slow requests against the baseline's 1 %."""
    out = []
    for name, start, end in edges:
        inside = [s for s in samples if start <= s.sent < end]
        slow = sum(1 for s in inside if s.ms > threshold)
        expected = len(inside) / 100
        rate = f"{slow / expected:.1f}× the baseline's rate" if expected else "-"
        out.append(f"  {name:<18} {end - start:5.1f} s  {slow:4d} slow of {len(inside):6d}  {rate}")
    return out


def timeline(samples: list[Sample], threshold: float, t0: float, stamps: LogStamps) -> list[str]:
    """Buckets with slow requests, interleaved with the log lines of their time."""
    buckets: dict[float, list[float]] = {}
    for sample in samples:
        if sample.ms > threshold:
            start = (sample.sent - t0) // BUCKET * BUCKET
            buckets.setdefault(start, []).append(sample.ms)
    events = [(at - t0, line) for at, line in stamps.lines if any(m in line for m in SHOWN)]
    out, shown = [], 0
    for start in sorted(buckets):
        while shown < len(events) and events[shown][0] < start + BUCKET:
            out.append(f"      {events[shown][0]:7.2f} | {events[shown][1][:100]}")
            shown += 1
        slow = buckets[start]
        out.append(f"  {start:6.1f} s  {len(slow):3d} slow, max {max(slow):7.1f} ms")
    out += [f"      {at:7.2f} | {line[:100]}" for at, line in events[shown:]]
    return out


def one_round(loop: Loop, n: int, baseline_seconds: float) -> None:
    quiet = baseline(loop, baseline_seconds)
    threshold = p99(quiet)
    sha = loop.repo.healthy(f"r{n}")
    stamps = LogStamps(loop)
    reader = threading.Thread(target=stamps.run, daemon=True)
    reader.start()
    with Load(loop.repo.release_url, RATE) as load:
        time.sleep(1)
        t0 = time.monotonic()
        stamps.deployment = loop.push(sha)
        deployment = loop.wait(stamps.deployment, S.SUCCEEDED, S.ROLLED_BACK)
        time.sleep(2)
    stamps.stop.set()
    reader.join()
    end = max(s.sent for s in load.samples)
    switch, watched = stamps.first(SWITCH, end), stamps.first(WATCH_END, end)
    print(
        f"\nround {n}: {deployment.state}; baseline p99 {threshold:.1f} ms, deploy p99 "
        f"{p99(load.samples):.1f} ms ({p99(load.samples) / threshold:.2f}×)"
    )
    edges = [
        ("before the push", t0 - 1, t0),
        ("push to switch", t0, switch),
        ("watch window", switch, watched),
        ("retire and after", watched, end),
    ]
    print(*phase_counts(load.samples, threshold, edges), sep="\n")
    print(*timeline(load.samples, threshold, t0, stamps), sep="\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=float, default=20, help="seconds before each deploy")
    args = parser.parse_args()
    with (
        FakeGitHub(TOKEN) as github,
        tempfile.TemporaryDirectory() as tmp,
        routed_loop(Path(tmp), github, EXAMPLES, RoutedRepo, **WATCH) as loop,
    ):
        first = loop.wait(loop.push(loop.repo.healthy("r0")))
        assert first.state == S.SUCCEEDED, loop.log(first.id)[-20:]
        for n in range(1, args.rounds + 1):
            one_round(loop, n, args.baseline)


if __name__ == "__main__":
    main()
