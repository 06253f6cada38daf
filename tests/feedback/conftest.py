"""Fixtures: the loopback fake GitHub and a client pointed at it that records its waits."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.feedback.fake_github import FakeGitHub

# The orchestrator suite's real git repository and local process runner, for end-to-end tests.
from tests.orchestrator.conftest import app_repo, local_runner  # noqa: F401
from webhook.feedback.github_api import GitHubClient
from webhook.feedback.retry_policy import RetryPolicy

TOKEN = "ghs_fake_installation_token"
REPO = "Codertocat/Hello-World"


class RecordingSleep:
    """Records each wait the client asks for and sleeps a short real time instead.

    The waits GitHub asks for (Retry-After, X-RateLimit-Reset) are asserted from the
    record; sleeping them in full would only make the suite slow.
    """

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(min(seconds, 0.01))


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    with FakeGitHub(TOKEN) as server:
        yield server


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def github_client(fake_github: FakeGitHub, sleeps: RecordingSleep) -> Iterator[GitHubClient]:
    client = GitHubClient(
        TOKEN,
        base_url=fake_github.url,
        policy=RetryPolicy(max_attempts=4, backoff_base=0.5),
        timeout=5.0,
        sleep=sleeps,
    )
    yield client
    client.close()
