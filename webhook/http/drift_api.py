"""The drift routes (`/stacks/{stack}/...`, bearer token or the page's cookie): a stack's
drift status and checks, and the reconcile (docs/drift.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Response

from webhook.http.api import QueueDep, StoreDep, _accepted, _submit, rate_limit, require_token
from webhook.http.drift_view import DriftStatus, drift_status, status_json
from webhook.orchestrator.reconcile import queue_reconcile
from webhook.store import Store
from webhook.store.drift import DriftRecords

StackName = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,200}$", description="a stack's name")]

stacks = APIRouter(
    prefix="/stacks",
    tags=["drift"],
    dependencies=[Depends(rate_limit), Depends(require_token)],
    responses={
        401: {"description": "missing or wrong bearer token, or no SLIPWAY_API_TOKEN set"},
        429: {"description": "too many requests from this client; see Retry-After"},
    },
)


def stack_drift(store: Store, stack: str) -> DriftStatus:
    """The stack's drift status from its newest finished check and newest job."""
    records = DriftRecords(store)
    check = records.latest_finished(stack)
    since = records.drifted_since(stack, check) if check is not None else None
    newest = store.list_deployments(limit=1, stack=stack)
    return drift_status(stack, check, since, newest[0] if newest else None)


def _known(store: Store, stack: str) -> None:
    if not store.list_deployments(limit=1, stack=stack):
        raise HTTPException(404, f"no deployments of stack {stack}")


@stacks.get("/{stack}/drift", responses={404: {"description": "no such stack"}})
def get_drift(stack: StackName, store: StoreDep) -> dict[str, Any]:
    """In sync, drifted (resources, fields old → new, since when) or check failed (why);
    the newest checks."""
    _known(store, stack)
    return status_json(stack_drift(store, stack), DriftRecords(store).recent(stack, 20))


@stacks.post(
    "/{stack}/reconcile",
    status_code=202,
    responses={
        404: {"description": "no such stack"},
        409: {"description": "the stack has no healthy commit to deploy again"},
        503: {"description": "the queue refused the deployment (starting or stopping)"},
    },
)
def reconcile(stack: StackName, response: Response, store: StoreDep, queue: QueueDep) -> dict:
    """Deploy the stack's healthy commit again, reading the engine first (`up --refresh`):
    an ordinary deployment with health checks and rollback."""
    _known(store, stack)
    status = stack_drift(store, stack)
    reason = f"reconcile by hand ({status.text})"
    queued = queue_reconcile(store, stack, reason)
    if queued is None:
        raise HTTPException(409, f"stack {stack} has no healthy commit: nothing to reconcile to")
    deployment, _ = queued
    _submit(store, queue, deployment, deployment.delivery_id)
    return _accepted(response, deployment, duplicate=False)
