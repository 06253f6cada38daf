"""Fixtures: a GitHub client pointed at the fake GitHub that records its waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.clocks import RecordingSleep
from tests.support.fake_github import TOKEN, FakeGitHub
from webhook.feedback.github_api import GitHubClient
from webhook.retry_policy import RetryPolicy


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def github_client(fake_github: FakeGitHub, sleeps: RecordingSleep) -> Iterator[GitHubClient]:
    client = GitHubClient(
        TOKEN,
        base_url=fake_github.url,
        policy=RetryPolicy(attempts=4, backoff_first=0.5),
        timeout=5.0,
        sleep=sleeps,
    )
    yield client
    client.close()
