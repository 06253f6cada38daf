"""Benchmark the deploy client and the workflow renderer.

- render_workflow: time to render (and validate) the deploy workflow;
- the client's API calls against the real webhook service (uvicorn on 127.0.0.1, SQLite,
  a queue that finishes at once): POST /deployments and GET /deployments/{id};
- the cost of retries: the same POST through a loopback server that answers 503 a set
  number of times first (backoff 0 here, so only the extra round trips count);
- a whole `deploy --wait` (POST, polls, log) to a final state.

Run: `.venv/bin/python bench/bench_client.py` (add --no-write to leave the doc alone).
Results go to docs/performance.md between `<!-- bench:client -->` markers. 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import platform
import tempfile
import time
from pathlib import Path

from bench.performance_doc import write_section
from bench.timing import table_row, timed
from components.github.workflow import WorkflowSpec, render_workflow
from deploy_client.__main__ import main as client_main
from deploy_client.api import DeployApi
from deploy_client.waiting import WaitPolicy
from tests.support.fake_deploy_api import FakeService, start
from tests.support.scripted_service import GOOD_SHA, TOKEN, real_service
from webhook.retry_policy import RetryPolicy

NO_BACKOFF = RetryPolicy(attempts=6, backoff_first=0.0, backoff_max=0.0, retry_after_max=0.0)


def bench_render(count: int) -> list[float]:
    return timed(count, lambda: render_workflow(WorkflowSpec(branch="main")))


def bench_api(count: int) -> tuple[list[float], list[float], list[float]]:
    unlimited = {"api_rate_limit": "1000000/minute"}
    with tempfile.TemporaryDirectory() as state, real_service(Path(state), **unlimited) as service:
        with DeployApi(service.url, TOKEN, policy=NO_BACKOFF, report=lambda _l: None) as api:
            created: list[int] = []
            posts = timed(count, lambda: created.append(api.create_deployment(GOOD_SHA).id))
            gets = timed(count, lambda: api.get_deployment(created[-1]))
        env = {"SLIPWAY_URL": service.url, "SLIPWAY_TOKEN": TOKEN}
        wait = WaitPolicy(timeout=30, poll_interval=0.01)
        with contextlib.redirect_stdout(io.StringIO()):
            waits = timed(
                max(count // 10, 5),
                lambda: client_main(
                    ["deploy", "--sha", GOOD_SHA, "--wait"], environ=env, wait_policy=wait
                ),
            )
    return posts, gets, waits


def bench_retries(count: int, failures: int) -> list[float]:
    fake = FakeService(token=TOKEN)
    server = start(fake)
    try:
        with DeployApi(fake.url, TOKEN, policy=NO_BACKOFF, report=lambda _l: None) as api:

            def one() -> None:
                fake.fail("POST /deployments", *[(503, {})] * failures)
                api.create_deployment(GOOD_SHA)

            return timed(count, one)
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    header = ["| what | calls | median ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|"]
    rows = [table_row("render_workflow (validate + render)", bench_render(args.count * 10))]
    posts, gets, waits = bench_api(args.count)
    rows += [
        table_row("POST /deployments (real service, loopback)", posts),
        table_row("GET /deployments/{id} (real service, loopback)", gets),
        table_row("`deploy --wait` to succeeded (POST, polls, log)", waits),
    ]
    for failures in (0, 2, 5):
        label = f"POST through {failures} × 503 first (fake server, no backoff)"
        rows.append(table_row(label, bench_retries(args.count // 3, failures)))
    text = "\n".join(
        [
            "## Deploy client and workflow renderer",
            "",
            f"`bench/bench_client.py` on {platform.python_implementation()} "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}; sequential calls, one "
            "client. In real use, the backoff (1 s doubling, jittered, up to 30 s) or the "
            "service's Retry-After dominates a retried call; here it is set to 0 so that "
            "the table shows the client's own overhead per extra attempt. `deploy --wait` "
            "includes the scripted queue's state changes, each a durable SQLite commit "
            "(fsync) in the service, and a 10 ms poll interval.",
            "",
            *header,
            *rows,
        ]
    )
    print(text)
    if not args.no_write:
        write_section("client", text)


if __name__ == "__main__":
    main()
