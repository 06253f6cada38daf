"""A running orchestrator on a temporary state dir, a local test runner and a real repo."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.local_process import LocalProcessRunner
from webhook.orchestrator import (
    DeploymentObserver,
    Orchestrator,
    OrchestratorSettings,
    build_orchestrator,
)
from webhook.settings import Settings
from webhook.store import Deployment, NewDeployment, Store
from webhook.store.states import DeploymentKind, DeploymentState

FAST = OrchestratorSettings(
    health_interval_seconds=0.02,
    health_consecutive_passes=2,
    health_deadline_seconds=2.0,  # generous: a loaded machine must not fail a healthy app
    lock_retry_attempts=40,
    lock_retry_initial_seconds=0.02,
    lock_retry_max_seconds=0.1,
    shutdown_grace_seconds=30,
)
WAIT_LIMIT = 60.0  # a bound for polling loops, never asserted on


def make_orchestrator(
    repo: Path,
    state_dir: Path,
    runner: LocalProcessRunner,
    config: OrchestratorSettings = FAST,
    observer: DeploymentObserver | None = None,
) -> tuple[Store, Orchestrator]:
    store = Store.open(state_dir / "slipway.db")
    settings = Settings(webhook_secret="s" * 32, repo_url=str(repo), state_dir=state_dir)
    return store, build_orchestrator(settings, store, runner, config, observer)


@dataclass
class Harness:
    store: Store
    orchestrator: Orchestrator
    runner: LocalProcessRunner
    stack: str = "dev"

    def request(self, sha: str, kind: DeploymentKind = DeploymentKind.DEPLOY, **extra) -> int:
        """Record a deployment request and hand it over, as the HTTP service does."""
        new = NewDeployment(kind=kind, stack=self.stack, sha=sha, **extra)
        deployment = self.store.create_deployment(new)
        self.orchestrator.submit(deployment.id)
        return deployment.id

    def wait_idle(self) -> None:
        deadline = time.monotonic() + WAIT_LIMIT
        while self.orchestrator.depth() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.orchestrator.depth() == 0, "orchestrator still busy after the wait limit"

    def wait_for(self, deployment_id: int, *states: DeploymentState) -> Deployment:
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline:
            deployment = self.store.get_deployment(deployment_id)
            if deployment.state in states:
                return deployment
            time.sleep(0.01)
        raise AssertionError(f"deployment {deployment_id} never reached {states}")

    def wait_for_log(self, deployment_id: int, text: str) -> None:
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline:
            if any(text in line for line in self.log(deployment_id)):
                return
            time.sleep(0.01)
        raise AssertionError(f"deployment {deployment_id} never logged {text!r}")

    def get(self, deployment_id: int) -> Deployment:
        return self.store.get_deployment(deployment_id)

    def states(self, deployment_id: int) -> list[str]:
        return [str(change.state) for change in self.store.state_history(deployment_id)]

    def log(self, deployment_id: int) -> list[str]:
        return [line.line for line in self.store.read_log(deployment_id, limit=100_000)]

    def serving(self) -> str:
        """What the stack's app answers now (the label of the deployed commit)."""
        outputs = self.runner.open(self.stack, Path(".")).outputs()
        return httpx.get(outputs["url"], timeout=5).text

    def healthy_tag(self) -> str | None:
        return self.runner.open(self.stack, Path(".")).tags().get("slipway:healthy-sha")
