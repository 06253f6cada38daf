"""Benchmark: the whole Pulumi program under mocks for a generated stack of many services.

Generates a Compose file (default 300 services: web apps with ports, health checks,
volumes, replicas, two networks and chains of `service_healthy` dependencies), then times
the three stages separately and the whole program end to end:
`docker compose config` (real binary), the pure translation, and the program under
Pulumi's mocks (which includes both). Target: the program in under 10 s here.
Writes its section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.performance_doc import write_section
from components.compose.docker_compose import compose_config
from components.compose_stack.translate import HostFacts, translate_model
from tests.support.program_run import run_program

TARGET_SECONDS = 10.0


def generate_compose(services: int, chain: int = 10) -> str:
    """A Compose file with `services` services exercising the common keys; services form
    chains of `chain` services, each waiting for the previous one to be healthy."""
    lines = ["services:"]
    for i in range(services):
        lines += [
            f"  svc{i}:",
            f"    image: registry.example.com/app{i % 17}:1.{i}",
            "    restart: unless-stopped",
            f"    command: [serve, --port, '{8000 + i}']",
            "    environment:",
            f"      SERVICE_INDEX: '{i}'",
            "      LOG_LEVEL: ${LOG_LEVEL:-info}",
            f"    labels: {{com.example.index: '{i}'}}",
            f"    ports: ['127.0.0.1:{20000 + i}:{8000 + i}']",
            f"    volumes: ['data{i % 20}:/var/lib/app', '/srv/shared:/shared:ro']",
            "    networks: [backend, frontend]" if i % 2 else "    networks: [backend]",
            "    healthcheck:",
            f"      test: [CMD, wget, -qO-, 'http://localhost:{8000 + i}/healthz']",
            "      interval: 10s",
            "      timeout: 3s",
            "      retries: 3",
            "    deploy:",
            f"      replicas: {1 + (i % 3 == 0)}",
            "      resources: {limits: {cpus: '0.25', memory: 128M}}",
        ]
        if i % chain:
            lines += ["    depends_on:", f"      svc{i - 1}: {{condition: service_healthy}}"]
    lines += ["networks:", "  backend:", "  frontend:", "volumes:"]
    lines += [f"  data{j}:" for j in range(min(services, 20))]
    return "\n".join(lines) + "\n"


def _timed(fn, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times, result


def measure(services: int, chain: int, repeat: int) -> dict:
    """Time the stages for one generated stack; returns medians/maxima and counts."""
    with tempfile.TemporaryDirectory() as folder:
        compose = Path(folder) / "compose.yml"
        compose.write_text(generate_compose(services, chain))
        config = {"slipway:composeFiles": [str(compose)], "slipway:composeProject": "bench"}
        compose_times, model = _timed(
            lambda: compose_config([compose], project_name="bench", profiles=()), repeat
        )
        facts = HostFacts(project_dir=folder)
        translate_times, plan = _timed(lambda: translate_model(model, "bench", facts), repeat)
        program_times, run = _timed(lambda: run_program("bench", config), repeat)
    assert len(plan.services) == services
    return {
        "compose": compose_times,
        "translate": translate_times,
        "program": program_times,
        "containers": run.count_by_type()["docker:index/container:Container"],
        "resources": len(run.resources),
    }


def _row(label: str, times: list[float], digits: int = 2) -> str:
    cells = (min(times), statistics.median(times), max(times))
    return f"| {label} | " + " | ".join(f"{t:.{digits}f}" for t in cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave docs/performance.md alone"
    )
    options = parser.parse_args()
    chained = measure(options.services, 10, options.repeat)
    flat = measure(options.services, 1, options.repeat)
    median = statistics.median(chained["program"])
    verdict = "meets" if median < TARGET_SECONDS else "MISSES"
    load = os.getloadavg()[0]
    text = "\n".join(
        [
            "## Pulumi program (ComposeStack)",
            "",
            f"`bench/bench_program.py` on CPython {platform.python_version()}, "
            f"{datetime.now(UTC):%Y-%m-%d}, load average {load:.1f} when it ended: a "
            f"generated Compose file of {options.services} services "
            f"({chained['containers']} containers with replicas, {chained['resources']} "
            f"resources in all), {options.repeat} runs each. Services form "
            "chains of ten, each waiting for the previous one to be healthy. The program run "
            "includes `docker compose config` and the translation.",
            "",
            "| stage | min s | median s | max s |",
            "|---|---:|---:|---:|",
            _row("`docker compose config` (real binary)", chained["compose"]),
            _row("translation to the plan (pure)", chained["translate"], 3),
            _row("whole program under Pulumi mocks", chained["program"]),
            _row("whole program, same stack without `depends_on`", flat["program"]),
            "",
            f"Target: under {TARGET_SECONDS:.0f} s for the whole program: {verdict} it. "
            "Nearly all the time is the Pulumi SDK's own bookkeeping: it tracks every output "
            "property of every resource (a container has about 90) and waits on all "
            "outstanding ones, so the cost grows faster than the number of resources; "
            "Compose and the translation take well under a second. On this shared 2-core "
            "machine the spread between runs comes from the load of other jobs.",
        ]
    )
    write_section("program", text)
    print(text)


if __name__ == "__main__":
    main()
