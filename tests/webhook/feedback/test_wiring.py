"""From stored deployments to GitHub, off the deployment's thread; switched off without a token."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_github import REPO, TOKEN, FakeGitHub
from webhook.feedback.feedback import PREVIEW_CONTEXT
from webhook.feedback.wiring import (
    GitHubFeedback,
    build_feedback,
    feedback_from_settings,
)
from webhook.settings import Settings, repository_from_url
from webhook.store import NewDeployment, Store
from webhook.store.states import DeploymentKind, DeploymentState

SHA = "c" * 40
S = DeploymentState


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "slipway.db") as opened:
        yield opened


@pytest.fixture
def feedback(fake_github: FakeGitHub) -> Iterator[GitHubFeedback]:
    built = build_feedback(
        token=TOKEN,
        repository=REPO,
        environment="prod",
        api_url=fake_github.url,
        public_url="https://deploy.example.com/",
    )
    assert built is not None
    yield built
    built.close()


@pytest.mark.parametrize(
    ("url", "repo"),
    [
        ("https://github.com/Codertocat/Hello-World.git", "Codertocat/Hello-World"),
        ("https://github.com/Codertocat/Hello-World", "Codertocat/Hello-World"),
        ("git@github.com:octo-org/my.app.git", "octo-org/my.app"),
        ("ssh://git@github.com/octo-org/app.git", "octo-org/app"),
        ("/srv/git/app.git", None),
        ("", None),
    ],
)
def test_repository_from_url(url: str, repo: str | None) -> None:
    assert repository_from_url(url) == repo


def test_without_a_token_feedback_is_off_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="webhook.feedback"):
        built = build_feedback(token=None, repository=REPO, environment="prod")
    assert built is None
    assert "GitHub feedback is off: SLIPWAY_GITHUB_TOKEN is not set" in caplog.text


def test_without_a_repository_feedback_is_off_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="webhook.feedback"):
        assert build_feedback(token=TOKEN, repository=None, environment="prod") is None
    assert "SLIPWAY_GITHUB_REPOSITORY" in caplog.text


def test_stored_state_changes_become_deployment_statuses(
    fake_github: FakeGitHub, feedback: GitHubFeedback, store: Store
) -> None:
    deployment = store.create_deployment(
        NewDeployment(kind=DeploymentKind.DEPLOY, stack="prod", sha=SHA, ref="refs/heads/main")
    )
    feedback.state_changed(deployment)
    for state, note in [(S.RUNNING, ""), (S.VERIFYING, ""), (S.FAILED, "web: 503")]:
        feedback.state_changed(store.set_state(deployment.id, state, note), note)
    assert feedback.drain(timeout=30)
    (github_id,) = fake_github.state.deployments
    assert fake_github.statuses_of(github_id) == ["queued", "in_progress", "in_progress", "failure"]
    last = fake_github.state.statuses[github_id][-1]
    assert last["description"] == "failed: web: 503"
    assert last["log_url"] == f"https://deploy.example.com/deployments/{deployment.id}/log"


def test_a_preview_run_sets_a_pending_status_and_no_deployment(
    fake_github: FakeGitHub, feedback: GitHubFeedback, store: Store
) -> None:
    preview = store.create_deployment(
        NewDeployment(
            kind=DeploymentKind.PREVIEW,
            stack="prod",
            sha=SHA,
            ref="feature",
            pr_number=2,
            head_repo=REPO,
        )
    )
    feedback.state_changed(preview)
    feedback.state_changed(store.set_state(preview.id, S.RUNNING))
    assert feedback.drain(timeout=30)
    assert fake_github.state.deployments == {}
    (status,) = fake_github.state.commit_statuses
    assert (status["sha"], status["state"], status["context"]) == (SHA, "pending", PREVIEW_CONTEXT)


def test_settings_switch_feedback_on_with_the_repository_from_the_repo_url(
    fake_github: FakeGitHub, store: Store
) -> None:
    settings = Settings(
        webhook_secret="s" * 32,
        github_token=TOKEN,
        repo_url=f"https://github.com/{REPO}.git",
        stack="prod",
        github_api_url=fake_github.url,
        public_url="https://deploy.example.com/",
    )
    feedback = feedback_from_settings(settings)
    assert feedback is not None
    try:
        deployment = store.create_deployment(
            NewDeployment(kind=DeploymentKind.DEPLOY, stack="prod", sha=SHA)
        )
        feedback.state_changed(store.set_state(deployment.id, S.RUNNING))
        assert feedback.drain(timeout=30)
    finally:
        feedback.close()
    (call,) = fake_github.calls("POST", f"^/repos/{REPO}/deployments$")
    assert call.body["environment"] == "prod"


def test_settings_without_a_token_switch_feedback_off(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="webhook.feedback"):
        assert feedback_from_settings(Settings(webhook_secret="s" * 32)) is None
    assert "GitHub feedback is off" in caplog.text


def test_an_interrupted_preview_does_not_stay_pending(
    fake_github: FakeGitHub, feedback: GitHubFeedback, store: Store
) -> None:
    preview = store.create_deployment(
        NewDeployment(
            kind=DeploymentKind.PREVIEW, stack="prod", sha=SHA, pr_number=2, head_repo=REPO
        )
    )
    feedback.state_changed(store.set_state(preview.id, S.RUNNING))
    stopped = store.set_state(preview.id, S.INTERRUPTED, "the service stopped")
    feedback.state_changed(stopped, "the service stopped")
    assert feedback.drain(timeout=30)
    assert [s["state"] for s in fake_github.state.commit_statuses] == ["pending", "failure"]
    (comment,) = fake_github.state.comments.values()
    assert "interrupted: the service stopped" in comment["body"]
