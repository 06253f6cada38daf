"""The real service for end-to-end tests: uvicorn on a loopback port, the orchestrator with
the given runner (local process or the real Automation API), GitHub feedback pointed at the
fake GitHub."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.live_server import serve_on_loopback
from tests.orchestrator.harness import FAST, WAIT_LIMIT
from webhook.feedback.feedback import FeedbackConfig, FeedbackService
from webhook.feedback.github_api import GitHubClient
from webhook.feedback.retry_policy import RetryPolicy
from webhook.feedback.wiring import GitHubFeedback
from webhook.http.app import create_app
from webhook.http.signature import sign
from webhook.orchestrator import Orchestrator, OrchestratorSettings, build_orchestrator
from webhook.runners.base import StackRunner
from webhook.settings import Settings
from webhook.store import Store

SECRET = "live-service-secret-0123456789"
API_TOKEN = "live-service-api-token"


@dataclass
class Spy:
    """Wraps a callable and records each call's positional arguments."""

    wrapped: Callable[..., Any]
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(args)
        return self.wrapped(*args, **kwargs)


@dataclass
class LiveService:
    url: str
    store: Store
    orchestrator: Orchestrator
    feedback: GitHubFeedback
    worktree_spy: Spy
    open_spy: Spy

    def deliver(self, event: str, payload: dict[str, Any]) -> httpx.Response:
        """POST a signed delivery to /hooks/github, as GitHub does."""
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(SECRET.encode(), body),
        }
        return httpx.post(f"{self.url}/hooks/github", content=body, headers=headers, timeout=10)

    def settle(self) -> None:
        """Wait until the orchestrator is idle and every feedback call was made."""
        deadline = time.monotonic() + WAIT_LIMIT
        while self.orchestrator.depth() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.orchestrator.depth() == 0, "orchestrator still busy after the wait limit"
        assert self.feedback.drain(timeout=WAIT_LIMIT), "feedback still busy after the wait limit"


@contextmanager
def live_service(
    *,
    repo: Path,
    state_dir: Path,
    runner: StackRunner,
    github_url: str,
    token: str,
    repository: str,
    stack: str = "dev",
    config: OrchestratorSettings = FAST,
) -> Iterator[LiveService]:
    settings = Settings(
        webhook_secret=SECRET,
        repo_url=str(repo),
        state_dir=state_dir,
        stack=stack,
        branch="main",
        api_token=API_TOKEN,
        # Deliveries drive these tests (the poll has its own, tests/poll): a poll between a
        # test's commit and its delivery would queue the push first and answer it `duplicate`.
        poll_interval_seconds=0,
    )
    store = Store.open(settings.database_path)
    client = GitHubClient(
        token, base_url=github_url, policy=RetryPolicy(backoff_base=0.05), sleep=time.sleep
    )
    feedback = GitHubFeedback(
        FeedbackService(client, FeedbackConfig(repository, stack, "http://slipway.test")),
        store=store,
    )
    orchestrator = build_orchestrator(settings, store, runner, config, observer=feedback)
    mirror = orchestrator.pipeline.mirror
    worktree_spy = Spy(mirror.worktree)
    mirror.worktree = worktree_spy  # type: ignore[method-assign]
    open_spy = Spy(runner.open)
    runner.open = open_spy  # type: ignore[method-assign]
    try:
        with serve_on_loopback(create_app(settings, store, orchestrator)) as url:
            yield LiveService(url, store, orchestrator, feedback, worktree_spy, open_spy)
    finally:
        feedback.close()
        store.close()
