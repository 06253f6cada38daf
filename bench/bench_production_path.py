"""Benchmark: signed push deliveries through Caddy (HTTPS) to the containerized service,
against the same service run directly as a process on loopback (plain HTTP).

The containerized side is `make control-up`'s trial (docs/install.md, "Try it on one
machine"): Caddy with its own CA in front of the service container built from the
repository's Dockerfile. This bench re-applies it with a hook rate limit that lets one
client send thousands of deliveries. The direct side is `python -m webhook serve` with the
same secret, branch and repository. Every request is a distinct signed push to `main` (the
service refuses a body it has seen before as a replay, so wrk cycles through pre-signed
bodies that differ in one field: bench/signed_load.py) with its own X-GitHub-Delivery;
each 202 is a deployment record committed to SQLite before the answer, and the bench
counts them afterwards. Both sides then try to deploy the push's commit, which the
repository does not have: each burst ends in one quick failed deployment, the same work on
both sides.

    make control-up     # once
    scripts/with-toolchain.sh .venv/bin/python bench/bench_production_path.py [--no-write]

Needs `wrk` (Debian: apt-get install wrk). Results go to docs/performance.md between
`<!-- bench:production_path -->` markers. Targets 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.performance_doc import write_section
from bench.signed_load import Result, signed_run, to_result, wait_until_up
from tests.support.ports import free_port

REPO = Path(__file__).resolve().parent.parent
TRIAL = Path(os.environ.get("SLIPWAY_CACHE_DIR", Path.home() / ".cache/slipway")) / "control-trial"
RATE_LIMIT = "100000000/minute"
CONNECTIONS = 16
COUNT_SQL = "SELECT count(*) FROM deliveries WHERE id LIKE ? AND status = 'processed'"


def apply_trial() -> None:
    """`make control-up` with a rate limit one client cannot reach (replaces the service)."""
    env = {**os.environ, "SLIPWAY_TRIAL_HOOK_RATE_LIMIT": RATE_LIMIT}
    command = ["bash", "scripts/with-toolchain.sh", "bash", "scripts/control.sh", "up"]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"control.sh up failed:\n{done.stderr[-3000:]}")


def recorded_in_container(run_id: str) -> int:
    script = (
        "import sqlite3,sys; c=sqlite3.connect('/var/lib/slipway/slipway.db');"
        f"print(c.execute({COUNT_SQL!r}, (sys.argv[1] + '-%',)).fetchone()[0])"
    )
    out = subprocess.run(
        ["docker", "exec", "slipway-webhook", "python", "-c", script, run_id],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return int(out.stdout)


def recorded_in_process(database: Path, run_id: str) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute(COUNT_SQL, (f"{run_id}-%",)).fetchone()[0]


def start_direct(workdir: Path, port: int, secret: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SLIPWAY_WEBHOOK_SECRET": secret,
        "SLIPWAY_BRANCH": "main",
        "SLIPWAY_REPO_URL": "git://127.0.0.1:9418/app.git",
        "SLIPWAY_STACK": "bench-direct",
        "SLIPWAY_STATE_DIR": str(workdir / "state"),
        "SLIPWAY_HOOK_RATE_LIMIT": RATE_LIMIT,
        "SLIPWAY_PORT": str(port),
        "PYTHONPATH": str(REPO),
    }
    log = (workdir / "direct.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "webhook", "serve"], env=env, stdout=log, stderr=log, cwd=workdir
    )


def one_run(name: str, url: str, seconds: int, work: Path, secret: str) -> Result:
    run_id = f"{name}-{time.time_ns()}"
    stats = signed_run(url, work, secret, "main", CONNECTIONS, seconds, run_id, 202)
    result = to_result(name, CONNECTIONS, stats)
    time.sleep(1)  # requests in flight when wrk stopped
    if name == "container":
        result.recorded = recorded_in_container(run_id)
    else:
        result.recorded = recorded_in_process(work / "state" / "slipway.db", run_id)
    print(
        f"  {name:9} {result.rps:7.0f}/s  p50 {result.p50_ms:6.2f} ms  p99 "
        f"{result.p99_ms:7.2f} ms  errors {result.errors}  recorded {result.recorded}"
    )
    return result


def median(results: list[Result]) -> Result:
    return sorted(results, key=lambda r: r.rps)[len(results) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if not (TRIAL / "webhook-secret").is_file():
        sys.exit("no trial: run `make control-up` first (docs/install.md, Try it on one machine)")
    apply_trial()
    secret = (TRIAL / "webhook-secret").read_text().strip()
    load_before = os.getloadavg()[0]
    runs: dict[str, list[Result]] = {"container": [], "direct": []}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        port = free_port()
        process = start_direct(work, port, secret)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
            # The container's URL is reached by name; wrk does not check the certificate,
            # the TLS handshake and encryption are paid all the same.
            urls = {"container": "https://localhost/hooks/github",
                    "direct": f"http://127.0.0.1:{port}/hooks/github"}  # fmt: skip
            for name, url in urls.items():
                one_run(name, url, 2, work, secret)  # warm-up: connections, first imports
            for _ in range(args.rounds):
                for name, url in urls.items():
                    runs[name].append(one_run(name, url, args.seconds, work, secret))
        finally:
            process.terminate()
            process.wait(timeout=60)
    load_after = os.getloadavg()[0]
    container, direct = median(runs["container"]), median(runs["direct"])
    durable = all(r.recorded >= r.requests - r.errors for rs in runs.values() for r in rs)
    text = "\n".join(
        [
            "## Production path: HTTPS through Caddy to the service container",
            "",
            f"`bench/bench_production_path.py`, {time.strftime('%Y-%m-%d')}, 2 cores, "
            f"{platform.python_implementation()} {platform.python_version()}, load "
            f"{load_before:.1f} before and {load_after:.1f} after. {args.rounds} alternating "
            f"rounds of {args.seconds} s, wrk with {CONNECTIONS} connections; each row is "
            "the round with the median throughput. Container: `make control-up`'s trial "
            "(Caddy with its own CA, HTTPS, in front of the service container built from the "
            "Dockerfile, host network). Direct: the same service as a process on loopback, "
            "plain HTTP. Every request a signed push with its own delivery id; every 202 "
            "durably recorded before the answer.",
            "",
            "| path | accepted/s | p50 ms | p99 ms | errors | recorded |",
            "|---|---:|---:|---:|---:|---:|",
            *[
                f"| {r.server} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} "
                f"| {r.recorded} |"
                for r in (container, direct)
            ],
            "",
            f"Container / direct: {container.rps / direct.rps:.2f}x the throughput, p99 "
            f"{container.p99_ms / direct.p99_ms:.2f}x. Every answered 202 recorded: "
            f"{'yes' if durable else 'NO'}. All rounds (accepted/s): container "
            f"{', '.join(f'{r.rps:,.0f}' for r in runs['container'])}; direct "
            f"{', '.join(f'{r.rps:,.0f}' for r in runs['direct'])} (median "
            f"{statistics.median(r.rps for r in runs['direct']):,.0f}).",
        ]
    )
    print(text)
    if not args.no_write:
        write_section("production_path", text)


if __name__ == "__main__":
    main()
