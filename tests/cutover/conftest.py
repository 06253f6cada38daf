"""A routed demo stack deployed by the real service (see tests/e2e/test_deploy_loop.py), and
a traffic thread that counts which release answers the proxy."""

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

import httpx

from tests.cutover.routed_repo import RoutedRepo, TurningRepo
from tests.e2e.test_deploy_loop import REAL, Loop
from tests.feedback.conftest import REPO, TOKEN, fake_github  # noqa: F401
from tests.feedback.fake_github import FakeGitHub
from tests.feedback.live_service import live_service
from tests.real_stack import free_port, pulumi_env, remove_project_containers
from webhook.orchestrator import OrchestratorSettings
from webhook.runners.automation import AutomationRunner

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
    env = pulumi_env(tmp_path / "backend")
    settings = OrchestratorSettings(**{**REAL.model_dump(), **watch})
    with live_service(
        repo=repo.path,
        state_dir=tmp_path / "state",
        runner=AutomationRunner(env_vars=env),
        github_url=github.url,
        token=TOKEN,
        repository=REPO,
        stack=repo.stack,
        config=settings,
    ) as service:
        loop = Loop(repo, service, {**os.environ, **env}, github, examples)
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
