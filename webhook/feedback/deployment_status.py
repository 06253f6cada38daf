"""Which GitHub deployment status a Slipway deployment state becomes (pure, no I/O).

Slipway states (docs/architecture.md, "Deployment states and who moves them"): queued →
running → verifying → succeeded, or → failed → rolling_back → rolled_back | rollback_failed;
superseded; interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass

#: GitHub refuses deployment and commit status descriptions longer than this.
DESCRIPTION_LIMIT = 140


@dataclass(frozen=True)
class DeploymentChange:
    """A Slipway deployment that moved to `state`: what the feedback service is told.

    `note` is the orchestrator's note on this state; `failure` the note of the
    deployment's `failed` state (what went wrong), kept for the rollback states after it;
    `rollback_to` is the commit a failed deployment is (being) rolled back to;
    `replaces` is the deployment a manual rollback takes the place of.
    """

    deployment_id: int
    stack: str
    sha: str
    state: str
    ref: str | None = None
    note: str | None = None
    failure: str | None = None
    rollback_to: str | None = None
    replaces: int | None = None


@dataclass(frozen=True)
class GitHubStatus:
    state: str
    description: str


def short_sha(sha: str | None) -> str:
    return (sha or "?")[:7]


def clip(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """One line of at most `limit` characters, with an ellipsis when cut."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _with(text: str, detail: str | None, joiner: str = ": ") -> str:
    return f"{text}{joiner}{detail}" if detail else text


def status_for(change: DeploymentChange) -> GitHubStatus | None:
    """The deployment status to post for `change`; None for a state GitHub need not see."""
    target = short_sha(change.rollback_to) if change.rollback_to else "the last good commit"
    table = {
        "queued": ("queued", f"queued for {change.stack}"),
        "running": ("in_progress", f"deploying {short_sha(change.sha)} to {change.stack}"),
        "verifying": ("in_progress", "deployed; running health checks"),
        "succeeded": ("success", "deployed and healthy"),
        "failed": ("failure", _with("failed", change.note)),
        "rolling_back": (
            "in_progress",
            _with(f"rolling back to {target}", change.failure, " after: "),
        ),
        "rolled_back": ("failure", _with(f"rolled back to {target}", change.failure, " after: ")),
        "rollback_failed": ("error", change.note or f"rollback to {target} failed"),
        "superseded": ("inactive", "superseded by a newer commit before it ran"),
        "interrupted": ("error", "interrupted: the service stopped during the deployment"),
    }
    if change.state not in table:
        return None
    state, description = table[change.state]
    return GitHubStatus(state, clip(description))


def replaced_status(change: DeploymentChange) -> GitHubStatus | None:
    """For a rollback that succeeded: the `inactive` status of the deployment it replaced."""
    if change.state != "succeeded" or change.replaces is None:
        return None
    text = f"replaced by rollback to {short_sha(change.sha)} (#{change.deployment_id})"
    return GitHubStatus("inactive", clip(text))
