"""The note of a failed `up` names the Swarm service that failed, first (up_failure.py)."""

from __future__ import annotations

from webhook.feedback.deployment_status import DeploymentChange, status_for
from webhook.orchestrator.up_failure import swarm_failure, up_failure_note
from webhook.runners.base import RunnerError

# What the engine reports when the program's converge wait raised (shape of a real run).
ENGINE_OUTPUT = """code: 255
stdout: Updating (s1a2b3c4):
 ~  docker:index/service:Service s1a2b3c4-api updated (34s)
    pulumi:pulumi:Stack slipway-s1a2b3c4 running error: Program failed with an unhandled exception:
    Traceback (most recent call last):
      File "components/swarm_stack/converge.py", line 90, in wait_converged
    components.swarm_stack.converge.ConvergeError: service slipway-s1a2b3c4_api: Swarm \
rolled it back (update rolled back due to failure or early termination of task 5yq1)
stderr: """


def test_the_failing_service_and_swarms_reason_come_first() -> None:
    note = up_failure_note(RunnerError(ENGINE_OUTPUT))
    expected = (
        "service slipway-s1a2b3c4_api failed: Swarm rolled it back (update rolled back due "
        "to failure or early termination of task 5yq1)"
    )
    assert note.startswith(f"{expected}; up failed: code: 255")
    status = status_for(
        DeploymentChange(1, "prod", "b" * 40, "rolled_back", failure=note, rollback_to="a" * 40)
    )
    assert status is not None and status.state == "failure"
    assert status.description == f"rolled back to aaaaaaa after: {expected}"[:139] + "…"


def test_a_deadline_names_the_service_and_the_task_error() -> None:
    text = (
        "ConvergeError: service p_worker: 0/2 tasks running w:2: not converged within 180 s; "
        "a task failed: No such image: w:2\nstderr: "
    )
    assert swarm_failure(text) == (
        "service p_worker failed: 0/2 tasks running w:2: not converged within 180 s; "
        "a task failed: No such image: w:2"
    )


def test_other_failures_keep_their_note() -> None:
    assert up_failure_note(RunnerError("app exited with code 3")) == (
        "up failed: app exited with code 3"
    )
    assert swarm_failure("a service p_api: 1/1 tasks running") is None
