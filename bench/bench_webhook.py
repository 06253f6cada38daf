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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.performance_doc import PERFORMANCE, write_section
from bench.signed_load import REPO, Result, signed_run, to_result, wait_until_up
from tests.support.ports import free_port

SECRET = "bench-secret-0123456789abcdef"
BRANCH = "master"  # each delivery is a push to the deployed branch: a deploy
EXPECTED = {"slipway": 202, "webhook": 200}  # the answer that means "accepted"


def count_recorded(database: Path, run_id: str) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT count(*) FROM deliveries WHERE id LIKE ? AND status = 'processed'",
            (f"{run_id}-%",),
        ).fetchone()[0]


def process_cpu_seconds(pid: int) -> float:
    """User+system CPU of process `pid`: all its threads, and its children it waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


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
    port = free_port()
    starter = start_slipway if name == "slipway" else start_peer
    process = starter(workdir, port)
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        try:
            wait_until_up(f"{base}/healthz", process)
        except SystemExit:
            logs = [path.read_text()[-3000:] for path in workdir.glob("*.log")]
            print(f"{name} did not start; its log ends:\n" + "\n".join(logs), file=sys.stderr)
            raise
        url = f"{base}/hooks/github"
        load = (url, workdir, SECRET, BRANCH)
        signed_run(*load, 4, 2, f"warmup-{name}", EXPECTED[name])
        for count in connections:
            run_id = f"{name}-c{count}-{time.time_ns()}"
            cpu_before = process_cpu_seconds(process.pid)
            stats = signed_run(*load, count, seconds, run_id, EXPECTED[name])
            cpu = process_cpu_seconds(process.pid) - cpu_before
            if stats["reused"]:
                sys.exit(f"{name}: the pool of signed bodies ran out ({stats['reused']} reused)")
            result = to_result(name, count, stats)
            result.cpu_ms = 1000 * cpu / max(1, result.requests - result.errors)
            if name == "slipway":
                time.sleep(0.5)  # let requests still in flight when wrk stopped finish
                result.recorded = count_recorded(workdir / "state" / "slipway.db", run_id)
            results.append(result)
            print(
                f"  {name:8} c={count:3}: {result.rps:8.0f}/s  p50 {result.p50_ms:6.2f} ms"
                f"  p99 {result.p99_ms:6.2f} ms  cpu {result.cpu_ms:.3f} ms  errors {result.errors}"
                + (f"  recorded {result.recorded}" if result.recorded is not None else "")
            )
    finally:
        process.terminate()
        process.wait(timeout=30)
    return results


def render(
    rounds: list[list[Result]], seconds: int, load: tuple[float, float], all_recorded: bool
) -> str:
    rows = [
        "| server | connections | accepted/s | p50 ms | p99 ms | server CPU ms per accepted"
        " | errors | durably recorded |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in median_results(rounds):
        if r.recorded is None:
            recorded = "no (nothing is stored)"
        else:
            accepted = r.requests - r.errors
            verdict = "all" if r.recorded >= accepted else "MISSING SOME"
            recorded = f"{verdict}: {r.recorded} rows for {accepted} answered 202"
        rows.append(
            f"| {r.server} | {r.connections} | {r.rps:,.0f} | {r.p50_ms:.2f} | "
            f"{r.p99_ms:.2f} | {r.cpu_ms:.3f} | {r.errors} | {recorded} |"
        )
    ratios = round_ratios(rounds)
    per_round = [
        f"| {number + 1} | "
        + " | ".join(
            f"{ours.rps:,.0f} / {peer.rps:,.0f} = **{ours.rps / peer.rps:.2f}x**, p99 "
            f"{ours.p99_ms:.1f} ms"
            for ours, peer in pairs
        )
        + " |"
        for number, pairs in enumerate(ratios)
    ]
    counts = [ours.connections for ours, _ in ratios[0]] if ratios else []
    verdicts = []
    for index, count in enumerate(counts):
        median_ratio = statistics.median(r[index][0].rps / r[index][1].rps for r in ratios)
        median_p99 = statistics.median(r[index][0].p99_ms for r in ratios)
        line = f"- {count} connections: median ratio {median_ratio:.2f}x, p99 {median_p99:.1f} ms"
        if count == 16:
            line += (
                f" (target >= 1.0x: {'met' if median_ratio >= 1.0 else 'MISSED'}; "
                f"p99 <= 50 ms: {'met' if median_p99 <= 50 else 'MISSED'})"
            )
        verdicts.append(line)
    return "\n".join(
        [
            "## Webhook service: signed push deliveries",
            "",
            f"`bench/bench_webhook.py`, run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
            f" on {os.cpu_count()} cores ({platform.machine()}), Python "
            f"{platform.python_version()}, load average {load[0]:.1f} before and {load[1]:.1f}"
            " after (other work shares this machine). "
            f"{len(rounds)} alternating rounds (peer, then Slipway, fresh servers each round)."
            f" wrk, 2 threads, {seconds} s per run, 127.0.0.1; every request a distinct signed"
            " push (the octokit example, ~8 KB, with its own `head_commit.message`, pre-signed:"
            " bench/signed_load.py) with its own X-GitHub-Delivery. Slipway:"
            " `python -m webhook serve` (one uvicorn process, uvloop + httptools, no"
            " SLIPWAY_REPO_URL: the recording queue), each 202 sent only after its delivery and"
            " deployment rows are committed (SQLite WAL, synchronous=FULL, group commit);"
            " info-level JSON logs on. Peer: adnanh/webhook (Debian package) with a"
            " `payload-hmac-sha256` rule running `/bin/true` (a mismatch answers 401); it"
            " stores nothing.",
            "",
            "How to read: *accepted/s* counts only accepting answers (Slipway 202, peer 200),"
            " over the run's length; a replay or any other answer is an error. The table holds"
            " each server's run with the median throughput; the rounds table pairs the two"
            " servers of one round (they ran back to back, under about the same load). *Server"
            " CPU per accepted* is the server process's user+system time (all threads, and the"
            " peer's `/bin/true` children) over the run divided by its accepted requests: it"
            " varies less with the machine's load than throughput does. wrk, the server and"
            " other work share the same 2 cores, so a high load average lowers both servers'"
            " throughput and raises their p99.",
            "",
            *rows,
            "",
            "Slipway / peer per round (accepted/s, Slipway's p99):",
            "",
            "| round | " + " | ".join(f"{count} connections" for count in counts) + " |",
            "|---:|" + "---|" * len(counts),
            *per_round,
            "",
            "Targets (issue 35):",
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


def round_ratios(rounds: list[list[Result]]) -> list[list[tuple[Result, Result]]]:
    """Per round, per connection count: (Slipway's run, the peer's run)."""
    paired = []
    for results in rounds:
        peer = {r.connections: r for r in results if r.server != "slipway"}
        paired.append(
            [
                (r, peer[r.connections])
                for r in results
                if r.server == "slipway" and r.connections in peer
            ]
        )
    return paired


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
    text = render(rounds, args.duration, load, all_recorded)
    print(text)
    if not args.no_write:
        write_section("webhook", text)
        print(f"written to {PERFORMANCE}")


if __name__ == "__main__":
    main()
