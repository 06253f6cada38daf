"""The whole path: signed deliveries → service → orchestrator → fake GitHub.

Real parts: uvicorn on a loopback port, the orchestrator with the local runner (each
commit's app served on loopback from a thread, tests/support/in_process.py), git worktrees
of a real repository, SQLite, and the `pull_request`/`push` payloads of
@octokit/webhooks-examples (adjusted to this repository's commits). GitHub is the loopback
fake.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.app_repo import AppRepo
from tests.support.fake_github import REPO, TOKEN, FakeGitHub
from tests.support.in_process import InProcessRunner
from tests.support.live_service import API_TOKEN, LiveService, live_service
from tests.support.payloads import pull_request, push
from webhook.feedback.comment import comment_marker
from webhook.feedback.feedback import PREVIEW_CONTEXT
from webhook.retry_policy import RetryPolicy
from webhook.store.states import DeploymentKind, DeploymentState

STACK = "dev"


@pytest.fixture
def service(
    tmp_path: Path, app_repo: AppRepo, local_runner: InProcessRunner, fake_github: FakeGitHub
) -> Iterator[LiveService]:
    with live_service(
        repo=app_repo.path,
        state_dir=tmp_path / "state",
        runner=local_runner,
        github_url=fake_github.url,
        token=TOKEN,
        repository=REPO,
        stack=STACK,
        github_retry=RetryPolicy(backoff_first=0.005),  # an outage's retries: 0.08 s a call
    ) as running:
        yield running


def deployments_of(service: LiveService, kind: DeploymentKind) -> list:
    return [d for d in service.store.list_deployments(limit=100) if d.kind == kind]


def test_first_preview_creates_the_comment_and_the_next_push_edits_it(
    service: LiveService, app_repo: AppRepo, fake_github: FakeGitHub, octokit_examples_dir: Path
) -> None:
    first = app_repo.commit_app("feature-1")
    answer = service.deliver("pull_request", pull_request(octokit_examples_dir, "opened", first))
    assert answer.status_code == 202, answer.text
    service.settle()

    (comment,) = fake_github.state.comments.values()
    assert comment["issue"] == 2
    assert comment["body"].startswith(comment_marker(STACK))
    assert first in comment["body"]
    assert "local:app" in comment["body"]  # the change the local runner's preview reported

    second = app_repo.commit_app("feature-2")
    payload = pull_request(octokit_examples_dir, "synchronize", second)
    assert service.deliver("pull_request", payload).status_code == 202
    service.settle()

    assert len(fake_github.calls("POST", r"/issues/2/comments$")) == 1
    assert len(fake_github.calls("PATCH", rf"/issues/comments/{comment['id']}$")) == 1
    (edited,) = fake_github.state.comments.values()
    assert second in edited["body"] and first not in edited["body"]
    statuses = [(s["sha"], s["state"]) for s in fake_github.state.commit_statuses]
    assert statuses == [
        (first, "pending"),
        (first, "success"),
        (second, "pending"),
        (second, "success"),
    ]
    assert {s["context"] for s in fake_github.state.commit_statuses} == {PREVIEW_CONTEXT}
    assert [call[0] for call in service.worktree_spy.calls] == [first, second]
    assert fake_github.state.deployments == {}  # previews are not GitHub Deployments


@pytest.mark.parametrize(
    ("label", "changes"),
    [
        ("fork", {"head_repo": {"full_name": "attacker/Hello-World", "fork": True}}),
        ("deleted fork", {"head_repo": None}),
        ("contributor", {"author_association": "CONTRIBUTOR"}),
        ("first-time contributor", {"author_association": "FIRST_TIME_CONTRIBUTOR"}),
        ("nobody", {"author_association": "NONE"}),
    ],
)
def test_a_fork_or_an_untrusted_author_is_never_checked_out(
    service: LiveService,
    app_repo: AppRepo,
    fake_github: FakeGitHub,
    octokit_examples_dir: Path,
    label: str,
    changes: dict[str, Any],
) -> None:
    sha = app_repo.commit_app(f"untrusted {label}")
    for action in ("opened", "synchronize"):
        payload = pull_request(octokit_examples_dir, action, sha, **changes)
        answer = service.deliver("pull_request", payload)
        assert answer.status_code == 200, answer.text
        assert answer.json()["status"] == "ignored"
    service.settle()
    assert service.worktree_spy.calls == []
    assert service.open_spy.calls == []
    assert deployments_of(service, DeploymentKind.PREVIEW) == []
    assert fake_github.calls() == []

    # The control: the same commit from a trusted author in the same repository is previewed.
    trusted = pull_request(octokit_examples_dir, "opened", sha)
    assert service.deliver("pull_request", trusted).status_code == 202
    service.settle()
    assert [call[0] for call in service.worktree_spy.calls] == [sha]


def test_statuses_follow_each_deployment_including_rollbacks(
    service: LiveService, app_repo: AppRepo, fake_github: FakeGitHub, octokit_examples_dir: Path
) -> None:
    good = app_repo.commit_app("v1")
    assert service.deliver("push", push(octokit_examples_dir, good)).status_code == 202
    service.settle()
    bad = app_repo.commit_app("v2", health=503)
    assert service.deliver("push", push(octokit_examples_dir, bad)).status_code == 202
    service.settle()

    first, second = deployments_of(service, DeploymentKind.DEPLOY)[::-1]
    assert service.store.get_deployment(first.id).state == DeploymentState.SUCCEEDED
    assert service.store.get_deployment(second.id).state == DeploymentState.ROLLED_BACK
    by_sha = {d["sha"]: d["id"] for d in fake_github.state.deployments.values()}
    assert fake_github.statuses_of(by_sha[good]) == ["in_progress", "in_progress", "success"]
    assert fake_github.statuses_of(by_sha[bad]) == [
        "in_progress",
        "in_progress",
        "failure",
        "in_progress",
        "failure",
    ]
    last = fake_github.state.statuses[by_sha[bad]][-1]
    assert last["description"].startswith(f"rolled back to {good[:7]} after: ")
    assert last["log_url"] == f"http://slipway.test/deployments/{second.id}/log"


def test_a_rollback_by_hand_marks_the_replaced_deployment_inactive(
    service: LiveService, app_repo: AppRepo, fake_github: FakeGitHub, octokit_examples_dir: Path
) -> None:
    v1 = app_repo.commit_app("v1")
    service.deliver("push", push(octokit_examples_dir, v1))
    service.settle()
    v2 = app_repo.commit_app("v2")
    service.deliver("push", push(octokit_examples_dir, v2))
    service.settle()
    (latest, _) = deployments_of(service, DeploymentKind.DEPLOY)
    answer = httpx.post(
        f"{service.url}/deployments/{latest.id}/rollback",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    service.settle()
    github = sorted(fake_github.state.deployments.values(), key=lambda d: d["id"])
    assert [d["sha"] for d in github] == [v1, v2, v1]
    assert fake_github.statuses_of(github[1]["id"])[-1] == "inactive"
    assert fake_github.statuses_of(github[2]["id"])[-1] == "success"
    assert fake_github.statuses_of(github[0]["id"])[-1] == "success"


def test_rate_limits_and_server_errors_are_waited_out_through_the_service(
    service: LiveService, app_repo: AppRepo, fake_github: FakeGitHub, octokit_examples_dir: Path
) -> None:
    fake_github.fail_next(1, "429")
    fake_github.fail_next(2, "502")
    sha = app_repo.commit_app("v1")
    service.deliver("push", push(octokit_examples_dir, sha))
    service.settle()
    (github_id,) = fake_github.state.deployments
    assert fake_github.statuses_of(github_id) == ["in_progress", "in_progress", "success"]
    assert [c.status for c in fake_github.calls()][:4] == [429, 502, 502, 201]


@pytest.mark.parametrize("outage", ["unreachable", "502 throughout"])
def test_github_down_does_not_change_the_deployments_outcome(
    service: LiveService,
    app_repo: AppRepo,
    fake_github: FakeGitHub,
    octokit_examples_dir: Path,
    caplog: pytest.LogCaptureFixture,
    outage: str,
) -> None:
    if outage == "unreachable":
        fake_github.stop()
    else:
        fake_github.fail_next(10_000, "502")
    good = app_repo.commit_app("v1")
    bad = app_repo.commit_app("v2", health=503)
    with caplog.at_level(logging.WARNING, logger="webhook.feedback"):
        for sha in (good, bad):
            service.deliver("push", push(octokit_examples_dir, sha))
            service.settle()
        preview_sha = app_repo.commit_app("feature")
        service.deliver("pull_request", pull_request(octokit_examples_dir, "opened", preview_sha))
        service.settle()
    states = {d.sha: d.state for d in service.store.list_deployments(limit=10)}
    assert states == {
        good: DeploymentState.SUCCEEDED,
        bad: DeploymentState.ROLLED_BACK,
        preview_sha: DeploymentState.SUCCEEDED,
    }
    assert "not delivered" in caplog.text
