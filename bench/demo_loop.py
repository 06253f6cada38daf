"""What the deploy-loop benchmarks share (bench/bench_deploy_loop.py, bench/bench_unchanged.py):
the service deploying a demo repository on the real CLI and engine, Compose as the peer on
the same engine, bounded waits and the "Every run" line of their reports.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

from bench.performance_doc import write_section
from tests.support.demo_repo import DemoRepo
from tests.support.fake_github import FakeGitHub
from tests.support.live_service import LiveService, live_service
from tests.support.orchestrator import FAST
from tests.support.real_stack import REPO_ROOT, pulumi_env, remove_project_containers
from webhook.orchestrator import OrchestratorSettings
from webhook.runners.automation import AutomationRunner

T = TypeVar("T")

HEALTH = FAST.model_copy(
    update={
        "health_interval_seconds": 0.5,
        "health_consecutive_passes": 2,
        "health_deadline_seconds": 10.0,
    }
)
COMPOSE = str(Path(sys.executable).parent / "docker-compose")
EXAMPLES = (
    REPO_ROOT / "tools" / "node_modules" / "@octokit" / "webhooks-examples" / "api.github.com"
)
LIMIT = 300.0


def wait_for(check: Callable[[], T], limit: float = LIMIT, step: float = 0.02) -> T:
    """`check()`'s first truthy answer, polled every `step` seconds for at most `limit`."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(step)
    raise SystemExit("a bounded wait ran out: the deploy loop is stuck")


def answers(url: str, text: str) -> bool:
    """Whether `url` answers `text` now."""
    try:
        return httpx.get(url, timeout=2).text.strip() == text
    except httpx.HTTPError:
        return False


def compose_command(repo: DemoRepo) -> list[str]:
    """`docker compose` on the repository's demo stack, under its project name."""
    return [COMPOSE, "-p", repo.project, "-f", str(repo.path / "stacks/demo/compose.yml")]


@contextmanager
def slipway_on(
    tmp: Path, repo: DemoRepo, config: OrchestratorSettings
) -> Iterator[tuple[LiveService, dict[str, str]]]:
    """The service deploying `repo` with the AutomationRunner (a file backend under `tmp`,
    a fake GitHub for its feedback); yields it and the CLI's environment. Afterwards the
    stack is destroyed and its containers removed."""
    env = pulumi_env(tmp / "backend")
    with (
        FakeGitHub("ghs_bench") as github,
        live_service(
            repo=repo.path, state_dir=tmp / "state", runner=AutomationRunner(env_vars=env),
            github_url=github.url, token="ghs_bench", repository="Codertocat/Hello-World",
            stack=repo.stack, config=config,
        ) as service,
    ):  # fmt: skip
        try:
            yield service, env
        finally:
            subprocess.run(
                ["pulumi", "destroy", "--yes", "--skip-preview", "--stack", repo.stack],
                cwd=repo.path, env={**os.environ, **env}, capture_output=True, timeout=600,
            )  # fmt: skip
            remove_project_containers(repo.project)


def every_run(times: dict[str, list[float]]) -> str:
    """The report's last line, a record of every round: `Every run: name: 1.23 / 1.30; ...`."""
    runs = "; ".join(f"{k}: {' / '.join(f'{t:.2f}' for t in v)}" for k, v in times.items())
    return f"Every run: {runs}."


def publish(section: str, text: str) -> None:
    """The report into docs/performance.md's `section` (bench/performance_doc.py) and stdout."""
    write_section(section, text)
    print(text)
