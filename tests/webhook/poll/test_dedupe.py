"""One dedupe for both paths: a commit is queued once, whichever path sees it first."""

from __future__ import annotations

from pathlib import Path

from tests.support.clocks import run_coroutine
from webhook.dedupe import MISSED_REASON
from webhook.store import DeliveryStatus, NewDeployment, Store
from webhook.store.states import DeploymentKind

SHA = "0123456789abcdef0123456789abcdef01234567"
REF = "refs/heads/main"


def _push(sha: str = SHA) -> NewDeployment:
    return NewDeployment(DeploymentKind.DEPLOY, "dev", sha, REF, "push to main by alice")


def _poll(store: Store, sha: str = SHA, stack: str = "dev"):
    return run_coroutine(store.queue_missed_commit_async(stack, sha, REF, MISSED_REASON))


def test_poll_skips_a_commit_a_delivery_queued(tmp_path: Path):
    with Store.open(tmp_path / "db") as store:
        store.record_delivery("gh-1", "push", deployment=_push())
        assert _poll(store) is None
        assert len(store.list_deployments()) == 1


def test_poll_skips_a_commit_the_api_queued_by_abbreviated_sha(tmp_path: Path):
    with Store.open(tmp_path / "db") as store:
        store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", SHA[:10]))
        assert _poll(store) is None


def test_poll_queues_a_commit_only_once(tmp_path: Path):
    with Store.open(tmp_path / "db") as store:
        first = _poll(store)
        assert first is not None and first.reason == MISSED_REASON
        assert _poll(store) is None
        assert [d.id for d in store.list_deployments()] == [first.id]


def test_the_same_commit_on_another_stack_is_another_deployment(tmp_path: Path):
    with Store.open(tmp_path / "db") as store:
        store.record_delivery("gh-1", "push", deployment=_push())
        assert _poll(store, stack="prod") is not None


def test_late_delivery_of_a_polled_commit_is_a_duplicate(tmp_path: Path):
    with Store.open(tmp_path / "db") as store:
        polled = _poll(store)
        outcome = store.record_delivery("gh-late", "push", deployment=_push())
        assert outcome.duplicate and outcome.deployment is not None
        assert outcome.deployment.id == polled.id
        assert len(store.list_deployments()) == 1
        delivery = store.get_delivery("gh-late")
        assert delivery.deployment_id == polled.id and "poll" in delivery.detail
        # and a redelivery of that delivery id is an ordinary duplicate
        assert store.record_delivery("gh-late", "push", deployment=_push()).duplicate


def test_a_poll_hand_off_that_failed_is_tried_again(tmp_path: Path):
    with Store.open(tmp_path / "db") as store:
        first = _poll(store)
        store.fail_handoff(first.id, first.delivery_id, "queue refused (test)")
        assert store.get_delivery(first.delivery_id).status == DeliveryStatus.FAILED
        again = _poll(store)
        assert again is not None and again.id != first.id
        assert _poll(store) is None


def test_a_delivery_whose_hand_off_failed_does_not_hide_the_commit(tmp_path: Path):
    with Store.open(tmp_path / "db") as store:
        outcome = store.record_delivery("gh-1", "push", deployment=_push())
        store.fail_handoff(outcome.deployment.id, "gh-1", "queue refused (test)")
        assert _poll(store) is not None


def test_other_commits_and_previews_are_not_duplicates(tmp_path: Path):
    with Store.open(tmp_path / "db") as store:
        _poll(store)
        other = store.record_delivery("gh-2", "push", deployment=_push("f" * 40))
        assert not other.duplicate
        preview = NewDeployment(DeploymentKind.PREVIEW, "dev", SHA, "feature", "pr", pr_number=3)
        assert not store.record_delivery("gh-3", "pull_request", deployment=preview).duplicate
