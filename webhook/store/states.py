"""Deployment kinds and states (docs/architecture.md#deployment-states-and-who-moves-them)
and the allowed transitions."""

from __future__ import annotations

from enum import StrEnum


class DeploymentKind(StrEnum):
    DEPLOY = "deploy"
    PREVIEW = "preview"
    ROLLBACK = "rollback"


class DeploymentState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    VERIFYING = "verifying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"
    ROLLBACK_FAILED = "rollback_failed"
    SUPERSEDED = "superseded"
    INTERRUPTED = "interrupted"


S = DeploymentState

TRANSITIONS: dict[DeploymentState, frozenset[DeploymentState]] = {
    S.QUEUED: frozenset({S.RUNNING, S.SUPERSEDED, S.FAILED, S.INTERRUPTED}),
    S.RUNNING: frozenset({S.VERIFYING, S.SUCCEEDED, S.FAILED, S.INTERRUPTED}),
    S.VERIFYING: frozenset({S.SUCCEEDED, S.FAILED, S.INTERRUPTED}),
    S.FAILED: frozenset({S.ROLLING_BACK}),
    S.ROLLING_BACK: frozenset({S.ROLLED_BACK, S.ROLLBACK_FAILED, S.INTERRUPTED}),
    S.SUCCEEDED: frozenset(),
    S.ROLLED_BACK: frozenset(),
    S.ROLLBACK_FAILED: frozenset(),
    S.SUPERSEDED: frozenset(),
    S.INTERRUPTED: frozenset({S.FAILED}),
}
"""Which state may follow which. RUNNING → SUCCEEDED is for previews (nothing to verify);
INTERRUPTED → FAILED when the recovery at the next start failed (the note says why)."""

ACTIVE_STATES = frozenset({S.RUNNING, S.VERIFYING, S.ROLLING_BACK})
"""States that mean work was in progress: found at startup, they become INTERRUPTED."""

FINAL_STATES = frozenset(state for state, following in TRANSITIONS.items() if not following) | {
    S.FAILED,
    S.INTERRUPTED,
}
"""States after which no more work is expected (FAILED may still be rolled back, INTERRUPTED
become FAILED when its recovery fails)."""


class InvalidTransition(ValueError):
    """A state change that the state machine does not allow."""


def check_transition(current: DeploymentState, new: DeploymentState) -> None:
    """Raise InvalidTransition unless `current → new` is allowed."""
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none (final state)"
        raise InvalidTransition(f"cannot go from {current} to {new}; allowed: {allowed}")
