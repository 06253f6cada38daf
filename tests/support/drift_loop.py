"""The service deploying the demo repository with drift checks every few seconds, and the
waits the drift tests share (tests/webhook/orchestrator/test_drift_real.py, docs/drift.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.demo_repo import DemoRepo
from tests.support.deploy_loop import REAL, Loop, serving
from tests.support.fake_github import FakeGitHub
from tests.support.live_service import API_TOKEN
from tests.support.ports import free_port
from tests.support.real_stack import remove_project_containers
from webhook.orchestrator import OrchestratorSettings
from webhook.orchestrator.drift_snapshot import VIA_SNAPSHOT
from webhook.store import Deployment
from webhook.store.drift import DriftCheck, DriftRecords, DriftResult

INTERVAL = 3.0  # seconds between checks in these tests
CHECK_LIMIT = 180.0  # a bound for the waits below, never asserted on
COMPOSE = str(Path(sys.executable).parent / "docker-compose")


class DriftLoop(Loop):
    """A deploy loop whose stack is checked for drift every INTERVAL seconds."""

    @property
    def records(self) -> DriftRecords:
        return DriftRecords(self.service.store)

    def api(self, method: str, path: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        return httpx.request(method, f"{self.service.url}{path}", headers=headers, timeout=30)

    def next_check(self, after_id: int = 0, *results: DriftResult) -> DriftCheck:
        """The first finished check newer than `after_id` (with one of `results`)."""
        wanted = results or (DriftResult.IN_SYNC, DriftResult.DRIFTED, DriftResult.FAILED)
        deadline = time.monotonic() + CHECK_LIMIT
        while time.monotonic() < deadline:
            for check in reversed(self.records.recent(self.repo.stack, limit=50)):
                if check.id > after_id and check.result in wanted:
                    return check
            time.sleep(0.2)
        seen = [(c.id, c.result, c.error) for c in self.records.recent(self.repo.stack, 10)]
        raise AssertionError(f"no check after {after_id} with {wanted}; seen {seen}")

    def snapshot_in_effect(self) -> DriftCheck:
        """The first check after the newest deployment that passed by the engine pre-check
        (webhook/orchestrator/drift_snapshot.py): from now on a check that finds the engine
        unchanged does not run Pulumi."""
        newest = self.service.store.list_deployments(limit=1, stack=self.repo.stack)[0]
        deadline = time.monotonic() + CHECK_LIMIT
        while time.monotonic() < deadline:
            for check in reversed(self.records.recent(self.repo.stack, limit=20)):
                if check.started_at > newest.updated_at and check.via == VIA_SNAPSHOT:
                    return check
            time.sleep(0.2)
        seen = [(c.id, c.result, c.via) for c in self.records.recent(self.repo.stack, 10)]
        raise AssertionError(f"no check by the engine snapshot; seen {seen}")

    def last_check_id(self) -> int:
        checks = self.records.recent(self.repo.stack, limit=1)
        return checks[0].id if checks else 0

    def container(self, service: str) -> str:
        return f"{self.repo.project}-{service}-1"

    def auto_reconciles(self, at_least: int) -> list[Deployment]:
        """The stack's automatic reconciles, once there are `at_least`."""
        deadline = time.monotonic() + CHECK_LIMIT
        while time.monotonic() < deadline:
            found = [
                d
                for d in self.service.store.list_deployments(stack=self.repo.stack)
                if (d.delivery_id or "").startswith("reconcile:auto:")
            ]
            if len(found) >= at_least:
                return found
            time.sleep(0.2)
        raise AssertionError(f"fewer than {at_least} automatic reconciles")


def docker(*args: str, check: bool = True) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=120, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed: {done.stderr}")
    return done.stdout.strip()


def older_checkout(repo: Path, target: Path) -> Path:
    """A checkout of the commit before HEAD of `repo` at `target` (an operator's old clone)."""
    subprocess.run(
        ["git", "clone", "-q", str(repo), str(target)], check=True, capture_output=True, timeout=60
    )
    subprocess.run(
        ["git", "checkout", "-q", "HEAD~1"], cwd=target, check=True, capture_output=True,
        timeout=60,
    )  # fmt: skip
    return target


def compose(checkout: Path, project: str, *args: str, release: str) -> str:
    """`docker compose -p project -f stacks/demo/compose.yml ...` in `checkout`, by hand:
    with the venv's docker-compose (requirements.lock), DEMO_RELEASE=`release`."""
    done = subprocess.run(
        [COMPOSE, "-p", project, "-f", "stacks/demo/compose.yml", *args],
        cwd=checkout, capture_output=True, text=True, timeout=300, check=False,
        env={**os.environ, "DEMO_RELEASE": release},
    )  # fmt: skip
    if done.returncode != 0:
        raise AssertionError(f"docker compose {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def kill_main_process(container: str) -> None:
    """SIGKILL the container's main process from the host, as a crash would end it (not
    `docker kill`, which Docker counts as a stop by hand)."""
    pid = int(docker("inspect", "-f", "{{.State.Pid}}", container))
    assert pid > 0, f"{container} is not running"
    os.kill(pid, signal.SIGKILL)


def restarted_by_policy(container: str, restarts_before: int) -> None:
    """Wait until Docker's restart policy has started `container` again."""
    deadline = time.monotonic() + CHECK_LIMIT
    state = ""
    while time.monotonic() < deadline:
        state = docker("inspect", "-f", "{{.RestartCount}} {{.State.Running}}", container)
        count, running = state.split()
        if int(count) > restarts_before and running == "true":
            return
        time.sleep(0.2)
    raise AssertionError(f"{container} was not restarted by its policy: {state}")


@contextmanager
def drift_loop(
    tmp_path: Path, github: FakeGitHub, examples: Path, **drift: float | bool
) -> Iterator[DriftLoop]:
    """The service deploying a fresh demo repository, drift checks every INTERVAL s (or as
    `drift` says); its stack destroyed afterwards."""
    suffix = uuid.uuid4().hex[:8]
    repo = DemoRepo.create(tmp_path / "repo", f"d{suffix}", f"slipway-d{suffix}", free_port())
    settings = OrchestratorSettings(
        **{
            **REAL.model_dump(),
            "drift_interval_seconds": INTERVAL,
            "drift_check_timeout_seconds": CHECK_LIMIT / 2,
            **drift,
        }
    )
    with serving(repo, tmp_path, github, examples, settings, DriftLoop) as loop:
        try:
            yield loop
        finally:
            loop.pulumi("destroy", "--yes", "--skip-preview")
            remove_project_containers(repo.project)
            docker("volume", "rm", "-f", f"{repo.project}_db-data", check=False)
