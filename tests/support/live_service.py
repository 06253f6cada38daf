"""The real service for end-to-end tests: uvicorn on a loopback port, the orchestrator with
the given runner (local process or the real Automation API), GitHub feedback pointed at the
fake GitHub."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.orchestrator import FAST, WAIT_LIMIT
from tests.support.service import running_service, signed_delivery
from webhook.feedback.feedback import FeedbackConfig, FeedbackService
from webhook.feedback.github_api import GitHubClient
from webhook.feedback.wiring import GitHubFeedback
from webhook.orchestrator import Orchestrator, OrchestratorSettings, build_orchestrator
from webhook.retry_policy import RetryPolicy
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
        signed = signed_delivery(event, payload, secret=SECRET)
        return httpx.post(f"{self.url}/hooks/github", **signed, timeout=10)

    def settle(self) -> None:
        """Wait until the orchestrator is idle and every feedback call was made."""
        deadline = time.monotonic() + WAIT_LIMIT
        while self.orchestrator.depth() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.orchestrator.depth() == 0, "orchestrator still busy after the wait limit"
        assert self.feedback.drain(timeout=WAIT_LIMIT), "feedback still busy after the wait limit"


GITHUB_RETRY = RetryPolicy(backoff_first=0.05)  # the feedback client's retries: quick waits


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
    github_retry: RetryPolicy = GITHUB_RETRY,
) -> Iterator[LiveService]:
    settings = Settings(
        webhook_secret=SECRET,
        repo_url=str(repo),
        state_dir=state_dir,
        stack=stack,
        branch="main",
        api_token=API_TOKEN,
        # Deliveries drive these tests (the poll has its own, tests/webhook/poll): a poll between a
        # test's commit and its delivery would queue the push first and answer it `duplicate`.
        poll_interval_seconds=0,
    )
    client = GitHubClient(token, base_url=github_url, policy=github_retry, sleep=time.sleep)
    built: dict[str, Any] = {}

    def orchestrate(settings: Settings, store: Store) -> Orchestrator:
        """The orchestrator with GitHub feedback as its observer, and spies on its checkouts
        and stack openings."""
        feedback = GitHubFeedback(
            FeedbackService(client, FeedbackConfig(repository, stack, "http://slipway.test")),
            store=store,
        )
        orchestrator = build_orchestrator(settings, store, runner, config, observer=feedback)
        mirror = orchestrator.pipeline.mirror
        built["worktree_spy"] = Spy(mirror.worktree)
        mirror.worktree = built["worktree_spy"]  # type: ignore[method-assign]
        built["open_spy"] = Spy(runner.open)
        runner.open = built["open_spy"]  # type: ignore[method-assign]
        built["feedback"] = feedback
        return orchestrator

    # Feedback is closed once the service has stopped, before its store is.
    with running_service(
        state_dir, settings=settings, queue=orchestrate, on_stop=lambda: built["feedback"].close()
    ) as service:
        yield LiveService(
            service.url,
            service.store,
            service.queue,  # type: ignore[arg-type]
            built["feedback"],
            built["worktree_spy"],
            built["open_spy"],
        )
