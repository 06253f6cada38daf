"""Poll a deployment until it reaches a final state, printing each change of state.

Final: a state with no way out in `webhook.store.states.TRANSITIONS` (succeeded, rolled_back,
rollback_failed, superseded, interrupted), and `failed`: the service records a failure it
rolls back as `failed` and `rolling_back` in one commit (webhook/orchestrator/journal.py), so
a `failed` that a reader sees is the last word. A deployment superseded by a newer one for the
same commit (a second request for it, say) is followed to that one. The deployment's log
lines are printed as they come, so the Actions log shows what the server did. A service that
stops answering for a while (a restart) does not end the wait; only the deadline does.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from deploy_client.api import ApiError, DeployApi, Deployment
from deploy_client.retrying import GaveUp
from webhook.store.states import TRANSITIONS, DeploymentState

TERMINAL_STATES = frozenset(
    str(state) for state, following in TRANSITIONS.items() if not following
) | {
    str(DeploymentState.INTERRUPTED),  # only its recovery at the next start may mark it failed
    str(DeploymentState.FAILED),  # never readable on its way to rolling_back (see above)
}
SUCCEEDED = str(DeploymentState.SUCCEEDED)
SUPERSEDED = str(DeploymentState.SUPERSEDED)


class WaitTimeout(Exception):
    """No final state before the deadline; the message gives the last state seen."""


@dataclass(frozen=True)
class WaitPolicy:
    timeout: float = 1200.0
    poll_interval: float = 3.0


def wait_for_final(
    api: DeployApi,
    deployment: Deployment,
    policy: WaitPolicy,
    report: Callable[[str], None],
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Deployment:
    """Return the deployment in its final state; raise WaitTimeout at the deadline (the
    whole timeout is waited: the last poll falls on the deadline itself)."""
    start = clock()
    deadline = start + policy.timeout
    last_state = ""
    current = deployment
    log = _LogFollower(api, report)
    while True:
        if current.state != last_state:
            report(f"deployment {current.id}: {current.state} (after {clock() - start:.0f} s)")
            last_state = current.state
        log.follow(current.id)
        if current.state == SUPERSEDED:
            successor = _same_commit_successor(api, current)
            if successor is None:
                return current
            report(
                f"deployment {current.id} was superseded by {successor.id} for the same "
                "commit; following that one"
            )
            current, last_state = successor, ""
            continue
        if current.state in TERMINAL_STATES:
            return current
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(
                f"deployment {current.id} is still {current.state!r} after "
                f"{policy.timeout:g} s; it keeps going on the server: follow it with "
                f"GET /deployments/{current.id}"
            )
        sleep(min(policy.poll_interval, remaining))  # the last poll is at the deadline
        try:
            current = api.get_deployment(current.id)
        except GaveUp as error:
            # The service may be restarting (it can be part of the stack it deploys): the
            # deployment goes on without us, so keep asking until the deadline.
            report(f"{error}; still waiting for deployment {current.id}")


class _LogFollower:
    """Prints a deployment's new log lines; a log that cannot be read is skipped, not fatal."""

    def __init__(self, api: DeployApi, report: Callable[[str], None]) -> None:
        self.api = api
        self.report = report
        self.after: dict[int, int] = {}

    def follow(self, deployment_id: int) -> None:
        try:
            lines, last = self.api.read_log(deployment_id, self.after.get(deployment_id, 0))
        except (ApiError, GaveUp) as error:
            self.report(f"(log of deployment {deployment_id} not readable: {error})")
            return
        self.after[deployment_id] = last
        for line in lines:
            self.report(f"  | {line}")


def _same_commit_successor(api: DeployApi, superseded: Deployment) -> Deployment | None:
    if not superseded.sha:
        return None
    newer = [
        d
        for d in api.list_deployments()
        if d.id > superseded.id and d.sha == superseded.sha and d.kind in ("", superseded.kind)
    ]
    return min(newer, key=lambda d: d.id) if newer else None
