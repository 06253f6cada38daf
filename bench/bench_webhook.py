"""Benchmark: signed GitHub push deliveries accepted per second, Slipway vs adnanh/webhook,
with wrk.

Every request is a distinct signed push body with its own X-GitHub-Delivery (Slipway
refuses a body it has seen before as a replay): wrk cycles through a pool of pre-signed
bodies (bench/signed_load.py, shared with bench/bench_production_path.py). Only answers
with the accepting status count: 202 from Slipway, 200 from the peer (its rule mismatch
answers 401). Slipway runs as `python -m webhook serve` (uvicorn, one process) with a fresh
state directory; after each run the bench counts the deliveries in its SQLite file and
checks every answered 202 was durably recorded. adnanh/webhook runs a hook with a
`payload-hmac-sha256` rule and `/bin/true` as its command. Servers alternate per round,
each round with fresh servers; each table row is the run with the median throughput.

    .venv/bin/python bench/bench_webhook.py [--duration 10] [--connections 16 64] [--rounds 5]

Needs `wrk` and `webhook` (Debian: `apt-get install -y wrk webhook`). Results go to
docs/performance.md between `<!-- bench:webhook -->` markers. Targets 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.performance_doc import PERFORMANCE, write_section
from bench.signed_load import REPO, Result, signed_run, to_result, wait_until_up
from tests.support.local_process import free_loopback_port

SECRET = "bench-secret-0123456789abcdef"
BRANCH = "master"  # each delivery is a push to the deployed branch: a deploy
EXPECTED = {"slipway": 202, "webhook": 200}  # the answer that means "accepted"


def count_recorded(database: Path, run_id: str) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT count(*) FROM deliveries WHERE id LIKE ? AND status = 'processed'",
            (f"{run_id}-%",),
        ).fetchone()[0]


def start_slipway(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SLIPWAY_WEBHOOK_SECRET": SECRET,
        "SLIPWAY_BRANCH": BRANCH,
        "SLIPWAY_STATE_DIR": str(workdir / "state"),
        "SLIPWAY_HOOK_RATE_LIMIT": "100000000/minute",
        "SLIPWAY_PORT": str(port),
        "PYTHONPATH": str(REPO),
    }
    log = (workdir / "slipway.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "webhook", "serve"],
        env=env,
        stdout=log,
        stderr=log,
        cwd=workdir,
    )


def start_peer(workdir: Path, port: int) -> subprocess.Popen[bytes]:
    hooks = [
        {
            "id": "github",
            "execute-command": "/bin/true",
            "command-working-directory": str(workdir),
            "response-message": "ok",
            "trigger-rule-mismatch-http-response-code": 401,
            "trigger-rule": {
                "match": {
                    "type": "payload-hmac-sha256",
                    "secret": SECRET,
                    "parameter": {"source": "header", "name": "X-Hub-Signature-256"},
                }
            },
        }
    ]
    config = workdir / "hooks.json"
    config.write_text(json.dumps(hooks))
    log = (workdir / "peer.log").open("wb")
    return subprocess.Popen(
        ["webhook", "-hooks", str(config), "-ip", "127.0.0.1", "-port", str(port)],
        stdout=log,
        stderr=log,
    )


def bench_server(name: str, workdir: Path, connections: list[int], seconds: int) -> list[Result]:
    port = free_loopback_port()
    starter = start_slipway if name == "slipway" else start_peer
    process = starter(workdir, port)
    base = f"http://127.0.0.1:{port}"
    wait_until_up(f"{base}/healthz", process)
    results = []
    try:
        url = f"{base}/hooks/github"
        load = (url, workdir, SECRET, BRANCH)
        signed_run(*load, 4, 2, f"warmup-{name}", EXPECTED[name])
        for count in connections:
            run_id = f"{name}-c{count}-{time.time_ns()}"
            stats = signed_run(*load, count, seconds, run_id, EXPECTED[name])
            if stats["reused"]:
                sys.exit(f"{name}: the pool of signed bodies ran out ({stats['reused']} reused)")
            result = to_result(name, count, stats)
            if name == "slipway":
                time.sleep(0.5)  # let requests still in flight when wrk stopped finish
                result.recorded = count_recorded(workdir / "state" / "slipway.db", run_id)
            results.append(result)
            print(
                f"  {name:8} c={count:3}: {result.rps:8.0f}/s  p50 {result.p50_ms:6.2f} ms"
                f"  p99 {result.p99_ms:6.2f} ms  errors {result.errors}"
                + (f"  recorded {result.recorded}" if result.recorded is not None else "")
            )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return results


def render(
    results: list[Result],
    seconds: int,
    rounds: int,
    load: tuple[float, float],
    all_recorded: bool,
) -> str:
    rows = [
        "| server | connections | accepted/s | p50 ms | p99 ms | errors | durably recorded |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        if r.recorded is None:
            recorded = "no (nothing is stored)"
        else:
            accepted = r.requests - r.errors
            verdict = "all" if r.recorded >= accepted else "MISSING SOME"
            recorded = f"{verdict}: {r.recorded} rows for {accepted} answered 202"
        rows.append(
            f"| {r.server} | {r.connections} | {r.rps:,.0f} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | {r.errors} | {recorded} |"
        )
    peer = {r.connections: r for r in results if r.server != "slipway"}
    ours = {r.connections: r for r in results if r.server == "slipway"}
    verdicts = []
    for count, limit in ((16, 50.0), (64, 100.0)):
        if count in ours:
            mine = ours[count]
            vs = f" vs {peer[count].rps:,.0f}/s" if count in peer else ""
            ok_rate = count not in peer or mine.rps >= peer[count].rps
            verdicts.append(
                f"- {count} connections: {mine.rps:,.0f}/s{vs} "
                f"({'met' if ok_rate else 'MISSED'}: at least the peer); p99 "
                f"{mine.p99_ms:.1f} ms ({'met' if mine.p99_ms < limit else 'MISSED'}: "
                f"< {limit:.0f} ms)"
            )
    return "\n".join(
        [
            "## Webhook service: signed push deliveries",
            "",
            f"`bench/bench_webhook.py`, run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
            f" on {os.cpu_count()} cores ({platform.machine()}), Python "
            f"{platform.python_version()}, load average {load[0]:.1f} before and {load[1]:.1f}"
            " after (other work shares this machine). "
            f"{rounds} alternating rounds (peer, then Slipway, fresh servers each round); each"
            " row is the round with the median throughput."
            f" wrk, 2 threads, {seconds} s per run, 127.0.0.1;"
            " every request a real signed push (octokit example, ~8 KB) with its own"
            " X-GitHub-Delivery. wrk, the server and its writer share the same 2 cores."
            " Slipway: `python -m webhook serve` (one uvicorn process, uvloop + httptools),"
            " each 202 sent only after its delivery and deployment rows are committed"
            " (SQLite WAL, synchronous=FULL, group commit); info-level JSON logs on."
            " Peer: adnanh/webhook (Debian package) with a `payload-hmac-sha256` rule"
            " running `/bin/true`; it stores nothing.",
            "",
            *rows,
            "",
            "Targets:",
            *verdicts,
            "",
            "Durability check (every run, not just the median ones): "
            + (
                "every answered 202 had its delivery row in SQLite after the run."
                if all_recorded
                else "SOME ANSWERED DELIVERIES WERE NOT FOUND IN SQLITE."
            ),
        ]
    )


def median_results(rounds: list[list[Result]]) -> list[Result]:
    """Per server and connection count: the run with the median throughput."""
    by_key: dict[tuple[str, int], list[Result]] = {}
    for results in rounds:
        for result in results:
            by_key.setdefault((result.server, result.connections), []).append(result)
    chosen = []
    for runs in by_key.values():
        runs.sort(key=lambda r: r.rps)
        chosen.append(runs[len(runs) // 2])
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; median kept")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    missing = [tool for tool in ("wrk", "webhook") if shutil.which(tool) is None]
    if missing:
        sys.exit(
            f"missing {', '.join(missing)}: install with "
            "`apt-get update && apt-get install -y wrk webhook` (Debian/Ubuntu)"
        )
    rounds: list[list[Result]] = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="slipway-bench-") as tmp:
        workdir = Path(tmp)
        for number in range(args.rounds):
            results: list[Result] = []
            for name in ("webhook", "slipway"):
                print(f"== round {number + 1}: {name}")
                server_dir = workdir / f"{name}-{number}"
                server_dir.mkdir()
                results += bench_server(name, server_dir, args.connections, args.duration)
            rounds.append(results)
    load = (load_before, os.getloadavg()[0])
    all_recorded = all(
        r.recorded >= r.requests - r.errors for rs in rounds for r in rs if r.recorded is not None
    )
    text = render(median_results(rounds), args.duration, args.rounds, load, all_recorded)
    text += "\n\nAll runs (accepted/s, p99 ms), in order:\n\n" + "\n".join(
        f"- round {number + 1}: "
        + "; ".join(f"{r.server} c={r.connections} {r.rps:,.0f}/s {r.p99_ms:.1f}" for r in results)
        for number, results in enumerate(rounds)
    )
    print(text)
    if not args.no_write:
        write_section("webhook", text)
        print(f"written to {PERFORMANCE}")


if __name__ == "__main__":
    main()
