"""What the store reads and writes: deployments, deliveries, state changes, log lines, and
the store's errors."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from webhook.store.states import DeploymentKind, DeploymentState


def now_iso() -> str:
    """The current UTC time as ISO 8601 with microseconds (sorts as text)."""
    return datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"  # not "+00:00"


class DeliveryStatus:
    """What became of a delivery: `processed` (queued or ignored) or `failed` (redeliverable)."""

    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


@dataclass(frozen=True)
class Deployment:
    id: int
    kind: DeploymentKind
    stack: str
    sha: str
    ref: str
    reason: str
    state: DeploymentState
    created_at: str
    updated_at: str
    delivery_id: str | None
    pr_number: int | None
    head_repo: str | None
    rollback_of: int | None
    rolled_back_to: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Deployment:
        values = dict(row)
        values["kind"] = DeploymentKind(values["kind"])
        values["state"] = DeploymentState(values["state"])
        return cls(**values)


@dataclass(frozen=True)
class NewDeployment:
    """A deployment request before it has an id."""

    kind: DeploymentKind
    stack: str
    sha: str
    ref: str = ""
    reason: str = ""
    delivery_id: str | None = None
    pr_number: int | None = None
    head_repo: str | None = None
    rollback_of: int | None = None
    force: bool = False  # a full `up` even when the stack is unchanged


@dataclass(frozen=True)
class StackApply:
    """One `up` of a stack, or one skipped as unchanged; `outputs` and `containers` (JSON
    texts) are set when its health checks passed."""

    id: int
    deployment_id: int
    stack: str
    sha: str
    purpose: str
    path: str  # "up" or "unchanged"
    reason: str
    fingerprint: str
    parts: str
    outputs: str | None
    containers: str | None
    started_at: str
    healthy_at: str | None


Transition = tuple[DeploymentState, str, str | None]
"""One state change to write: (state, note, rolled_back_to)."""


@dataclass(frozen=True)
class StateChange:
    deployment_id: int
    state: DeploymentState
    note: str
    at: str


@dataclass(frozen=True)
class LogLine:
    seq: int
    deployment_id: int
    line: str
    at: str


@dataclass(frozen=True)
class Delivery:
    id: str
    event: str
    action: str
    status: str
    detail: str
    deployment_id: int | None
    received_at: str
    updated_at: str
    attempts: int


@dataclass(frozen=True)
class DeliveryOutcome:
    """The result of recording a delivery: `duplicate` means it had been processed already."""

    delivery: Delivery
    deployment: Deployment | None
    duplicate: bool
    replay_of: str | None = None  # the delivery whose signed body this one repeats


class StoreClosed(RuntimeError):
    """The store was closed; nothing more can be written."""


class SchemaTooNew(RuntimeError):
    """The database was written by a newer Slipway (its schema version is unknown here)."""


class NotFound(LookupError):
    """No row with that id."""
