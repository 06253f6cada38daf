"""The deploy loop on the real parts (tests/e2e, tests/webhook/cutover, benches): the service with
the Automation API runner deploying a demo repository, GitHub the loopback fake; a routed
variant behind the Caddy proxy, and a traffic thread that counts which release answers."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.demo_repo import DemoRepo
from tests.support.fake_github import REPO, TOKEN, FakeGitHub
from tests.support.live_service import LiveService, live_service
from tests.support.payloads import push
from tests.support.ports import free_port
from tests.support.real_stack import docker_inspect, pulumi_env, remove_project_containers
from tests.support.routed_repo import RoutedRepo, TurningRepo
from webhook.orchestrator import OrchestratorSettings
from webhook.runners.automation import AutomationRunner
from webhook.store import Deployment
from webhook.store.states import DeploymentState

S = DeploymentState
FINAL = (S.SUCCEEDED, S.FAILED, S.ROLLED_BACK, S.ROLLBACK_FAILED, S.SUPERSEDED, S.INTERRUPTED)
REAL = OrchestratorSettings(
    health_interval_seconds=0.5,
    health_consecutive_passes=2,
    health_deadline_seconds=20.0,
    lock_retry_attempts=3,
    lock_retry_initial_seconds=1.0,
    lock_retry_max_seconds=2.0,
    shutdown_grace_seconds=60.0,
)
DEPLOY_LIMIT = 300.0  # a bound for the waits below (a build + up + rollback), never asserted on


@dataclass
class Loop:
    repo: DemoRepo
    service: LiveService
    env: dict[str, str]
    github: FakeGitHub
    examples: Path

    def push(self, sha: str) -> int:
        answer = self.service.deliver("push", push(self.examples, sha))
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    def wait(self, deployment_id: int, *states: S) -> Deployment:
        deadline = time.monotonic() + DEPLOY_LIMIT
        while time.monotonic() < deadline:
            found = self.service.store.get_deployment(deployment_id)
            if found.state in (states or FINAL):
                return found
            time.sleep(0.2)
        log = "\n".join(self.log(deployment_id)[-30:])
        raise AssertionError(f"deployment {deployment_id} never reached {states}:\n{log}")

    def wait_log(self, deployment_id: int, text: str) -> str:
        deadline = time.monotonic() + DEPLOY_LIMIT
        while time.monotonic() < deadline:
            found = [line for line in self.log(deployment_id) if text in line]
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"deployment {deployment_id} never logged {text!r}")

    def log(self, deployment_id: int) -> list[str]:
        return [line.line for line in self.service.store.read_log(deployment_id, limit=10_000)]

    def release(self) -> str:
        """Which release answers the health URL now."""
        return httpx.get(self.repo.health_url, timeout=5).text.strip()

    def web_id(self) -> str:
        return docker_inspect("{{.Id}}", f"{self.repo.project}-web-1")

    def pulumi(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["pulumi", *args, "--stack", self.repo.stack, "--non-interactive"],
            cwd=self.repo.path, env=self.env, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip


@contextmanager
def serving(
    repo: Any,
    tmp_path: Path,
    github: FakeGitHub,
    examples: Path,
    config: OrchestratorSettings = REAL,
    loop_class: type[Loop] = Loop,
) -> Iterator[Loop]:
    """The service deploying `repo` with the real runner on a file backend under `tmp_path`
    (the loop; its stack and containers are the caller's to clean up)."""
    env = pulumi_env(tmp_path / "backend")
    with live_service(
        repo=repo.path,
        state_dir=tmp_path / "state",
        runner=AutomationRunner(env_vars=env),
        github_url=github.url,
        token=TOKEN,
        repository=REPO,
        stack=repo.stack,
        config=config,
    ) as service:
        yield loop_class(repo, service, {**os.environ, **env}, github, examples)


@contextmanager
def demo_loop(tmp_path: Path, github: FakeGitHub, examples: Path) -> Iterator[Loop]:
    """The service deploying a fresh demo repository; its stack destroyed afterwards."""
    suffix = uuid.uuid4().hex[:8]
    repo = DemoRepo.create(tmp_path / "repo", f"e{suffix}", f"slipway-e{suffix}", free_port())
    with serving(repo, tmp_path, github, examples) as loop:
        try:
            yield loop
        finally:
            loop.pulumi("destroy", "--yes", "--skip-preview")
            remove_project_containers(repo.project)


TRAFFIC_LIMIT = 600  # seconds: a bound for the traffic thread, never reached by a passing test


@contextmanager
def routed_loop(
    tmp_path: Path,
    github: FakeGitHub,
    examples: Path,
    repo_class: type[TurningRepo] = RoutedRepo,
    **watch: float,
) -> Iterator[Loop]:
    """The service deploying a routed repository (or `repo_class`) with the settings `watch`."""
    suffix = uuid.uuid4().hex[:8]
    repo = repo_class.create(tmp_path / "repo", f"c{suffix}", f"slipway-c{suffix}", free_port())
    settings = OrchestratorSettings(**{**REAL.model_dump(), **watch})
    with serving(repo, tmp_path, github, examples, settings) as loop:
        try:
            yield loop
        finally:
            clean_up(loop)


def clean_up(loop: Loop) -> None:
    """Proxy and retained releases first (they hold the network), then the stack."""
    remove_project_containers(loop.repo.project)
    loop.pulumi("destroy", "--yes", "--skip-preview", "--refresh")
    remove_project_containers(loop.repo.project)
    for kind in ("network", "volume"):
        listed = subprocess.run(
            ["docker", kind, "ls", "-q", "--filter", f"name={loop.repo.project}"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        if listed.stdout.split():
            subprocess.run(["docker", kind, "rm", *listed.stdout.split()],
                           capture_output=True, timeout=60, check=False)  # fmt: skip


@dataclass
class Traffic:
    """GETs `url` every `period` seconds from a thread: answers per body, and failures."""

    url: str
    period: float = 0.05
    answers: Counter = field(default_factory=Counter)
    failures: list[tuple[float, str]] = field(default_factory=list)
    times: list[tuple[float, str]] = field(default_factory=list)  # (when, body or failure)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Traffic:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=10)

    def _run(self) -> None:
        end = time.monotonic() + TRAFFIC_LIMIT
        # A new connection per request: what is counted is where the proxy routed each one,
        # not the keep-alive race of a config reload (bench/bench_cutover.py measures that).
        no_keepalive = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(timeout=5, limits=no_keepalive) as client:
            while not self._stop.is_set() and time.monotonic() < end:
                now = time.monotonic()
                try:
                    answer = client.get(self.url)
                    body = answer.text.strip()
                    if answer.status_code == 200:
                        self.answers[body] += 1
                    else:
                        self.failures.append((now, f"{answer.status_code} {body}"))
                    self.times.append((now, body))
                except httpx.HTTPError as error:
                    self.failures.append((now, f"{type(error).__name__}: {error}"))
                    self.times.append((now, "error"))
                self._stop.wait(self.period)

    def by_release(self) -> Counter:
        """Answers counted by release name (`ok release=r1` → r1), failures included."""
        counted: Counter = Counter()
        for body, n in self.answers.items():
            counted[body.rsplit("release=", 1)[-1]] += n
        for _, failure in self.failures:
            if "release=" in failure:
                counted[failure.rsplit("release=", 1)[-1]] += 1
        return counted
