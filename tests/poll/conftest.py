"""Fixtures for the poll tests: a real git repository, a real service on a loopback port."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_server import serve_on_loopback
from tests.orchestrator.apps import AppRepo, init_app_repo
from tests.orchestrator.harness import FAST
from tests.support.local_process import LocalProcessRunner
from tests.webhook.conftest import ListQueue, signed_delivery
from webhook.http.app import create_app
from webhook.orchestrator import build_orchestrator
from webhook.queue import DeploymentQueue
from webhook.settings import Settings
from webhook.store import Deployment, Store

SECRET = "poll-test-secret-0123456789"
TOKEN = "poll-test-token-0123"  # SLIPWAY_API_TOKEN: at least 16 characters
WAIT_LIMIT = 60.0  # a bound for polling loops, never asserted on


@dataclass
class PolledService:
    url: str
    store: Store
    queue: DeploymentQueue
    client: httpx.Client
    repo: AppRepo

    def push_delivered(self, sha: str) -> httpx.Response:
        """GitHub's push delivery of `sha` to main, signed."""
        payload = {"ref": "refs/heads/main", "after": sha, "pusher": {"name": "alice"}}
        return self.client.post("/hooks/github", **signed_delivery("push", payload, None, SECRET))

    def deployments_of(self, sha: str) -> list[Deployment]:
        return [d for d in self.store.list_deployments(limit=1000) if d.sha == sha]

    def wait_for_deployment(self, sha: str) -> Deployment:
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline:
            if found := self.deployments_of(sha):
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no deployment of {sha} within {WAIT_LIMIT}s")

    def poll_checks(self, result: str) -> float:
        text = self.client.get("/metrics").text
        found = re.search(rf'^slipway_poll_checks_total{{result="{result}"}} (\S+)$', text, re.M)
        return float(found[1]) if found else 0.0

    def wait_for_checks(self, result: str, count: float) -> None:
        deadline = time.monotonic() + WAIT_LIMIT
        while self.poll_checks(result) < count:
            assert time.monotonic() < deadline, f"fewer than {count} '{result}' checks"
            time.sleep(0.05)


ServiceFactory = Callable[..., PolledService]


@pytest.fixture
def app_repo(tmp_path: Path) -> AppRepo:
    return init_app_repo(tmp_path / "origin")


@pytest.fixture
def start_polled(tmp_path: Path, app_repo: AppRepo) -> Iterator[ServiceFactory]:
    """Start the service on `app_repo` with the poll every `interval` seconds; with
    `deploy=True` the real orchestrator deploys (local process runner), else a ListQueue."""
    cleanup = ExitStack()

    def start(interval: float, *, deploy: bool = False, **overrides: Any) -> PolledService:
        state_dir = tmp_path / "state"
        settings = Settings(
            webhook_secret=SECRET,
            api_token=TOKEN,
            repo_url=str(app_repo.path),
            branch="main",
            state_dir=state_dir,
            poll_interval_seconds=interval,
            **overrides,
        )
        store = Store.open(settings.database_path)
        cleanup.callback(store.close)
        queue: DeploymentQueue = ListQueue()
        if deploy:
            runner = LocalProcessRunner(tmp_path / "backend")
            cleanup.callback(runner.stop_all)
            queue = build_orchestrator(settings, store, runner, FAST)
        url = cleanup.enter_context(serve_on_loopback(create_app(settings, store, queue)))
        client = cleanup.enter_context(httpx.Client(base_url=url, timeout=30))
        return PolledService(url, store, queue, client, app_repo)

    yield start
    cleanup.close()
