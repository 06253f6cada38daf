"""Benchmark drift checks: what one check costs, and what checks do to a routed service.

The real service deploys the routed demo stack (stacks/demo/routed.yml, as in
bench/bench_cutover.py) with its checks parked (an interval no run reaches); the benchmark
then starts checks on the stack's worker itself (the same thread, nice and idle CPU group
as the service's own checks; docs/drift.md), one at a time:

- cost: single checks with no load: wall time (the check's record, start to finish) and
  CPU seconds of its processes (the stack child, Pulumi CLI, docker provider, git: the
  benchmark's children, from getrusage);
- latency: 200 requests/s (bench/loadgen, open loop) to web's static `/release.txt` through
  the proxy, in windows with no check (baseline) and windows with checks back to back,
  alternating, one more baseline than check windows; p99 of each check window over the two
  baselines around it (target: at most 1.2x, docs/drift.md).

Run: `scripts/with-toolchain.sh .venv/bin/python bench/bench_drift.py` (--no-write prints
only). Results go to docs/performance.md between `<!-- bench:drift -->` markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bench.bench_cutover import EXAMPLES, RATE, baseline, bracketed_ratios, listed, p99
from bench.loadgen import Load, Sample
from bench.performance_doc import write_section
from tests.support.deploy_loop import Loop, routed_loop
from tests.support.fake_github import TOKEN, FakeGitHub
from tests.support.routed_repo import RoutedRepo
from webhook.orchestrator.worker import StackWorker
from webhook.store.drift import DriftCheck, DriftRecords, DriftResult

PARKED = 10.0**9  # seconds: the service's own checks never come; the benchmark starts them
CHECK_LIMIT = 600.0  # seconds: a bound for one check, never reached by a working service
TARGET = 1.2  # p99 during checks over the baseline's
BROKEN_BASELINE = 0.01  # a baseline failing more requests than this says nothing


def worker_of(loop: Loop) -> StackWorker:
    """The stack's worker thread (made by the first deployment)."""
    return loop.service.orchestrator._worker(loop.repo.stack)


def run_check(loop: Loop, worker: StackWorker) -> DriftCheck:
    """Start one check on the worker now; the finished check (one ended at its start by
    the benchmark's own wake-up, `cancelled`, is started again)."""
    for _ in range(5):
        check = start_check(loop, worker)
        if check.result != DriftResult.CANCELLED:
            return check
    raise RuntimeError(f"five checks in a row were cancelled: {check.error}")


def start_check(loop: Loop, worker: StackWorker) -> DriftCheck:
    records = DriftRecords(loop.service.store)
    before = records.recent(loop.repo.stack, limit=1)
    after = before[0].id if before else 0
    worker.next_check = 0.0  # due now: the worker runs it when it wakes
    worker.wake.set()
    deadline = time.monotonic() + CHECK_LIMIT
    while time.monotonic() < deadline:
        newest = records.recent(loop.repo.stack, limit=1)
        if newest and newest[0].id > after and newest[0].result != DriftResult.RUNNING:
            return newest[0]
        time.sleep(0.05)
    raise RuntimeError(f"no drift check finished within {CHECK_LIMIT:.0f} s")


def seconds(check: DriftCheck) -> float:
    assert check.finished_at is not None
    started = datetime.fromisoformat(check.started_at)
    return (datetime.fromisoformat(check.finished_at) - started).total_seconds()


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def costed_check(loop: Loop, worker: StackWorker) -> tuple[float, float]:
    """One check with nothing else running: (wall seconds, CPU seconds)."""
    cpu = children_cpu()
    check = run_check(loop, worker)
    used = children_cpu() - cpu
    if check.result != DriftResult.IN_SYNC:
        raise RuntimeError(f"an untouched stack must be in sync: {check.result} {check.error}")
    return seconds(check), used


