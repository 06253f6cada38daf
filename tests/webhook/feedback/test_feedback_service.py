"""The feedback service against the loopback fake GitHub: comments, statuses, outages."""

from __future__ import annotations

import logging

import pytest

from tests.support.clocks import RecordingSleep
from tests.support.engine_events import typical_preview
from tests.support.fake_github import REPO, TOKEN, FakeGitHub
from webhook.feedback.comment import comment_marker
from webhook.feedback.deployment_status import DeploymentChange
from webhook.feedback.feedback import PREVIEW_CONTEXT, FeedbackConfig, FeedbackService
from webhook.feedback.github_api import GitHubClient
from webhook.feedback.preview import PreviewReport
from webhook.feedback.preview_events import PreviewCollector
from webhook.retry_policy import RetryPolicy

SHA_A = "a" * 40
SHA_B = "b" * 40
CONFIG = FeedbackConfig(REPO, "production", "https://deploy.example.com")


@pytest.fixture
def service(github_client: GitHubClient) -> FeedbackService:
    return FeedbackService(github_client, CONFIG)


def preview(sha: str, *, failed: bool = False) -> PreviewReport:
    collector = PreviewCollector()
    for event in typical_preview():
        collector(event)
    return PreviewReport(
        stack="prod",
        repository=REPO,
        pr_number=2,
        head_sha=sha,
        changes=collector.changes,
        errors=("web: image not found",) if failed else (),
        failed=failed,
    )


def test_first_preview_creates_the_comment_and_a_second_edits_it(
    fake_github: FakeGitHub, service: FeedbackService
) -> None:
    fake_github.state.comments[1] = {"id": 1, "issue": 2, "body": "LGTM", "user": {}}
    service.preview_finished(preview(SHA_A))
    service.preview_finished(preview(SHA_B, failed=True))

    assert len(fake_github.calls("POST", r"/issues/2/comments$")) == 1
    (edit,) = fake_github.calls("PATCH")
    ours = [c for c in fake_github.state.comments.values() if c["body"] != "LGTM"]
    assert len(ours) == 1
    assert edit.path.endswith(f"/issues/comments/{ours[0]['id']}")
    assert ours[0]["body"].startswith(comment_marker("prod"))
    assert SHA_B in ours[0]["body"] and SHA_A not in ours[0]["body"]

    statuses = fake_github.state.commit_statuses
    assert [(s["sha"], s["state"], s["context"]) for s in statuses] == [
        (SHA_A, "success", PREVIEW_CONTEXT),
        (SHA_B, "failure", PREVIEW_CONTEXT),
    ]
    assert statuses[0]["description"] == "1 to create, 1 to update, 1 to replace, 1 to delete"
    assert statuses[1]["description"] == "preview failed: web: image not found"


def test_a_deleted_comment_is_posted_again(
    fake_github: FakeGitHub, service: FeedbackService
) -> None:
    service.preview_finished(preview(SHA_A))
    (comment,) = fake_github.state.comments.values()
    # Deleted meanwhile, yet still listed: its edit answers 404, so a new one is posted.
    fake_github.state.comments[comment["id"]] = {**comment, "id": 424242}
    service.preview_finished(preview(SHA_B))
    assert [c.status for c in fake_github.calls("PATCH")] == [404]
    assert len(fake_github.calls("POST", r"/issues/2/comments$")) == 2


def test_preview_started_sets_a_pending_status(
    fake_github: FakeGitHub, service: FeedbackService
) -> None:
    service.preview_started(REPO, SHA_A, "prod")
    (status,) = fake_github.state.commit_statuses
    assert (status["state"], status["context"]) == ("pending", PREVIEW_CONTEXT)


def change(deployment_id: int, sha: str, state: str, **extra) -> DeploymentChange:
    return DeploymentChange(
        deployment_id=deployment_id, stack="prod", sha=sha, state=state, **extra
    )


def test_statuses_follow_a_deployment_that_succeeds(
    fake_github: FakeGitHub, service: FeedbackService
) -> None:
    for state in ("queued", "running", "verifying", "succeeded"):
        service.deployment_changed(change(7, SHA_A, state))
    (deployment,) = fake_github.state.deployments.values()
    assert deployment["ref"] == SHA_A
    assert deployment["environment"] == "production"
    assert deployment["payload"] == {"slipway_deployment_id": 7, "stack": "prod"}
    assert fake_github.calls("POST", "/deployments$")[0].body["auto_merge"] is False
    assert fake_github.statuses_of(deployment["id"]) == [
        "queued",
        "in_progress",
        "in_progress",
        "success",
    ]
    log_urls = {s["log_url"] for s in fake_github.state.statuses[deployment["id"]]}
    assert log_urls == {"https://deploy.example.com/deployments/7/log"}


