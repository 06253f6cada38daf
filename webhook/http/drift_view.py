"""A stack's drift status as the API and the page show it, from store rows (pure, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhook.orchestrator.drift_snapshot import VIA_SNAPSHOT as SNAPSHOT
from webhook.store import Deployment
from webhook.store.drift import DriftCheck, DriftResult

SNAPSHOT_TEXT = "engine unchanged since the last full refresh"


@dataclass(frozen=True)
class DriftStatus:
    """`state`: in_sync, drifted, failed, not_checked; `text` the one line people read."""

    stack: str
    state: str
    text: str
    since: str | None
    resources: int
    check: DriftCheck | None


def drift_status(
    stack: str, check: DriftCheck | None, since: str | None, newest_job: Deployment | None
) -> DriftStatus:
    """What the newest finished check says, unless a job of the stack ran after it began
    (then the stack is `not_checked` since that job: the check is out of date)."""
    if check is None:
        return DriftStatus(stack, "not_checked", "not checked yet", None, 0, None)
    if newest_job is not None and newest_job.updated_at > check.started_at:
        text = f"not checked since deployment #{newest_job.id}"
        return DriftStatus(stack, "not_checked", text, None, 0, check)
    if check.result == DriftResult.IN_SYNC:
        text = "in sync" if check.via != SNAPSHOT else f"in sync ({SNAPSHOT_TEXT})"
        return DriftStatus(stack, "in_sync", text, None, 0, check)
    if check.result == DriftResult.DRIFTED:
        text = f"drifted since {since}, {check.resources} resource(s)"
        return DriftStatus(stack, "drifted", text, since, check.resources, check)
    return DriftStatus(stack, "failed", f"check failed: {check.error}", None, 0, check)


def check_json(check: DriftCheck) -> dict[str, Any]:
    return {
        "id": check.id,
        "sha": check.sha,
        "result": str(check.result),
        "started_at": check.started_at,
        "finished_at": check.finished_at,
        "resources": check.resources,
        "report": check.report,
        "error": check.error,
        "via": check.via,
    }


def status_json(status: DriftStatus, recent: list[DriftCheck]) -> dict[str, Any]:
    return {
        "stack": status.stack,
        "status": status.state,
        "text": status.text,
        "since": status.since,
        "resources": status.resources,
        "latest": check_json(status.check) if status.check else None,
        "checks": [check_json(c) for c in recent],
    }
