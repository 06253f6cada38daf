"""A release whose container crashes at start is rolled back at once, not at the health
checks' deadline (webhook/orchestrator/release_watch.py), on the real parts."""

from __future__ import annotations

import pytest

from tests.support.deploy_loop import Loop
from webhook.store.states import DeploymentState

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]
S = DeploymentState


def test_a_release_that_crashes_at_start_ends_the_wait_and_rolls_back(loop: Loop) -> None:
    good = loop.wait(loop.push(loop.repo.healthy("r1")))
    assert good.state == S.SUCCEEDED, "\n".join(loop.log(good.id))

    bad = loop.wait(
        loop.push(loop.repo.crashing("bad")), S.ROLLED_BACK, S.ROLLBACK_FAILED, S.FAILED
    )
    log = "\n".join(loop.log(bad.id))
    assert bad.state == S.ROLLED_BACK, log
    web = f"{loop.repo.project}-web-1"
    assert f"health: FAIL container {web} exited with code 3" in log, log
    failed = [c.note for c in loop.service.store.state_history(bad.id) if c.state == S.FAILED]
    assert failed and "before the deadline" in failed[0], failed
    assert "deadline of" not in failed[0], "the wait ran to its deadline"
    assert loop.release() == "ok release=r1"
