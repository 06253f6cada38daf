"""Fixtures shared by several test folders (a pytest plugin, registered in tests/conftest.py):
the running service, real GitHub payloads, the fake GitHub, a git repository of test apps
and the local runners."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.support.app_repo import AppRepo, init_app_repo
from tests.support.fake_github import TOKEN as GITHUB_TOKEN
from tests.support.fake_github import FakeGitHub
from tests.support.in_process import InProcessRunner
from tests.support.local_process import LocalProcessRunner
from tests.support.service import BRANCH, Service, ServiceFactory, running_service
from webhook.queue import DeploymentQueue


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[ServiceFactory]:
    """Start a service (real uvicorn, loopback) with settings overrides; stopped after."""
    services = ExitStack()
    started = 0

    def start(queue: DeploymentQueue | None = None, **overrides: Any) -> Service:
        nonlocal started
        state_dir = tmp_path / f"state{started}"
        started += 1
        return services.enter_context(running_service(state_dir, queue=queue, **overrides))

    with services:
        yield start


@pytest.fixture
def service(start_service: ServiceFactory) -> Service:
    """A running service with default test settings and a FakeQueue."""
    return start_service()


@pytest.fixture(scope="session")
def github_examples(octokit_examples_dir: Path) -> dict[str, list[dict[str, Any]]]:
    """Real payloads by event name, from @octokit/webhooks-examples."""
    events = json.loads((octokit_examples_dir / "index.json").read_text())
    return {event["name"]: event["examples"] for event in events}


@pytest.fixture(scope="session")
def push_example(github_examples: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """A real push to refs/heads/master."""
    return next(p for p in github_examples["push"] if p["ref"] == f"refs/heads/{BRANCH}")


@pytest.fixture(scope="session")
def pr_examples(github_examples: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """One real pull_request payload per action."""
    found: dict[str, dict[str, Any]] = {}
    for example in github_examples["pull_request"]:
        found.setdefault(example["action"], example)
    return found


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """The loopback fake GitHub, answering GITHUB_TOKEN."""
    with FakeGitHub(GITHUB_TOKEN) as server:
        yield server


@pytest.fixture
def app_repo(tmp_path: Path) -> AppRepo:
    """A real git repository of test apps (tests/support/app_repo.py)."""
    return init_app_repo(tmp_path / "origin")


@pytest.fixture
def local_runner(tmp_path: Path) -> Iterator[InProcessRunner]:
    """The local runner whose apps are threads of this process (tests/support/in_process.py):
    the orchestrator's state machine in seconds. Every app it started is stopped afterwards."""
    runner = InProcessRunner(tmp_path / "backend")
    yield runner
    runner.stop_all()


@pytest.fixture
def process_runner(tmp_path: Path) -> Iterator[LocalProcessRunner]:
    """The local process runner: each commit's app a real process (tests/support/
    local_process.py), for what needs one. Every app it started is stopped afterwards."""
    runner = LocalProcessRunner(tmp_path / "backend")
    yield runner
    runner.stop_all()
