"""Scale: a generated Compose project of 5, 20 and 50 services, Slipway `up` vs Compose.

`generate_project(n)` (pure) writes the project: services in chains of `CHAIN`, each waiting
for the previous one to be healthy (`depends_on: condition: service_healthy`, a Docker
healthcheck every second), every `BUILD_EVERY`-th service built from a context of its own
(FROM the local slipway/base:busybox), the others running that image as is. Per size and
per tool, alternating rounds: a cold deploy (nothing of the project exists, images in the
build cache), then a no-op deploy (nothing changed). Slipway's time is the whole
`stack_process up` (a new Python, the program inline, the CLI, the provider); Compose's is
`docker compose up -d` of the same file on the same engine.

Run with the toolchain's environment: `scripts/with-toolchain.sh .venv/bin/python
bench/bench_scale.py [--sizes 5,20,50] [--rounds 2]` (`make bench` runs it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.compose_rounds import Contenders, alternating_rounds
from bench.performance_doc import write_section
from tests.support.real_stack import REPO_ROOT, make_real_stack, remove_project_containers

CHAIN = 5
BUILD_EVERY = 5
BASE_IMAGE = "slipway/base:busybox"
COMPOSE = str(Path(sys.executable).parent / "docker-compose")
PROJECT_DIR = "stacks/scale"


def generate_project(services: int, chain: int = CHAIN, build_every: int = BUILD_EVERY) -> dict:
    """The files of a Compose project of `services` services, path -> text (pure)."""
    lines = ["services:"]
    files: dict[str, str] = {}
    for i in range(services):
        lines.append(f"  s{i:02d}:")
        if i % build_every == 0:
            lines.append(f"    build: ./ctx{i:02d}")
            files[f"ctx{i:02d}/Dockerfile"] = (
                f"FROM {BASE_IMAGE}\nRUN echo 'service {i}' > /service.txt\n"
                'CMD ["sleep", "86400"]\n'
            )
        else:
            lines += [f"    image: {BASE_IMAGE}", '    command: ["sleep", "86400"]']
        lines += [
            "    init: true",  # sleep as PID 1 ignores SIGTERM: every stop would wait 10 s
            "    environment:",
            f"      SERVICE_INDEX: '{i}'",
            "    healthcheck:",
            '      test: ["CMD", "true"]',
            "      interval: 1s",
            "      timeout: 2s",
            "      retries: 30",
        ]
        if i % chain:
            lines += [
                "    depends_on:",
                f"      s{i - 1:02d}:",
                "        condition: service_healthy",
            ]
    files["compose.yml"] = "\n".join(lines) + "\n"
    return files


def write_project(folder: Path, services: int) -> Path:
    """Write `generate_project(services)` under `folder`; the Compose file's path."""
    for relative, text in generate_project(services).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder / "compose.yml"


def measure(size: int, rounds: int, tmp: Path) -> dict[str, list[float]]:
    """Cold and no-op times of both tools for one size, `rounds` alternating rounds."""
    compose_file = f"{PROJECT_DIR}/compose.yml"
    stack = make_real_stack(tmp, compose_file=compose_file)
    write_project(stack.work / PROJECT_DIR, size)
    up = [sys.executable, "-m", "webhook.runners.stack_process", "up", "--stack", stack.stack,
          "--work-dir", str(stack.work)]  # fmt: skip
    compose = [COMPOSE, "-p", f"{stack.project}-compose", "-f", str(stack.work / compose_file)]
    try:
        return alternating_rounds(
            Contenders(
                slipway=up,
                slipway_env=stack.env,
                slipway_cwd=REPO_ROOT,
                destroy=lambda: stack.pulumi("destroy", "--yes", "--skip-preview"),
                compose=compose,
                compose_env={**os.environ, "COMPOSE_BAKE": "false"},
            ),
            rounds,
        )
    finally:
        remove_project_containers(stack.project)


def report(results: dict[int, dict[str, list[float]]], rounds: int, load: float) -> str:
    med = {n: {k: statistics.median(v) for k, v in t.items()} for n, t in results.items()}
    smallest = min(med)
    rows = [
        "| services | Slipway cold (s) | Compose cold (s) | ratio | Slipway no-op (s) | "
        "Compose no-op (s) | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, m in sorted(med.items()):
        rows.append(
            f"| {n} | {m['s_cold']:.2f} | {m['c_cold']:.2f} | {m['s_cold'] / m['c_cold']:.1f}x | "
            f"{m['s_noop']:.2f} | {m['c_noop']:.2f} | {m['s_noop'] / m['c_noop']:.1f}x |"
        )
    growth = ", ".join(
        f"{n} services: Slipway cold ×{m['s_cold'] / med[smallest]['s_cold']:.1f}, "
        f"no-op ×{m['s_noop'] / med[smallest]['s_noop']:.1f}; Compose cold "
        f"×{m['c_cold'] / med[smallest]['c_cold']:.1f}, no-op "
        f"×{m['c_noop'] / med[smallest]['c_noop']:.1f}"
        for n, m in sorted(med.items())
        if n != smallest
    )
    every = "; ".join(
        f"{n}: " + ", ".join(f"{k} {' / '.join(f'{t:.2f}' for t in v)}" for k, v in t.items())
        for n, t in sorted(results.items())
    )
    return "\n".join(
        [
            f"## Scale: {smallest} to {max(med)} services, Slipway `up` vs `docker compose up -d`",
            "",
            f"`bench/bench_scale.py`, {datetime.now(UTC):%Y-%m-%d}, CPython "
            f"{sys.version.split()[0]}, load average {load:.1f} at the end (2 cores shared "
            f"with other jobs). A generated project (`generate_project`): chains of {CHAIN} "
            f"services, each waiting for the previous one to be healthy (healthcheck every "
            f"1 s), every {BUILD_EVERY}th service built from its own context, the others "
            f"running {BASE_IMAGE}; medians of {rounds} alternating rounds, build cache warm.",
            "",
            *rows,
            "",
            f"Growth against {smallest} services: {growth}.",
            "",
            f"Every run (s; s_ = Slipway, c_ = Compose): {every}.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5,20,50")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-write", action="store_true", help="print only")
    options = parser.parse_args()
    results: dict[int, dict[str, list[float]]] = {}
    for size in (int(s) for s in options.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            results[size] = measure(size, options.rounds, Path(tmp))
        print(f"{size} services: {results[size]}", flush=True)
    text = report(results, options.rounds, os.getloadavg()[0])
    write_section("scale", text)
    print(text)


if __name__ == "__main__":
    main()