def checks_under_load(loop: Loop, worker: StackWorker, window: float) -> tuple[list[Sample], int]:
    """Load for `window` seconds with checks back to back: (samples, checks run)."""
    count = 0
    with Load(loop.repo.release_url, RATE) as load:
        end = time.monotonic() + window
        while time.monotonic() < end:
            run_check(loop, worker)
            count += 1
    return load.samples, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--checks", type=int, default=3, help="single checks for the cost")
    parser.add_argument("--rounds", type=int, default=3, help="windows with checks")
    parser.add_argument("--window", type=float, default=40.0, help="seconds per window")
    parser.add_argument(
        "--no-idle",
        action="store_true",
        help="checks at nice 10 only, not in the idle CPU group (SLIPWAY_DEPLOY_CPU_IDLE="
        "false): for a machine whose other work leaves the idle group no CPU at all",
    )
    args = parser.parse_args()
    settings = {"drift_interval_seconds": PARKED, "deploy_cpu_idle": not args.no_idle}
    with (
        FakeGitHub(TOKEN) as github,
        tempfile.TemporaryDirectory() as tmp,
        routed_loop(Path(tmp), github, EXAMPLES, RoutedRepo, **settings) as loop,
    ):
        first = loop.wait(loop.push(loop.repo.healthy("r0")))
        assert first.state == "succeeded", loop.log(first.id)[-20:]
        worker = worker_of(loop)
        costs = [costed_check(loop, worker) for _ in range(args.checks)]
        baselines: list[list[Sample]] = []
        rounds: list[list[Sample]] = []
        counts: list[int] = []
        for _ in range(args.rounds):
            baselines.append(baseline(loop, args.window))
            samples, count = checks_under_load(loop, worker, args.window)
            rounds.append(samples)
            counts.append(count)
        baselines.append(baseline(loop, args.window))
    walls, cpus = [c[0] for c in costs], [c[1] for c in costs]
    pooled_base = [s for b in baselines for s in b]
    pooled = [s for r in rounds for s in r]
    ratios = bracketed_ratios(rounds, baselines)
    ratio = p99(pooled) / p99(pooled_base)
    failed = sum(1 for s in pooled if s.status != 200)
    failed_base = sum(1 for s in pooled_base if s.status != 200)
    verdict = "met" if ratio <= TARGET else "MISSED"
    if failed_base > len(pooled_base) * BROKEN_BASELINE:
        verdict = (
            f"not measured: the baseline itself failed {failed_base} of {len(pooled_base)} "
            "requests (the machine cannot serve the load; run again on a quiet one)"
        )
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    text = "\n".join(
        [
            "## Drift checks: cost and latency (`bench/bench_drift.py`)",
            "",
            f"`bench/bench_drift.py` on {platform.python_implementation()} "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} "
            f"cores, load average at the end {load} (a shared machine): the real service, CLI, "
            "docker provider and engine, the routed demo stack (db, web behind the proxy, "
            "worker). A check is `pulumi refresh --preview-only` in the stack child, on the "
            "stack's worker at SLIPWAY_DEPLOY_NICE=10, "
            + (
                "NOT in the idle CPU group (--no-idle: the machine's other work left it no CPU)."
                if args.no_idle
                else "in the idle CPU group (SLIPWAY_DEPLOY_CPU_IDLE), as the service runs it."
            ),
            "",
            "| measure | value |",
            "|---|---:|",
            f"| one check, wall time (s; {len(walls)} checks, no load) | "
            f"{min(walls):.1f} to {max(walls):.1f} ({listed(walls, '{:.1f}')}) |",
            f"| one check, CPU seconds of its processes (user + system) | "
            f"{min(cpus):.1f} to {max(cpus):.1f} ({listed(cpus, '{:.1f}')}) |",
            f"| p99 ms, baseline: no check ({len(baselines)} windows of {args.window:g} s) | "
            f"{p99(pooled_base):.1f} ({listed([p99(b) for b in baselines], '{:.1f}')}) |",
            f"| p99 ms, checks back to back ({len(rounds)} windows; checks per window "
            f"{listed(counts, '{:d}')}) | "
            f"{p99(pooled):.1f} ({listed([p99(r) for r in rounds], '{:.1f}')}) |",
            f"| p99 during checks × baseline (each window over the baselines around it) | "
            f"{ratio:.2f}× ({listed(ratios, '{:.2f}')}); target ≤ {TARGET}×: {verdict} |",
            f"| failed requests: during checks / baseline | {failed} / {failed_base} |",
            "",
            f"{RATE} requests/s, open loop (bench/loadgen: Go, nice -10, on 127.0.0.1), p99 "
            "from each request's scheduled time. Checks back to back is the worst case: the "
            "service checks each stack once per SLIPWAY_DRIFT_INTERVAL_SECONDS (default 900 s).",
        ]
    )
    print(text)
    if not args.no_write:
        write_section("drift", text)


if __name__ == "__main__":
    main()
