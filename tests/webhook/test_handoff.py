"""The one hand-off (webhook/queue.py `hand_off`): a deployment the queue refuses is marked
`failed` with its delivery, so the same request is taken again later. The hook's 503 is in
test_service.py; these cover the API's and the poll's."""

from __future__ import annotations

from pathlib import Path

from tests.support.clocks import run_coroutine
from tests.support.queue_double import FakeQueue
from tests.support.service import ServiceFactory
from webhook.dedupe import MISSED_REASON
from webhook.queue import hand_off
from webhook.store import DeliveryStatus, Store
from webhook.store.states import DeploymentState

SHA = "0123456789abcdef0123456789abcdef01234567"
REF = "refs/heads/main"


def test_a_refused_api_deploy_answers_503_and_its_key_can_be_used_again(
    start_service: ServiceFactory,
) -> None:
    queue = FakeQueue(refuse=True)
    service = start_service(queue=queue)
    key = {"Idempotency-Key": "ci-run-1"}
    refused = service.api("POST", "/deployments", json={"sha": SHA}, headers=key)
    assert refused.status_code == 503, refused.text
    assert "queue refused the deployment" in refused.json()["detail"]
    (failed,) = service.store.list_deployments()
    assert failed.state is DeploymentState.FAILED
    assert service.store.get_delivery("api:ci-run-1").status == DeliveryStatus.FAILED

    queue.refuse = False
    again = service.api("POST", "/deployments", json={"sha": SHA}, headers=key)
    assert again.status_code == 202, again.text
    assert again.json()["id"] != failed.id
    assert queue.submitted == [again.json()["id"]]


def test_a_commit_the_poll_could_not_hand_off_is_queued_at_the_next_check(
    tmp_path: Path,
) -> None:
    queue = FakeQueue(refuse=True)
    with Store.open(tmp_path / "db") as store:

        async def check():  # what the poll does after `git ls-remote`
            deployment = await store.queue_missed_commit_async("dev", SHA, REF, MISSED_REASON)
            if deployment is None:
                return None, None
            return deployment, await hand_off(store, queue, deployment, deployment.delivery_id)

        first, refused = run_coroutine(check())
        assert first is not None and refused is not None
        assert refused.startswith("queue refused the deployment")
        assert store.get_deployment(first.id).state is DeploymentState.FAILED
        queue.refuse = False
        second, taken = run_coroutine(check())
        assert second is not None and second.id != first.id and taken is None
        assert queue.submitted == [second.id]
