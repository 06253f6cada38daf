"""Where a no-op `up` of the demo stack spends its time (issue 35: a faster full `up`).

Deploys the demo stack once (cold), then runs the same `up` again (nothing changed) with
the JSON protocol of `webhook.runners.stack_process` and stamps each line as it arrives:
the engine's prelude, the first and last resource events, the summary, the result and the
process's exit. Beside it, the pieces measured alone: the interpreter with the Pulumi SDK
and provider SDK imported, the CLI's start (`pulumi version`), `docker compose config` of
the demo files. Prints a table; writes nothing (a profile, not a benchmark to track).

Run with the toolchain's environment: `scripts/with-toolchain.sh .venv/bin/python
bench/profile_noop_up.py`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from tests.e2e.demo_repo import DemoRepo
from tests.support.real_stack import REPO_ROOT, free_port, pulumi_env, remove_project_containers

ROUNDS = 3
COMPOSE = str(Path(sys.executable).parent / "docker-compose")


def timed(command: list[str], **options) -> float:
    begin = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, timeout=600, **options)
    return time.perf_counter() - begin


def stamped_up(repo: DemoRepo, env: dict[str, str]) -> dict[str, float]:
    """Seconds from the start to each milestone of one `up` (json protocol)."""
    command = [
        sys.executable, "-m", "webhook.runners.stack_process", "up", "--stack", repo.stack,
        "--work-dir", str(repo.path), "--protocol", "json",
    ]  # fmt: skip
    begin = time.perf_counter()
    marks: dict[str, float] = {}
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        now = time.perf_counter() - begin
        marks.setdefault("first line", now)
        record = json.loads(line) if line.startswith("{") else {}
        event = record.get("event") or {}
        if "preludeEvent" in event:
            marks.setdefault("engine prelude", now)
        if "resourcePreEvent" in event:
            marks.setdefault("first resource event", now)
        if "resOutputsEvent" in event:
            marks["last resource outputs"] = now
        if "summaryEvent" in event:
            marks["summary"] = now
        if "result" in record:
            marks["result"] = now
    process.wait()
    marks["exit"] = time.perf_counter() - begin
    return marks


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        suffix = uuid.uuid4().hex[:8]
        repo = DemoRepo.create(Path(tmp) / "repo", f"f{suffix}", f"slipway-f{suffix}", free_port())
        env = {**os.environ, **pulumi_env(Path(tmp) / "backend")}
        try:
            stamped_up(repo, env)  # cold
            runs = [stamped_up(repo, env) for _ in range(ROUNDS)]
            alone = {
                "python + pulumi.automation + pulumi_docker imported": [
                    timed([sys.executable, "-c", "import pulumi.automation, pulumi_docker"])
                    for _ in range(ROUNDS)
                ],
                "`pulumi version` (CLI start)": [
                    timed(["pulumi", "version"], env=env) for _ in range(ROUNDS)
                ],
                "`docker compose config` of the demo": [
                    timed(
                        [COMPOSE, "-f", str(repo.path / "stacks/demo/compose.yml"), "config"],
                        env=env,
                    )
                    for _ in range(ROUNDS)
                ],
            }
        finally:
            subprocess.run(
                ["pulumi", "destroy", "--yes", "--skip-preview", "--stack", repo.stack],
                cwd=repo.path, env=env, capture_output=True, timeout=600,
            )  # fmt: skip
            remove_project_containers(repo.project)
    names = list(runs[0])
    print(f"no-op `up` of the demo stack, medians of {ROUNDS} (load {os.getloadavg()[0]:.1f})")
    print("| milestone | s from start |")
    print("|---|---|")
    for name in names:
        print(f"| {name} | {statistics.median(r.get(name, 0.0) for r in runs):.2f} |")
    print()
    print("| piece measured alone | s |")
    print("|---|---|")
    for name, values in alone.items():
        print(f"| {name} | {statistics.median(values):.2f} |")


if __name__ == "__main__":
    main()
