"""What the deployments page shows, computed from store rows: pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from webhook.dedupe import POLL_EVENT
from webhook.http.drift_view import DriftStatus
from webhook.store import Deployment, StateChange
from webhook.store.states import ACTIVE_STATES, DeploymentKind, DeploymentState

S = DeploymentState
TAIL_SECONDS = 2.0
"""Lines may follow a final state (e.g. the healthy-commit tag); the live log waits this long."""


def parse_at(at: str) -> datetime:
    """A store timestamp (ISO 8601 UTC) as an aware datetime."""
    return datetime.fromisoformat(at)


def iso_ms(at: str) -> str:
    """A store timestamp with milliseconds, the precision every browser parses."""
    moment = parse_at(at)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def human_duration(seconds: float) -> str:
    """`0.4 s`, `12 s`, `3 min 05 s`, `2 h 07 min`."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def trigger(deployment: Deployment) -> str:
    """What asked for the deployment: webhook, poll, API, or a rollback by hand."""
    source = deployment.delivery_id or ""
    if deployment.kind == DeploymentKind.ROLLBACK:
        return "rollback by hand"
    if source.startswith(f"{POLL_EVENT}:"):
        return "poll"
    if source.startswith("reconcile:"):  # webhook/orchestrator/reconcile.py
        return "reconcile (automatic)" if source.startswith("reconcile:auto:") else "reconcile"
    if source.startswith("api:") or not source:
        return "API"
    return "webhook"


def is_settled(deployment: Deployment, now: datetime) -> bool:
    """Nothing more will be written: a final state (`failed` included: it is never written
    on its way to `rolling_back`) that has not changed for a little while."""
    if deployment.state in ACTIVE_STATES or deployment.state == S.QUEUED:
        return False
    quiet = (now - parse_at(deployment.updated_at)).total_seconds()
    return quiet >= TAIL_SECONDS


def run_seconds(history: list[StateChange], now: datetime) -> tuple[float, bool] | None:
    """(seconds, still running) from the first `running` to the last change, or to now
    while the job is active; None when it never ran."""
    started = next((c for c in history if c.state == S.RUNNING), None)
    if started is None:
        return None
    last = history[-1]
    active = last.state in ACTIVE_STATES
    end = now if active else parse_at(last.at)
    return (end - parse_at(started.at)).total_seconds(), active


def rollback_note(deployment: Deployment, history: list[StateChange]) -> str:
    """The rollback target and why, or '' when the deployment has nothing to do with one."""
    if deployment.kind == DeploymentKind.ROLLBACK:
        of = deployment.rollback_of
        return f"to {deployment.sha[:12]} (rollback of #{of}): {deployment.reason}"
    if deployment.rolled_back_to:
        failed = next((c.note for c in reversed(history) if c.state == S.FAILED), "")
        return f"to {deployment.rolled_back_to[:12]}: {failed}".rstrip(": ")
    return ""


@dataclass(frozen=True)
class Row:
    """One line of the history table."""

    deployment: Deployment
    trigger: str
    duration: str
    running: bool
    note: str
    rollback: str


def row(
    deployment: Deployment, history: list[StateChange], now: datetime, blocked: str = ""
) -> Row:
    """`blocked`: what keeps deployments from running (/readyz's degraded reasons); a
    queued deployment's note says it, so the page never shows `queued` without a hint."""
    span = run_seconds(history, now)
    duration = "" if span is None else human_duration(span[0])
    note = history[-1].note if history else ""
    if blocked and deployment.state == S.QUEUED:
        note = f"waiting: {blocked}"
    return Row(
        deployment=deployment,
        trigger=trigger(deployment),
        duration=duration,
        running=bool(span and span[1]),
        note=note,
        rollback=rollback_note(deployment, history),
    )


@dataclass(frozen=True)
class StackStatus:
    """Per stack: the commit deployed now and since when it is healthy, the latest job."""

    stack: str
    deployed: Deployment | None  # the deployment whose commit runs now
    deployed_sha: str | None
    healthy_since: str | None
    latest: Deployment | None
    drift: DriftStatus | None = None  # webhook/http/drift_view.py


def stack_status(
    stack: str,
    last_succeeded: Deployment | None,
    last_rolled_back: Deployment | None,
    latest: Deployment | None,
) -> StackStatus:
    """The newer of the last healthy deploy/rollback and the last automatic rollback
    (whose `rolled_back_to` commit runs since it became `rolled_back`)."""
    candidates = [d for d in (last_succeeded, last_rolled_back) if d is not None]
    if not candidates:
        return StackStatus(stack, None, None, None, latest)
    deployed = max(candidates, key=lambda d: d.updated_at)
    sha = deployed.rolled_back_to if deployed.state == S.ROLLED_BACK else deployed.sha
    return StackStatus(stack, deployed, sha, deployed.updated_at, latest)
