"""Benchmark drift checks: what one check costs, and what checks do to a routed service.

The real service deploys the routed demo stack (stacks/demo/routed.yml, as in
bench/bench_cutover.py) with its checks parked (an interval no run reaches); the benchmark
then starts checks on the stack's worker itself (the same thread, nice and idle CPU group
as the service's own checks; docs/drift.md), one at a time. A check takes one of two paths
(webhook/orchestrator/drift_snapshot.py), measured apart:

- engine snapshot: the engine shows what the last in-sync full refresh left; a few Engine
  API reads in the service, no Pulumi (most checks: every check but one per
  SLIPWAY_DRIFT_FULL_REFRESH_SECONDS, on an untouched stack);
- full refresh: `pulumi refresh --preview-only` in the stack child (the benchmark drops the
  snapshot first, as a deployment or a changed engine does).

- cost: single checks of each path with no load: wall time and CPU seconds (full refresh:
  its processes, the benchmark's children from getrusage; engine snapshot: the service
  process's own CPU time, the check runs in it);
- latency: 200 requests/s (bench/loadgen, open loop) to web's static `/release.txt` through
  the proxy, in windows of equal length with no check (baseline) and windows with checks
  of one path, each check window between two baselines. Two kinds of check window:
  one check per window (a check every `--window` seconds, many times the service's
  cadence: the target, at most 1.2x the baseline's p99, docs/drift.md) and checks back to
  back (the stress case), where the p99 of only the requests scheduled while a check ran
  is also shown.

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

from bench.bench_cutover import EXAMPLES, RATE, baseline, listed, p99
from bench.loadgen import Load, Sample
from bench.performance_doc import write_section
from tests.support.deploy_loop import Loop, routed_loop
from tests.support.fake_github import TOKEN, FakeGitHub
from tests.support.routed_repo import RoutedRepo
from webhook.orchestrator.drift_snapshot import VIA_REFRESH, VIA_SNAPSHOT
from webhook.orchestrator.worker import StackWorker
from webhook.store.drift import DriftCheck, DriftRecords, DriftResult

ONE_CHECK_AT = 5.0  # seconds into a one-check window: the check starts under steady load
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
    deadline = time.monotonic() + CHECK_LIMIT
    asked = 0.0
    while time.monotonic() < deadline:
        newest = records.recent(loop.repo.stack, limit=1)
        if newest and newest[0].id > after and newest[0].result != DriftResult.RUNNING:
            return newest[0]
        if not (newest and newest[0].id > after) and time.monotonic() - asked > 2.0:
            # due now: the worker runs it when it wakes (asked again while none started:
            # the worker sets its next check just after finishing the previous one)
            worker.next_check = 0.0
            worker.wake.set()
            asked = time.monotonic()
        time.sleep(0.05)
    raise RuntimeError(f"no drift check finished within {CHECK_LIMIT:.0f} s")


def seconds(check: DriftCheck) -> float:
    assert check.finished_at is not None
    started = datetime.fromisoformat(check.started_at)
    return (datetime.fromisoformat(check.finished_at) - started).total_seconds()


def children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def full_refresh(loop: Loop, worker: StackWorker) -> None:
    """Make the next check a full refresh: drop the stack's snapshot (as a deployment does)."""
    assert worker.drift is not None
    worker.drift.snapshots.pop(loop.repo.stack, None)


def run_path(loop: Loop, worker: StackWorker, path: str) -> DriftCheck:
    """One check by `path` (VIA_REFRESH or VIA_SNAPSHOT); an untouched stack is in sync."""
    if path == VIA_REFRESH:
        full_refresh(loop, worker)
    check = run_check(loop, worker)
    if check.result != DriftResult.IN_SYNC or check.via != path:
        raise RuntimeError(
            f"an untouched stack must be in sync via {path}: {check.result} via {check.via!r} "
            f"{check.error}"
        )
    return check


def costed_check(loop: Loop, worker: StackWorker, path: str) -> tuple[float, float]:
    """One check by `path` with nothing else running: (wall seconds, CPU seconds)."""
    cpu, own = children_cpu(), time.process_time()
    check = run_path(loop, worker, path)
    used = children_cpu() - cpu if path == VIA_REFRESH else time.process_time() - own
    return seconds(check), used


Span = tuple[float, float]  # a check's start and end, time.monotonic() seconds


def span(check: DriftCheck) -> Span:
    """When `check` ran, on the load generator's clock (its records hold UTC times)."""
    assert check.finished_at is not None
    offset = time.time() - time.monotonic()

    def mono(at: str) -> float:
        return datetime.fromisoformat(at).timestamp() - offset

    return mono(check.started_at), mono(check.finished_at)


