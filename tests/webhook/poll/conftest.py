"""Fixtures for the poll tests: the service polling a real git repository (`app_repo`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support.app_repo import AppRepo
from tests.support.in_process import InProcessRunner
from tests.support.orchestrator import FAST
from tests.support.polled import SECRET, TOKEN, PolledFactory, PolledService
from tests.support.service import running_service
from webhook.orchestrator import build_orchestrator
from webhook.queue import DeploymentQueue
from webhook.settings import Settings
from webhook.store import Store


@pytest.fixture
def start_polled(tmp_path: Path, app_repo: AppRepo) -> Iterator[PolledFactory]:
    """Start the service on `app_repo` with the poll every `interval` seconds; with
    `deploy=True` the real orchestrator deploys (apps served in process, in_process.py), else a
    FakeQueue."""
    cleanup = ExitStack()

    def start(interval: float, *, deploy: bool = False, **overrides: Any) -> PolledService:
        settings = Settings(
            webhook_secret=SECRET,
            api_token=TOKEN,
            repo_url=str(app_repo.path),
            branch="main",
            state_dir=tmp_path / "state",
            poll_interval_seconds=interval,
            **overrides,
        )
        queue = None
        if deploy:
            runner = InProcessRunner(tmp_path / "backend")
            cleanup.callback(runner.stop_all)

            def queue(settings: Settings, store: Store) -> DeploymentQueue:
                return build_orchestrator(settings, store, runner, FAST)

        service = cleanup.enter_context(
            running_service(settings.deploy.state_dir, settings=settings, queue=queue)
        )
        return PolledService(service.url, service.store, service.queue, service.client, app_repo)

    with cleanup:
        yield start