def test_a_rolled_back_deployment_ends_in_failure_naming_the_commit_it_went_back_to(
    fake_github: FakeGitHub, service: FeedbackService
) -> None:
    for state in ("running", "verifying", "succeeded"):
        service.deployment_changed(change(1, SHA_A, state))
    for state in ("running", "verifying", "failed", "rolling_back", "rolled_back"):
        service.deployment_changed(
            change(2, SHA_B, state, failure="health check /healthz: 503", rollback_to=SHA_A)
        )
    good, bad = sorted(fake_github.state.deployments)
    assert fake_github.statuses_of(good) == ["in_progress", "in_progress", "success"]
    assert fake_github.statuses_of(bad) == [
        "in_progress",
        "in_progress",
        "failure",
        "in_progress",
        "failure",
    ]
    last = fake_github.state.statuses[bad][-1]
    assert last["description"] == "rolled back to aaaaaaa after: health check /healthz: 503"


def test_a_manual_rollback_marks_the_deployment_it_replaced_inactive(
    fake_github: FakeGitHub, service: FeedbackService
) -> None:
    for state in ("running", "succeeded"):
        service.deployment_changed(change(1, SHA_A, state))
    for state in ("running", "succeeded"):
        service.deployment_changed(change(2, SHA_B, state))
    for state in ("running", "verifying", "succeeded"):
        service.deployment_changed(change(3, SHA_A, state, replaces=2))
    first, second, rollback = sorted(fake_github.state.deployments)
    assert fake_github.statuses_of(first) == ["in_progress", "success"]
    assert fake_github.statuses_of(second) == ["in_progress", "success", "inactive"]
    assert (
        "replaced by rollback to aaaaaaa (#3)"
        in fake_github.state.statuses[second][-1]["description"]
    )
    assert fake_github.statuses_of(rollback)[-1] == "success"


def test_after_a_restart_the_existing_github_deployment_is_found_by_its_payload(
    fake_github: FakeGitHub, github_client: GitHubClient
) -> None:
    FeedbackService(github_client, CONFIG).deployment_changed(change(5, SHA_A, "running"))
    restarted = FeedbackService(github_client, CONFIG)
    restarted.deployment_changed(change(5, SHA_A, "succeeded"))
    (deployment_id,) = fake_github.state.deployments
    assert fake_github.statuses_of(deployment_id) == ["in_progress", "success"]


def test_long_errors_are_clipped_to_githubs_description_limit(
    fake_github: FakeGitHub, service: FeedbackService
) -> None:
    service.deployment_changed(change(1, SHA_A, "failed", note="x" * 500))
    (statuses,) = fake_github.state.statuses.values()
    assert len(statuses[0]["description"]) == 140
    assert statuses[0]["description"].endswith("…")


def test_rate_limits_and_server_errors_are_waited_out(
    fake_github: FakeGitHub, service: FeedbackService, sleeps: RecordingSleep
) -> None:
    fake_github.fail_next(1, "rate_limit")
    fake_github.fail_next(2, "502")
    service.deployment_changed(change(1, SHA_A, "running"))
    fake_github.fail_next(1, "secondary")
    service.deployment_changed(change(1, SHA_A, "succeeded"))
    (deployment_id,) = fake_github.state.deployments
    assert fake_github.statuses_of(deployment_id) == ["in_progress", "success"]
    assert [c.status for c in fake_github.calls()].count(502) == 2
    assert len(sleeps.waits) == 4


def test_github_down_is_logged_and_never_raised(
    fake_github: FakeGitHub, caplog: pytest.LogCaptureFixture
) -> None:
    client = GitHubClient(
        TOKEN, base_url=fake_github.url, policy=RetryPolicy(attempts=2), sleep=lambda s: None
    )
    service = FeedbackService(client, CONFIG)
    fake_github.stop()
    with caplog.at_level(logging.WARNING, logger="webhook.feedback"):
        service.deployment_changed(change(1, SHA_A, "running"))
        service.preview_finished(preview(SHA_A))
    messages = [r.getMessage() for r in caplog.records if "not delivered" in r.getMessage()]
    assert len(messages) == 2
    assert "ConnectError" in messages[0]


def test_a_deployment_superseded_before_it_ran_creates_nothing_on_github(
    fake_github: FakeGitHub, service: FeedbackService
) -> None:
    service.deployment_changed(change(1, SHA_A, "superseded"))
    assert fake_github.state.deployments == {}
    service.deployment_changed(change(2, SHA_B, "queued"))
    service.deployment_changed(change(2, SHA_B, "superseded"))
    (github_id,) = fake_github.state.deployments
    assert fake_github.statuses_of(github_id) == ["queued", "inactive"]


def test_an_interrupted_deployment_is_marked_error(
    fake_github: FakeGitHub, service: FeedbackService
) -> None:
    service.deployment_changed(change(1, SHA_A, "running"))
    service.deployment_changed(change(1, SHA_A, "interrupted"))
    (github_id,) = fake_github.state.deployments
    assert fake_github.statuses_of(github_id) == ["in_progress", "error"]
