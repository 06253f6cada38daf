"""The demo stack: Slipway's `pulumi up` against `docker compose up -d`, on the same engine.

Same Compose file (stacks/demo/compose.yml), same Docker engine, images already in the
build cache for both. Per round and per tool: a cold deploy (nothing of the project exists),
then a no-op deploy (nothing changed). Rounds alternate the tools so that load from other
jobs on the machine hits both alike. Slipway's time is the whole `make up` path without the
health probe: a new Python process, the program inline, the CLI, the bridged provider.

Run with the toolchain's environment: `scripts/with-toolchain.sh .venv/bin/python
bench/bench_stack_up.py` (`make bench` does).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.performance_doc import write_section
from tests.support.real_stack import REPO_ROOT, free_port, make_real_stack

ROUNDS = 3
COMPOSE = str(Path(sys.executable).parent / "docker-compose")


def seconds(command: list[str], **kwargs) -> float:
    begin = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - begin


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        stack = make_real_stack(Path(tmp))
        compose_project = f"{stack.project}-compose"
        compose_env = {**os.environ, "DEMO_WEB_PORT": str(free_port()), "COMPOSE_BAKE": "false"}
        compose_file = str(REPO_ROOT / "stacks" / "demo" / "compose.yml")
        compose = [COMPOSE, "-p", compose_project, "-f", compose_file]
        slipway_up = [sys.executable, "-m", "webhook.runners.stack_process", "up",
                      "--stack", stack.stack, "--work-dir", str(stack.work)]  # fmt: skip
        times: dict[str, list[float]] = {k: [] for k in ("s_cold", "s_noop", "c_cold", "c_noop")}
        try:
            # Warm the build cache for both (not measured).
            seconds([*compose, "build"], env=compose_env)
            seconds(slipway_up, cwd=REPO_ROOT, env=stack.env)
            stack.pulumi("destroy", "--yes", "--skip-preview")
            for _ in range(ROUNDS):
                times["s_cold"].append(seconds(slipway_up, cwd=REPO_ROOT, env=stack.env))
                times["s_noop"].append(seconds(slipway_up, cwd=REPO_ROOT, env=stack.env))
                stack.pulumi("destroy", "--yes", "--skip-preview")
                times["c_cold"].append(seconds([*compose, "up", "-d"], env=compose_env))
                times["c_noop"].append(seconds([*compose, "up", "-d"], env=compose_env))
                seconds([*compose, "down", "-v"], env=compose_env)
        finally:
            stack.pulumi("destroy", "--yes", "--skip-preview")
            subprocess.run([*compose, "down", "-v"], env=compose_env, capture_output=True)
    write_section("stack-up", report(times))
    print(report(times))


def report(times: dict[str, list[float]]) -> str:
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = [
        "| deploy | Slipway `up` (s) | `docker compose up -d` (s) | ratio |",
        "|---|---|---|---|",
        f"| cold (nothing exists) | {med['s_cold']:.2f} | {med['c_cold']:.2f} | "
        f"{med['s_cold'] / med['c_cold']:.1f}x |",
        f"| no-op (nothing changed) | {med['s_noop']:.2f} | {med['c_noop']:.2f} | "
        f"{med['s_noop'] / med['c_noop']:.1f}x |",
    ]
    every = ", ".join(f"{k}: {' / '.join(f'{t:.2f}' for t in v)}" for k, v in times.items())
    return "\n".join(
        [
            "## The demo stack: Slipway `up` vs `docker compose up -d`",
            "",
            f"`bench/bench_stack_up.py`: stacks/demo (db with a healthcheck, web waiting for "
            f"it, worker; 3 images built from the repository, cache warm), medians of "
            f"{ROUNDS} alternating rounds on one Docker engine (Debian's docker.io 20.10), "
            "2 cores shared with other jobs.",
            "",
            *rows,
            "",
            f"Every run (s; s_ = Slipway, c_ = Compose): {every}.",
            "",
            "What a Slipway no-op still does: start Python, the Pulumi SDK and the CLI, run "
            "the program (which runs `docker compose config` and hashes the build contexts), "
            "start the provider, diff every resource and write a checkpoint; Compose compares "
            "its config hashes against the running containers. Cold, both build from the "
            "cache and create the same containers, and both create web only once db's "
            "healthcheck passes. The spread between runs is load from other jobs.",
        ]
    )


if __name__ == "__main__":
    main()
