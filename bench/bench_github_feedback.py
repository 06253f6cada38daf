"""Benchmark: GitHub feedback — collecting engine events, rendering the PR comment, and
REST round trips (with retries) against the loopback fake GitHub.

    .venv/bin/python bench/bench_github_feedback.py [--no-write]

Results go to docs/performance.md between `<!-- bench:github_feedback -->` markers.
Targets 127.0.0.1 only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import time

from bench.performance_doc import write_section
from tests.support.engine_events import CONTAINER, step
from tests.support.fake_github import FakeGitHub
from webhook.feedback.comment import render_preview_comment
from webhook.feedback.github_api import GitHubClient
from webhook.feedback.preview import OPERATIONS, PreviewReport
from webhook.feedback.preview_events import PreviewCollector
from webhook.retry_policy import RetryPolicy

TOKEN = "bench-token"
REPO = "octo-org/shop"


def events(count: int):
    ops = ("create", "update", "replace", "delete")
    return [
        step(n, ops[n % 4], CONTAINER, f"svc-{n}", detailed={"image": "update", "envs[0]": "add"})
        for n in range(count)
    ]


def bench_collect(count: int) -> tuple[float, PreviewCollector]:
    batch = events(count)
    collector = PreviewCollector()
    started = time.perf_counter()
    for event in batch:
        collector(event)
    return count / (time.perf_counter() - started), collector


def bench_render(collector: PreviewCollector) -> tuple[float, int, bool]:
    report = PreviewReport("prod", REPO, 42, "9" * 40, changes=collector.changes)
    started = time.perf_counter()
    body = render_preview_comment(report)
    elapsed = time.perf_counter() - started
    return elapsed * 1000, len(body), "Output truncated" in body


def bench_round_trips(calls: int, fail_every: int) -> tuple[float, float, int]:
    waits: list[float] = []
    with FakeGitHub(TOKEN) as fake:
        client = GitHubClient(
            TOKEN, base_url=fake.url, policy=RetryPolicy(backoff_first=0.0), sleep=waits.append
        )
        timings = []
        for n in range(calls):
            if fail_every and n % fail_every == 0:
                fake.fail_next(1, "502")
            started = time.perf_counter()
            client.create_commit_status(REPO, "a" * 40, state="success", context="bench")
            timings.append((time.perf_counter() - started) * 1000)
        client.close()
        requests = len(fake.calls())
    return statistics.median(timings), max(timings), requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    logging.getLogger("webhook.feedback").setLevel(logging.ERROR)  # the retries are expected
    rows = [
        "| resources | events/s collected | render ms | comment chars | truncated |",
        "|---:|---:|---:|---:|---|",
    ]
    for count in (100, 2_000, 20_000):
        rate, collector = bench_collect(count)
        ms, length, truncated = bench_render(collector)
        rows.append(f"| {count:,} | {rate:,.0f} | {ms:.1f} | {length:,} | {truncated} |")
    trips = [
        "| calls | 502 injected | median ms | max ms | HTTP requests |",
        "|---:|---|---:|---:|---:|",
    ]
    for fail_every in (0, 10):
        median, worst, requests = bench_round_trips(300, fail_every)
        label = f"every {fail_every}th call" if fail_every else "none"
        trips.append(f"| 300 | {label} | {median:.2f} | {worst:.2f} | {requests} |")
    text = "\n".join(
        [
            "## GitHub feedback",
            "",
            f"`bench/bench_github_feedback.py` on {platform.python_implementation()} "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}. Update operations "
            f"cycle through {', '.join(OPERATIONS)}; each resource changes two properties.",
            "",
            *rows,
            "",
            "REST round trips to the loopback fake GitHub (sequential, one client; a retried "
            "502 costs one extra request, backoff set to 0 here):",
            "",
            *trips,
        ]
    )
    print(text)
    if not args.no_write:
        write_section("github_feedback", text)


if __name__ == "__main__":
    main()
