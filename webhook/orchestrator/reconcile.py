"""Reconciles: deploy a stack's healthy commit again so that it matches it (docs/drift.md).

A reconcile is an ordinary deployment (health checks, rollback, feedback) recorded as a
`deploy` whose delivery id starts with `reconcile:`; the pipeline runs its `up` as
`up --refresh` (the state is read from the engine first, so what was changed or removed by
hand is put back) after removing containers made by hand under the stack's names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from webhook.store import DeliveryStatus, Deployment, NewDeployment, Store
from webhook.store.drift import DriftRecords, DriftResult
from webhook.store.states import DeploymentKind, DeploymentState

RECONCILE_EVENT = "reconcile"
RECONCILE_PREFIX = f"{RECONCILE_EVENT}:"
AUTO_PREFIX = f"{RECONCILE_PREFIX}auto:"
DOCS = "docs/drift.md"
ROLLED_BACK = DeploymentState.ROLLED_BACK
CONTAINER = "docker:index/container:Container"


@dataclass(frozen=True)
class ReconcilePlan:
    """What a reconcile's `up --refresh` does besides: remove containers first, say."""

    evict: list[str]  # container names
    notes: list[str]


def healthy_commit(store: Store, stack: str) -> tuple[Deployment, str] | None:
    """The deployment whose commit runs now and that commit: the newer of the last
    succeeded deploy or rollback and the last automatic rollback (its target)."""
    candidates = [
        d
        for d in (
            store.last_good(stack),
            next(
                iter(
                    store.list_deployments(
                        limit=1, stack=stack, states=[DeploymentState.ROLLED_BACK]
                    )
                ),
                None,
            ),
        )
        if d is not None
    ]
    if not candidates:
        return None
    deployed = max(candidates, key=lambda d: d.updated_at)
    sha = deployed.rolled_back_to if deployed.state == DeploymentState.ROLLED_BACK else deployed.sha
    return (deployed, sha) if sha else None


def is_reconcile(deployment: Deployment) -> bool:
    return (deployment.delivery_id or "").startswith(RECONCILE_PREFIX)


def queue_reconcile(
    store: Store, stack: str, reason: str, *, key: str | None = None
) -> tuple[Deployment, bool] | None:
    """Record a reconcile of `stack` (a deploy of its healthy commit, `up --refresh`):
    (deployment, duplicate), or None when the stack has no healthy commit. The caller
    submits it to the queue. `key` (under `reconcile:`) makes a repeat a duplicate."""
    found = healthy_commit(store, stack)
    if found is None:
        return None
    deployed, sha = found
    new = NewDeployment(DeploymentKind.DEPLOY, stack, sha, deployed.ref, reason)
    delivery = key or f"{RECONCILE_PREFIX}{uuid.uuid4().hex}"
    outcome = store.record_delivery(
        delivery, RECONCILE_EVENT, "", DeliveryStatus.PROCESSED, reason, new
    )
    assert outcome.deployment is not None
    return outcome.deployment, outcome.duplicate


def reconcile_plan(records: DriftRecords, stack: str) -> ReconcilePlan:
    """From the stack's newest check: the containers to remove before `up --refresh`, which
    then creates them as declared (made by hand under the stack's names, or found changed:
    a refresh records what runs, e.g. a network disconnected, and `up` alone would keep it;
    Pulumi's own replace creates the new one first, under the same name, and fails), and
    what the reconcile should say (a volume removed: its data was lost)."""
    check = records.latest_finished(stack)
    if check is None or check.result != DriftResult.DRIFTED:
        return ReconcilePlan([], [])
    report = check.report
    evict = [
        e["container"]
        for e in report
        if e["change"] in ("replaced", "changed") and e["type"] == CONTAINER and e["container"]
    ]
    notes = [
        f"reconcile: volume {e['name']} was removed outside Slipway; it is created again "
        f"EMPTY: the data it held was lost (restore it from a backup, see {DOCS})"
        for e in report
        if e["change"] == "gone" and e["type"] == "docker:index/volume:Volume"
    ]
    return ReconcilePlan(evict, notes)
