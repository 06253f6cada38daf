"""The REST client against the loopback fake: auth, pagination, rate limits, 5xx, outages."""

from __future__ import annotations

import pytest

from tests.support.clocks import RecordingSleep
from tests.support.fake_github import REPO, FakeGitHub
from webhook.feedback.github_api import GitHubClient, GitHubError
from webhook.retry_policy import RetryPolicy


def test_sends_the_token_and_api_version(fake_github: FakeGitHub, github_client) -> None:
    created = github_client.create_issue_comment(REPO, 1, "hello")
    assert created["body"] == "hello"
    (call,) = fake_github.calls("POST")
    assert call.headers["authorization"].startswith("Bearer ghs_")
    assert call.headers["x-github-api-version"] == "2022-11-28"
    assert call.headers["accept"] == "application/vnd.github+json"


def test_a_wrong_token_is_a_final_401(fake_github: FakeGitHub) -> None:
    client = GitHubClient("wrong", base_url=fake_github.url, sleep=lambda s: None)
    with pytest.raises(GitHubError, match=r"401.*Bad credentials") as caught:
        client.create_issue_comment(REPO, 1, "hello")
    assert caught.value.status == 401
    assert len(fake_github.calls()) == 1


def test_lists_follow_link_pagination(fake_github: FakeGitHub, github_client) -> None:
    fake_github.state.page_size = 2
    for n in range(5):
        github_client.create_issue_comment(REPO, 7, f"comment {n}")
    bodies = [c["body"] for c in github_client.list_issue_comments(REPO, 7)]
    assert bodies == [f"comment {n}" for n in range(5)]
    assert len(fake_github.calls("GET")) == 3


@pytest.mark.parametrize(
    ("kind", "expected_wait"),
    [("rate_limit", (2.0, 3.5)), ("secondary", (3.0, 3.0)), ("429", (1.0, 1.0))],
)
def test_rate_limits_are_waited_out_then_retried(
    fake_github: FakeGitHub,
    github_client: GitHubClient,
    sleeps: RecordingSleep,
    kind: str,
    expected_wait: tuple[float, float],
) -> None:
    fake_github.fail_next(2, kind)
    created = github_client.create_issue_comment(REPO, 1, "after the limit")
    assert created["body"] == "after the limit"
    assert [c.status for c in fake_github.calls("POST")] == [
        fake_github.calls()[0].status,
        fake_github.calls()[0].status,
        201,
    ]
    assert fake_github.calls()[0].status in (403, 429)
    assert len(sleeps.waits) == 2
    low, high = expected_wait
    assert all(low <= wait <= high for wait in sleeps.waits), sleeps.waits


def test_server_errors_are_retried_with_backoff(
    fake_github: FakeGitHub, github_client: GitHubClient, sleeps: RecordingSleep
) -> None:
    fake_github.fail_next(3, "502")
    github_client.create_commit_status(REPO, "a" * 40, state="success", context="x")
    assert [c.status for c in fake_github.calls()] == [502, 502, 502, 201]
    assert sleeps.waits == [0.5, 1.0, 2.0]


def test_retries_are_bounded(
    fake_github: FakeGitHub, github_client: GitHubClient, sleeps: RecordingSleep
) -> None:
    fake_github.fail_next(10, "502")
    with pytest.raises(GitHubError, match="gave up after 4 attempts"):
        github_client.create_issue_comment(REPO, 1, "never")
    assert len(fake_github.calls()) == 4
    assert len(sleeps.waits) == 3


def test_github_going_away_between_two_calls_ends_in_github_error(
    fake_github: FakeGitHub, github_client
) -> None:
    github_client.create_issue_comment(REPO, 1, "answered")  # leaves a kept-alive connection
    fake_github.stop()
    with pytest.raises(GitHubError):
        github_client.create_issue_comment(REPO, 1, "nobody listens")
    assert [c["body"] for c in fake_github.state.comments.values()] == ["answered"]


def test_an_unreachable_github_ends_in_github_error(fake_github: FakeGitHub) -> None:
    fake_github.stop()
    waits: list[float] = []
    client = GitHubClient(
        "t", base_url=fake_github.url, policy=RetryPolicy(attempts=2), sleep=waits.append
    )
    with pytest.raises(GitHubError, match="ConnectError"):
        client.create_issue_comment(REPO, 1, "nobody listens")
    assert waits == [1.0]
