"""`kill -9` of the real service (and everything it started) during a real `pulumi up`.

The service runs as `python -m webhook serve` in a process group of its own; the kill takes
the whole group, as systemd or Docker do when they stop a unit: the service, the stack
process, the Pulumi CLI and the provider. What the CLI left is real: its lock file (with
the backend's `.attrs` sidecar) and the pending operation of the resource it was creating.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.demo_repo import DemoRepo
from tests.support.ports import free_port
from tests.support.real_stack import pulumi_env, remove_project_containers
from tests.support.service import AUTH, ServeProcess

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]
LIMIT = 300.0  # a bound for the waits below, never asserted on


class Service(ServeProcess):
    """The real service deploying `repo`, in a process group of its own."""

    def __init__(self, repo: DemoRepo, state_dir: Path, env: dict[str, str]) -> None:
        settings = {
            **env,
            "SLIPWAY_REPO_URL": str(repo.path),
            "SLIPWAY_STACK": repo.stack,
            "SLIPWAY_BRANCH": "main",
            "SLIPWAY_POLL_INTERVAL_SECONDS": "0",
            "SLIPWAY_HEALTH_INTERVAL_SECONDS": "0.5",
            "SLIPWAY_HEALTH_CONSECUTIVE_PASSES": "2",
            "SLIPWAY_HEALTH_DEADLINE_SECONDS": "20",
        }
        super().__init__(state_dir, free_port(), settings=settings, own_group=True,
                         startup_limit=60)  # fmt: skip

    def deploy(self, sha: str) -> int:
        answer = httpx.post(f"{self.url}/deployments", json={"sha": sha}, headers=AUTH, timeout=10)
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    def get(self, deployment_id: int) -> dict:
        return httpx.get(f"{self.url}/deployments/{deployment_id}", headers=AUTH, timeout=10).json()

    def log_lines(self, deployment_id: int) -> list[str]:
        answer = httpx.get(f"{self.url}/deployments/{deployment_id}/log", headers=AUTH, timeout=10)
        return [line["line"] for line in answer.json()["lines"]]

    def wait(self, deployment_id: int, *states: str) -> dict:
        deadline = time.monotonic() + LIMIT
        while time.monotonic() < deadline:
            found = self.get(deployment_id)
            if found["state"] in states:
                return found
            time.sleep(0.3)
        raise AssertionError(
            f"{deployment_id} never reached {states}: {self.log_lines(deployment_id)}"
        )

    def kill_group(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def _pending_in(checkpoint: Path) -> bool:
    try:
        state = json.loads(checkpoint.read_text())
    except (OSError, ValueError):  # not written yet, or caught mid-write
        return False
    return bool((state.get("checkpoint", {}).get("latest") or {}).get("pending_operations"))


def pending_operations(repo: DemoRepo, env: dict[str, str]) -> list:
    exported = subprocess.run(
        ["pulumi", "stack", "export", "--stack", repo.stack],
        cwd=repo.path, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
        check=True,
    )  # fmt: skip
    return json.loads(exported.stdout)["deployment"].get("pending_operations") or []


def test_kill_9_during_up_then_restart_recovers_the_stack(tmp_path: Path) -> None:
    suffix = uuid.uuid4().hex[:8]
    repo = DemoRepo.create(tmp_path / "repo", f"k{suffix}", f"slipway-k{suffix}", free_port())
    env = pulumi_env(tmp_path / "backend")
    locks = tmp_path / "backend" / ".pulumi" / "locks"
    state_dir = tmp_path / "state"
    service = Service(repo, state_dir, env)
    try:
        first = service.wait(service.deploy(repo.healthy("r1")), "succeeded", "failed")
        assert first["state"] == "succeeded", service.log_lines(first["id"])

        slow = service.deploy(repo.slow("r2", 60))
        # Kill while the engine is inside a step: its checkpoint names a pending operation.
        checkpoint = tmp_path / "backend" / ".pulumi" / "stacks" / "slipway" / f"{repo.stack}.json"
        deadline = time.monotonic() + LIMIT
        while not _pending_in(checkpoint) and time.monotonic() < deadline:
            time.sleep(0.2)
        service.kill_group()

        left = sorted(p.name for p in locks.rglob("*") if p.is_file())
        assert any(name.endswith(".json") for name in left), left
        assert any(name.endswith(".json.attrs") for name in left), left
        assert pending_operations(repo, env), "the killed up left no pending operation"

        service = Service(repo, state_dir, env)
        interrupted = service.get(slow)
        assert interrupted["state"] == "interrupted"
        lines = service.log_lines(slow)
        assert any("removed stale lock" in line for line in lines), "\n".join(lines)
        assert any("cleared" in line and "pending operation" in line for line in lines), lines
        assert [p for p in locks.rglob("*") if p.is_file()] == []
        assert pending_operations(repo, env) == []

        after = service.wait(service.deploy(repo.healthy("r3")), "succeeded", "failed")
        assert after["state"] == "succeeded", service.log_lines(after["id"])
        assert httpx.get(repo.health_url, timeout=5).text.strip() == "ok release=r3"
    finally:
        service.stop()
        subprocess.run(
            ["pulumi", "destroy", "--yes", "--skip-preview", "--stack", repo.stack],
            cwd=repo.path, env={**os.environ, **env}, capture_output=True, timeout=600,
            check=False,
        )  # fmt: skip
        remove_project_containers(repo.project)
