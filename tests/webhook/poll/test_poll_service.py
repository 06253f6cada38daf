"""The poll in the running service, against a real git repository on disk."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from tests.support.polled import WAIT_LIMIT, PolledFactory
from webhook.dedupe import MISSED_REASON
from webhook.store.states import DeploymentState


def _wait_state(service, deployment_id: int, state: DeploymentState) -> None:
    deadline = time.monotonic() + WAIT_LIMIT
    while service.store.get_deployment(deployment_id).state != state:
        assert time.monotonic() < deadline, f"deployment {deployment_id} never {state}"
        time.sleep(0.02)


def test_a_push_whose_delivery_was_dropped_deploys_within_one_interval(
    start_polled: PolledFactory,
):
    interval = 1.5
    service = start_polled(interval, deploy=True)
    delivered = service.repo.commit_app("one")
    first = service.push_delivered(delivered)
    assert first.status_code == 202
    _wait_state(service, first.json()["id"], DeploymentState.SUCCEEDED)

    pushed_at = time.time()
    dropped = service.repo.commit_app("two")  # pushed; its delivery never arrives
    deployment = service.wait_for_deployment(dropped)
    queued_after = datetime.fromisoformat(deployment.created_at).timestamp() - pushed_at
    assert queued_after <= interval + 0.5, f"queued {queued_after:.2f}s after the push"
    assert deployment.reason == MISSED_REASON
    _wait_state(service, deployment.id, DeploymentState.SUCCEEDED)
    assert service.poll_checks("missed") == 1
    assert service.deployments_of(delivered)[0].reason == "push to main by alice"


def test_a_delivered_push_is_not_deployed_again_by_the_poll(start_polled: PolledFactory):
    service = start_polled(0.2)
    for attempt in range(5):  # on a loaded machine the poll may see a commit first: next one
        sha = service.repo.commit_app(f"one-{attempt}")
        delivered = service.push_delivered(sha)
        if delivered.status_code == 202:
            break
        assert delivered.json()["duplicate"] is True, delivered.text
    assert delivered.status_code == 202, "the poll saw each of 5 commits before its delivery"
    seen = service.poll_checks("seen")
    service.wait_for_checks("seen", seen + 3)  # three checks saw the head
    assert len(service.deployments_of(sha)) == 1
    assert service.poll_checks("missed") == 0


def test_a_late_delivery_of_a_polled_push_is_not_deployed_again(start_polled: PolledFactory):
    service = start_polled(0.2)
    sha = service.repo.commit_app("one")
    polled = service.wait_for_deployment(sha)
    late = service.push_delivered(sha)
    assert late.status_code == 200 and late.json()["duplicate"] is True
    assert late.json()["id"] == polled.id
    service.wait_for_checks("seen", 2)
    assert [d.id for d in service.deployments_of(sha)] == [polled.id]
    assert service.queue.submitted == [polled.id]


@pytest.mark.parametrize(("interval", "git_runs"), [(0, False), (0.1, True)])
def test_poll_off_means_no_git_traffic(
    start_polled: PolledFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    interval: float,
    git_runs: bool,
):
    """GIT_TRACE makes every git process of this test write to a file; with the poll on
    the same setup does write there, so the silence with it off means something."""
    trace = tmp_path / "git-trace"
    service = start_polled(interval)
    service.repo.commit_app("one")
    monkeypatch.setenv("GIT_TRACE", str(trace))
    time.sleep(1.0)
    traced = trace.read_text() if trace.exists() else ""
    assert ("ls-remote" in traced) is git_runs
    if not git_runs:
        assert traced == "" and service.store.list_deployments() == []
        assert "slipway_poll_checks" not in service.client.get("/metrics").text
