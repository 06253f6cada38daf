"""Recovery touches a stack only when the interrupted job was its last operation, and
breaks only locks of processes that are gone."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from webhook.orchestrator.recovery import stacks_to_recover
from webhook.runners.locks import _is_zombie, process_alive
from webhook.store import NewDeployment, Store
from webhook.store.states import DeploymentKind, DeploymentState

S = DeploymentState


def _ran(store: Store, stack: str, *states: S) -> int:
    deployment = store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, stack, "a" * 40))
    for state in states:
        store.set_state(deployment.id, state)
    return deployment.id


def test_a_later_finished_deployment_keeps_recovery_off_the_stack(tmp_path: Path) -> None:
    with Store.open(tmp_path / "slipway.db") as store:
        _ran(store, "web", S.RUNNING)
        _ran(store, "api", S.RUNNING)
        store.mark_interrupted()  # both stacks' jobs were cut off by a stop
        _ran(store, "web", S.RUNNING, S.VERIFYING, S.SUCCEEDED)  # web deployed again since
        found = stacks_to_recover(store)
    # Clearing web's pending operations now would drop those of the later deployment's
    # state; only api, whose last operation is the interrupted one, is recovered.
    assert sorted(found) == ["api"]


def test_a_later_job_that_never_ran_does_not_count(tmp_path: Path) -> None:
    with Store.open(tmp_path / "slipway.db") as store:
        interrupted = _ran(store, "web", S.RUNNING)
        store.mark_interrupted()
        _ran(store, "web", S.SUPERSEDED)  # replaced in the queue: it never touched the stack
        found = stacks_to_recover(store)
    assert {stack: d.id for stack, d in found.items()} == {"web": interrupted}


def test_a_killed_but_unreaped_process_holds_no_lock() -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert process_alive(child.pid)
        child.kill()
        deadline = time.monotonic() + 10
        while not _is_zombie(child.pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _is_zombie(child.pid)  # dead, but not reaped yet: still has a pid
        assert not process_alive(child.pid)
    finally:
        child.wait(5)
    assert not process_alive(child.pid)