def during(samples: list[Sample], spans: list[Span]) -> list[Sample]:
    """The requests scheduled while one of the checks ran."""
    return [s for s in samples if any(start <= s.sent <= end for start, end in spans)]


def checks_under_load(
    loop: Loop, worker: StackWorker, window: float, path: str, back_to_back: bool
) -> tuple[list[Sample], list[Span]]:
    """Load for `window` seconds with checks by `path`, back to back or one started
    `ONE_CHECK_AT` seconds in: (samples, when each check ran)."""
    spans: list[Span] = []
    with Load(loop.repo.release_url, RATE) as load:
        begin = time.monotonic()
        end = begin + window
        if not back_to_back:
            time.sleep(ONE_CHECK_AT)
            spans.append(span(run_path(loop, worker, path)))
        while back_to_back and time.monotonic() < end:
            spans.append(span(run_path(loop, worker, path)))
        time.sleep(max(0.0, end - time.monotonic()))
    return load.samples, spans


def bracketed(windows: list[tuple[str, list[Sample]]], kind: str) -> list[float]:
    """Each `kind` window's p99 over the p99 of the baselines just before and after it."""
    return [
        p99(samples) / p99(windows[i - 1][1] + windows[i + 1][1])
        for i, (each, samples) in enumerate(windows)
        if each == kind
    ]


def window_kind(path: str, back_to_back: bool) -> str:
    return f"{path}, {'back to back' if back_to_back else 'one check'}"


def latency_rows(
    label: str,
    path: str,
    windows: list[tuple[str, list[Sample]]],
    spans: dict[str, list[list[Span]]],
    pooled_base: list[Sample],
    broken: bool,
) -> list[str]:
    """The p99 rows of one path: one check per window (the target), then back to back."""
    rows = []
    for back_to_back in (False, True):
        kind = window_kind(path, back_to_back)
        ours = [w for each, w in windows if each == kind]
        pooled = [s for w in ours for s in w]
        ratio = p99(pooled) / p99(pooled_base)
        failed = sum(1 for s in pooled if s.status != 200)
        checks = listed([len(ran) for ran in spans[kind]], "{:d}")
        each = f"({listed(bracketed(windows, kind), '{:.2f}')})"
        if back_to_back:
            hit = [s for w, ran in zip(ours, spans[kind], strict=True) for s in during(w, ran)]
            rows += [
                f"| {label}, back to back ({len(ours)} windows; checks per window {checks}): "
                f"p99 ms of the window | {p99(pooled):.1f}, {ratio:.2f}× baseline {each} |",
                f"| {label}, back to back: p99 ms *during* checks ({len(hit)} requests) | "
                f"{p99(hit):.1f}, {p99(hit) / p99(pooled_base):.2f}× baseline |",
            ]
        else:
            said = verdict(ratio) if not broken else "not measured (the baseline failed)"
            rows.append(
                f"| {label}, one check per window ({len(ours)} windows): p99 ms | "
                f"{p99(pooled):.1f}, **{ratio:.2f}× baseline** {each}; target ≤ {TARGET}×: "
                f"{said} |"
            )
        rows.append(f"| {label}, {kind.split(', ')[1]}: failed requests | {failed} |")
    return rows


