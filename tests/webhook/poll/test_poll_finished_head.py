"""The poll never deploys again a head that a finished deployment deployed (issue 34 item 14).

The dedupe tests only had deployments still `queued`; a query that looked at waiting
deployments alone passed them all, and the poll would then deploy the branch head again
at every interval once its deployment had ended (succeeded, failed or rolled back).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.clocks import run_coroutine
from webhook.dedupe import MISSED_REASON
from webhook.store import NewDeployment, Store
from webhook.store.states import DeploymentKind, DeploymentState

S = DeploymentState
SHA = "0123456789abcdef0123456789abcdef01234567"
REF = "refs/heads/main"
ENDINGS = {
    "succeeded": [S.RUNNING, S.VERIFYING, S.SUCCEEDED],
    "failed": [S.RUNNING, S.FAILED],
    "rolled back": [S.RUNNING, S.VERIFYING, S.FAILED, S.ROLLING_BACK, S.ROLLED_BACK],
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_a_head_whose_deployment_finished_is_not_queued_again(tmp_path: Path, ending) -> None:
    with Store.open(tmp_path / "db") as store:
        push = NewDeployment(DeploymentKind.DEPLOY, "dev", SHA, REF, "push to main by alice")
        deployment = store.record_delivery("gh-1", "push", deployment=push)
        deployment_id = store.list_deployments()[0].id
        for state in ENDINGS[ending]:
            store.set_state(deployment_id, state, "test")
        assert store.list_deployments()[0].state == ENDINGS[ending][-1], deployment
        polled = run_coroutine(store.queue_missed_commit_async("dev", SHA, REF, MISSED_REASON))
        assert polled is None, f"the poll queued {SHA[:7]} again after it {ending}"
        assert len(store.list_deployments()) == 1
