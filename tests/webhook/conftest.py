"""Fixtures for the webhook service: real uvicorn on a loopback port, real GitHub payloads."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.live_server import serve_on_loopback
from webhook.http.app import create_app
from webhook.http.signature import sign
from webhook.queue import DeploymentQueue, QueueUnavailable
from webhook.settings import Settings
from webhook.store import Store

T = TypeVar("T")
SECRET = "test-secret-0123456789abcdef"
TOKEN = "test-api-token-abcdef"
BRANCH = "master"  # the branch of the octokit push examples


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on a private event loop. Unlike asyncio.run, this leaves the main
    thread's current loop alone (other suites, e.g. Pulumi mocks, rely on it)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


@dataclass
class ListQueue:
    """A queue that remembers what it was given (and can be told to refuse)."""

    submitted: list[int] = field(default_factory=list)
    refuse: bool = False
    started: bool = False

    def start(self) -> None:
        self.started = True

    def submit(self, deployment_id: int) -> None:
        if self.refuse:
            raise QueueUnavailable("refusing on purpose (test)")
        self.submitted.append(deployment_id)

    def depth(self) -> int:
        return len(self.submitted)

    def stop(self, timeout: float = 10.0) -> None:
        self.started = False


@dataclass
class Service:
    """A running service: its base URL, settings, store and queue, plus request helpers."""

    url: str
    settings: Settings
    store: Store
    queue: DeploymentQueue
    client: httpx.Client

    def deliver(
        self,
        event: str,
        payload: dict[str, Any] | bytes,
        *,
        delivery: str | None = None,
        secret: str = SECRET,
        headers: dict[str, str] | None = None,
        form: bool = False,
    ) -> httpx.Response:
        """POST a signed delivery the way GitHub does."""
        return self.client.post(
            "/hooks/github", **signed_delivery(event, payload, delivery, secret, headers, form)
        )

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {TOKEN}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


def signed_delivery(
    event: str,
    payload: dict[str, Any] | bytes,
    delivery: str | None = None,
    secret: str = SECRET,
    headers: dict[str, str] | None = None,
    form: bool = False,
) -> dict[str, Any]:
    """httpx request arguments for a signed GitHub delivery."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if form:
        raw = httpx.QueryParams({"payload": raw.decode()}).__str__().encode()
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    all_headers = {
        "Content-Type": content_type,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret.encode(), raw),
        "User-Agent": "GitHub-Hookshot/test",
        **(headers or {}),
    }
    return {"content": raw, "headers": all_headers}


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


def make_settings(state_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "webhook_secret": SECRET,
        "api_token": TOKEN,
        "branch": BRANCH,
        "stack": "dev",
        "state_dir": state_dir,
        **overrides,
    }
    return Settings(**values)


ServiceFactory = Callable[..., Service]


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[ServiceFactory]:
    """Start a service (real uvicorn, loopback) with settings overrides; stopped after."""
    stack: list[tuple[Store, httpx.Client]] = []
    servers = ExitStack()

    def start(queue: DeploymentQueue | None = None, **overrides: Any) -> Service:
        state_dir = tmp_path / f"state{len(stack)}"
        settings = make_settings(state_dir, **overrides)
        store = Store.open(settings.database_path)
        queue = queue if queue is not None else ListQueue()
        url = servers.enter_context(serve_on_loopback(create_app(settings, store, queue)))
        client = httpx.Client(base_url=url, timeout=30)
        stack.append((store, client))
        return Service(url, settings, store, queue, client)

    yield start
    for _, client in stack:
        client.close()
    servers.close()
    for store, _ in stack:
        store.close()


@pytest.fixture
def service(start_service: ServiceFactory) -> Service:
    """A running service with default test settings and a ListQueue."""
    return start_service()