def verdict(ratio: float) -> str:
    return "met" if ratio <= TARGET else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--checks", type=int, default=3, help="single checks per path, for the cost"
    )
    parser.add_argument("--rounds", type=int, default=3, help="windows with checks, per path")
    parser.add_argument("--window", type=float, default=40.0, help="seconds per window")
    parser.add_argument(
        "--no-idle",
        action="store_true",
        help="checks at nice 10 only, not in the idle CPU group (SLIPWAY_DEPLOY_CPU_IDLE="
        "false): for a machine whose other work leaves the idle group no CPU at all",
    )
    args = parser.parse_args()
    settings = {"drift_interval_seconds": PARKED, "deploy_cpu_idle": not args.no_idle}
    paths = (VIA_SNAPSHOT, VIA_REFRESH)
    windows: list[tuple[str, list[Sample]]] = []
    spans: dict[str, list[list[Span]]] = {}
    with (
        FakeGitHub(TOKEN) as github,
        tempfile.TemporaryDirectory() as tmp,
        routed_loop(Path(tmp), github, EXAMPLES, RoutedRepo, **settings) as loop,
    ):
        first = loop.wait(loop.push(loop.repo.healthy("r0")))
        assert first.state == "succeeded", loop.log(first.id)[-20:]
        worker = worker_of(loop)
        costs = {path: [costed_check(loop, worker, path) for _ in range(args.checks)]
                 for path in (VIA_REFRESH, VIA_SNAPSHOT)}  # fmt: skip
        for _ in range(args.rounds):
            for back_to_back in (False, True):
                for path in paths:
                    kind = window_kind(path, back_to_back)
                    windows.append(("baseline", baseline(loop, args.window)))
                    if path == VIA_SNAPSHOT:
                        run_path(loop, worker, VIA_REFRESH)  # the snapshot its checks use
                    samples, ran = checks_under_load(loop, worker, args.window, path, back_to_back)
                    windows.append((kind, samples))
                    spans.setdefault(kind, []).append(ran)
        windows.append(("baseline", baseline(loop, args.window)))
    base = [w for kind, w in windows if kind == "baseline"]
    pooled_base = [s for w in base for s in w]
    failed_base = sum(1 for s in pooled_base if s.status != 200)
    broken = failed_base > len(pooled_base) * BROKEN_BASELINE
    rows = []
    for path, label in ((VIA_SNAPSHOT, "engine snapshot"), (VIA_REFRESH, "full refresh")):
        walls = [c[0] for c in costs[path]]
        cpus = [c[1] for c in costs[path]]
        rows += [
            f"| {label}: one check, wall time (s; {len(walls)} checks, no load) | "
            f"{min(walls):.3f} to {max(walls):.3f} ({listed(walls, '{:.3f}')}) |",
            f"| {label}: one check, CPU seconds ({CPU_OF[path]}) | "
            f"{min(cpus):.3f} to {max(cpus):.3f} ({listed(cpus, '{:.3f}')}) |",
            *latency_rows(label, path, windows, spans, pooled_base, broken),
        ]
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    text = "\n".join(
        [
            "## Drift checks: cost and latency (`bench/bench_drift.py`)",
            "",
            f"`bench/bench_drift.py` on {platform.python_implementation()} "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} "
            f"cores, load average at the end {load} (a shared machine): the real service, CLI, "
            "docker provider and engine, the routed demo stack (db, web behind the proxy, "
            "worker). A check is either the engine pre-check (`engine snapshot`: the engine "
            "shows what the last in-sync full refresh left, read through the Engine API in "
            "the service, no Pulumi) or a full refresh (`pulumi refresh --preview-only` in the "
            "stack child), on the stack's worker at SLIPWAY_DEPLOY_NICE=10, "
            + (
                "NOT in the idle CPU group (--no-idle: the machine's other work left it no CPU)."
                if args.no_idle
                else "in the idle CPU group (SLIPWAY_DEPLOY_CPU_IDLE), as the service runs it."
            ),
            "",
            "| measure | value |",
            "|---|---:|",
            f"| p99 ms, baseline: no check ({len(base)} windows of {args.window:g} s) | "
            f"{p99(pooled_base):.1f} ({listed([p99(b) for b in base], '{:.1f}')}) |",
            *rows,
            f"| failed requests: baseline | {failed_base} |",
            "",
            f"{RATE} requests/s, open loop (bench/loadgen: Go, nice -10, on 127.0.0.1), p99 "
            "from each request's scheduled time. Every check window lies between two "
            "baselines of the same length. One check per window (started "
            f"{ONE_CHECK_AT:g} s in) is a check every {args.window:g} s: "
            f"{900 / args.window:.0f}× the service's default cadence (each stack once per "
            "SLIPWAY_DRIFT_INTERVAL_SECONDS, 900 s; on an untouched stack only one check per "
            "SLIPWAY_DRIFT_FULL_REFRESH_SECONDS, 3600 s, is a full refresh; any change the "
            "engine shows, and every deployment, makes the next one a full refresh: "
            "docs/drift.md); its row holds the target. Checks back to back is the stress "
            "case; its *during* p99 counts only the requests scheduled while a check ran, "
            "which any work at the service's priority on these 2 cores slows (even the "
            "check's two durable records: docs/notes/2026-12-07-drift-check-latency.md).",
        ]
    )
    print(text)
    if not args.no_write:
        write_section("drift", text)


CPU_OF = {
    VIA_REFRESH: "user + system of its processes: stack child, Pulumi CLI, provider, git",
    VIA_SNAPSHOT: "the service process's, which runs it; the engine's answers not counted",
}


if __name__ == "__main__":
    main()
