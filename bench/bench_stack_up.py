"""The demo stack: Slipway against Docker Compose on the same engine, two ways.

Same Compose file (stacks/demo/compose.yml), same Docker engine, images already in the
build cache for both. Per round and per tool: a cold deploy (nothing of the project exists),
then a no-op deploy (nothing changed); rounds alternate the tools so that load from other
jobs on the machine hits both alike (bench/compose_rounds.py).

1. `up`: Slipway's `python -m webhook.runners.stack_process up` (a new Python process, the
   program inline, the CLI, the bridged provider; no health probe) against
   `docker compose up -d`.
2. `make up`: the whole command a developer types (make's prerequisites, the toolchain's
   environment, `scripts/up.sh`: `up`, then the health probes) against
   `docker compose up -d --wait`; both end healthy. make's own prerequisites (`make
   toolchain engine`: the toolchain and engine checks) are also timed alone.

Run with the toolchain's environment: `scripts/with-toolchain.sh .venv/bin/python
bench/bench_stack_up.py` (`make bench` does). `--part up` or `--part make` runs one part.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.compose_rounds import Contenders, alternating_rounds, every_run, medians, seconds
from bench.performance_doc import write_section
from tests.support.ports import free_port
from tests.support.real_stack import REPO_ROOT, RealStack, make_real_stack

ROUNDS = 3
COMPOSE = str(Path(sys.executable).parent / "docker-compose")
TARGETS = {  # issue 35: Slipway / Compose at most
    ("up", "cold"): 2.0,
    ("up", "noop"): 1.5,
    ("make", "cold"): 1.5,
    ("make", "noop"): 1.0,
}


def contenders(stack: RealStack, slipway: list[str], compose_up: tuple[str, ...]) -> Contenders:
    compose_file = str(REPO_ROOT / "stacks" / "demo" / "compose.yml")
    return Contenders(
        slipway=slipway,
        slipway_env=stack.env,
        slipway_cwd=REPO_ROOT,
        destroy=lambda: stack.pulumi("destroy", "--yes", "--skip-preview"),
        compose=[COMPOSE, "-p", f"{stack.project}-compose", "-f", compose_file],
        compose_env={**os.environ, "DEMO_WEB_PORT": str(free_port()), "COMPOSE_BAKE": "false"},
        compose_up=compose_up,
    )


def tracked_toolchain_only(work: Path) -> None:
    """Drop files under the copy's toolchain/ that git does not track: the toolchain's
    cache key hashes that folder, and a stray file there would make `make up` build it."""
    listed = subprocess.run(
        ["git", "ls-files", "toolchain"], cwd=REPO_ROOT, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    tracked = set(listed.stdout.split())
    for path in sorted((work / "toolchain").rglob("*"), reverse=True):
        relative = path.relative_to(work).as_posix()
        if path.is_file() and relative not in tracked:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def make_up_stack(tmp: Path) -> tuple[RealStack, list[str]]:
    """A copy of the project `make up` can run in (the project's .venv linked in) and the
    command; timing it includes make's prerequisites, as a developer's `make up` does."""
    stack = make_real_stack(tmp)
    (stack.work / ".venv").symlink_to(REPO_ROOT / ".venv")
    tracked_toolchain_only(stack.work)
    return stack, ["make", "-s", "-C", str(stack.work), "up", f"STACK={stack.stack}"]


def part_up(tmp: Path, rounds: int) -> dict[str, list[float]]:
    stack = make_real_stack(tmp)
    slipway = [sys.executable, "-m", "webhook.runners.stack_process", "up",
               "--stack", stack.stack, "--work-dir", str(stack.work)]  # fmt: skip
    return alternating_rounds(contenders(stack, slipway, ("up", "-d")), rounds)


def part_make(tmp: Path, rounds: int) -> dict[str, list[float]]:
    stack, make_up = make_up_stack(tmp)
    times = alternating_rounds(contenders(stack, make_up, ("up", "-d", "--wait")), rounds)
    prerequisites = ["make", "-s", "-C", str(stack.work), "toolchain", "engine"]
    times["prerequisites"] = [seconds(prerequisites, env=stack.env) for _ in range(rounds)]
    return times


def rows(part: str, times: dict[str, list[float]]) -> list[str]:
    med = medians(times)
    out = []
    for kind, label in (("cold", "cold (nothing exists)"), ("noop", "no-op (nothing changed)")):
        ratio = med[f"s_{kind}"] / med[f"c_{kind}"]
        target = TARGETS[(part, kind)]
        verdict = "met" if ratio <= target else "MISSED"
        out.append(
            f"| {label} | {med[f's_{kind}']:.2f} | {med[f'c_{kind}']:.2f} | {ratio:.2f}x | "
            f"≤ {target}x ({verdict}) |"
        )
    return out


def report(results: dict[str, dict[str, list[float]]], rounds: int) -> str:
    lines = [
        "## The demo stack: Slipway `up` vs `docker compose up -d`",
        "",
        f"`bench/bench_stack_up.py`, {datetime.now(UTC):%Y-%m-%d}, CPython "
        f"{sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f} at the end: "
        "stacks/demo (db with a healthcheck, web waiting for it, worker; 3 images built from "
        f"the repository, cache warm), medians of {rounds} alternating rounds on one Docker "
        "engine (Debian's docker.io 20.10), 2 cores shared with other jobs.",
        "",
    ]
    if "up" in results:
        lines += [
            "| deploy | Slipway `up` (s) | `docker compose up -d` (s) | ratio | target |",
            "|---|---|---|---|---|",
            *rows("up", results["up"]),
            "",
            f"Every run (s; s_ = Slipway, c_ = Compose): {every_run(results['up'])}.",
            "",
        ]
    if "make" in results:
        prerequisites = medians(results["make"])["prerequisites"]
        lines += [
            "| deploy, both end healthy | `make up` (s) | `docker compose up -d --wait` (s) "
            "| ratio | target |",
            "|---|---|---|---|---|",
            *rows("make", results["make"]),
            "",
            f"Of `make up`, its prerequisites alone (`make toolchain engine`: the toolchain's "
            f"cache check and the engine and base-image checks) take {prerequisites:.2f} s. "
            f"Every run (s): {every_run(results['make'])}.",
            "",
        ]
    lines.append(
        "What a Slipway no-op still does: start Python and the CLI (no `pulumi version` or "
        "`stack select` first; the CLI derives the passphrase key of the stack's secrets, "
        "~0.2 s), run the program (its imports overlap the CLI's start; "
        "`docker compose config`, its `--hash` and the engine questions run at once), start "
        "the provider, diff every resource; Compose compares its config hashes against the "
        "running containers. Cold, both build from the cache and create the same containers, "
        "and both create web only once db's healthcheck passes (Slipway's program asks the "
        "engine every 0.1 s); the network is created and read at once (the upstream "
        "provider's fixed 2 s wait is removed in Slipway's build, docs/toolchain.md). "
        "Step by step: docs/full-up.md."
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=("up", "make", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    options = parser.parse_args()
    if shutil.which("make") is None and options.part != "up":
        raise SystemExit("`make` is not on PATH: install it, or run with --part up")
    results: dict[str, dict[str, list[float]]] = {}
    parts = {"up": part_up, "make": part_make}
    for name, part in parts.items():
        if options.part in (name, "both"):
            with tempfile.TemporaryDirectory() as tmp:
                results[name] = part(Path(tmp), options.rounds)
    text = report(results, options.rounds)
    write_section("stack-up", text)
    print(text)


if __name__ == "__main__":
    main()
