"""The store's SQL operations, each on a connection it is given. The writes run inside the
writer's batch transaction (webhook.store.writer), on the write connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import fields, replace

from webhook.dedupe import poll_key
from webhook.store.models import (
    Delivery,
    DeliveryOutcome,
    DeliveryStatus,
    Deployment,
    NewDeployment,
    NotFound,
    Transition,
    now_iso,
)
from webhook.store.states import ACTIVE_STATES, DeploymentKind, DeploymentState, check_transition

DEPLOYMENT_COLUMNS = ", ".join(f.name for f in fields(Deployment))


def insert_deployment(conn: sqlite3.Connection, new: NewDeployment, at: str) -> Deployment:
    """Insert a deployment request in state `queued`, created at `at`."""
    cursor = conn.execute(
        "INSERT INTO deployments (kind, stack, sha, ref, reason, state, created_at, updated_at,"
        " delivery_id, pr_number, head_repo, rollback_of) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        (
            str(new.kind),
            new.stack,
            new.sha,
            new.ref,
            new.reason,
            str(DeploymentState.QUEUED),
            at,
            at,
            new.delivery_id,
            new.pr_number,
            new.head_repo,
            new.rollback_of,
        ),
    )
    deployment_id = cursor.lastrowid  # its first state row: trigger deployment_first_state
    assert deployment_id is not None
    if new.force:
        conn.execute("INSERT INTO forced_deployments (deployment_id) VALUES (?)", (deployment_id,))
    return Deployment(
        id=deployment_id,
        kind=new.kind,
        stack=new.stack,
        sha=new.sha,
        ref=new.ref,
        reason=new.reason,
        state=DeploymentState.QUEUED,
        created_at=at,
        updated_at=at,
        delivery_id=new.delivery_id,
        pr_number=new.pr_number,
        head_repo=new.head_repo,
        rollback_of=new.rollback_of,
        rolled_back_to=None,
    )


def select_deployment(conn: sqlite3.Connection, deployment_id: int) -> Deployment:
    """The deployment with that id; raises NotFound."""
    row = conn.execute(
        f"SELECT {DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?", (deployment_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no deployment {deployment_id}")
    return Deployment.from_row(row)


def select_delivery(conn: sqlite3.Connection, delivery_id: str) -> Delivery | None:
    """The delivery with that id, or None."""
    row = conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    return Delivery(**dict(row)) if row else None


def record_delivery(
    conn: sqlite3.Connection,
    delivery_id: str,
    event: str,
    action: str,
    status: str,
    detail: str,
    new: NewDeployment | None,
    body_digest: str | None = None,
) -> DeliveryOutcome:
    """Record a delivery (and the deployment it requests) unless it was processed already.
    With `body_digest`, a body another delivery (not failed) brought is a replay: recorded
    as ignored, nothing deployed."""
    at = now_iso()
    inserted = conn.execute(
        "INSERT INTO deliveries (id, event, action, status, detail, received_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING",
        (delivery_id, event, action, status, detail, at, at),
    ).rowcount
    existing = None if inserted else select_delivery(conn, delivery_id)
    if existing is not None and existing.status != DeliveryStatus.FAILED:
        deployment = (
            select_deployment(conn, existing.deployment_id) if existing.deployment_id else None
        )
        return DeliveryOutcome(existing, deployment, duplicate=True)
    if body_digest is not None:
        original = _body_seen(conn, body_digest, delivery_id)
        if original is not None:
            note = f"replay: the same signed body as delivery {original}; not deployed again"
            conn.execute(
                "UPDATE deliveries SET event=?, action=?, status=?, detail=?, updated_at=?"
                " WHERE id=?",
                (event, action, DeliveryStatus.IGNORED, note, at, delivery_id),
            )
            replayed = select_delivery(conn, delivery_id)
            assert replayed is not None  # inserted or updated above, in this transaction
            return DeliveryOutcome(replayed, None, duplicate=True, replay_of=original)
        conn.execute(
            "INSERT INTO delivery_bodies (digest, delivery_id) VALUES (?, ?)"
            " ON CONFLICT (digest) DO UPDATE SET delivery_id = excluded.delivery_id",
            (body_digest, delivery_id),
        )
    if new is not None and new.kind == DeploymentKind.DEPLOY:
        polled = found_by_poll(conn, new.stack, new.sha)
        if polled is not None:  # a late delivery of a push the poll queued already
            return _link_delivery(conn, delivery_id, polled, at)
    if new is not None and new.delivery_id is None:
        new = replace(new, delivery_id=delivery_id)
    deployment = insert_deployment(conn, new, at) if new is not None else None
    deployment_id = deployment.id if deployment else None
    if existing is None:  # deliveries.deployment_id: trigger deployment_links_delivery
        attempts, received_at = 1, at
    else:
        conn.execute(
            "UPDATE deliveries SET event=?, action=?, status=?, detail=?, deployment_id=?,"
            " updated_at=?, attempts=attempts+1 WHERE id=?",
            (event, action, status, detail, deployment_id, at, delivery_id),
        )
        attempts, received_at = existing.attempts + 1, existing.received_at
    delivery = Delivery(
        delivery_id, event, action, status, detail, deployment_id, received_at, at, attempts
    )
    return DeliveryOutcome(delivery, deployment, duplicate=False)


def _body_seen(conn: sqlite3.Connection, digest: str, delivery_id: str) -> str | None:
    """The other delivery that brought this body and did not fail, or None."""
    row = conn.execute(
        "SELECT b.delivery_id FROM delivery_bodies b JOIN deliveries d ON d.id = b.delivery_id"
        " WHERE b.digest = ? AND b.delivery_id != ? AND d.status != ?",
        (digest, delivery_id, DeliveryStatus.FAILED),
    ).fetchone()
    return row[0] if row else None


def _link_delivery(
    conn: sqlite3.Connection, delivery_id: str, deployment_id: int, at: str
) -> DeliveryOutcome:
    """Record a delivery as a duplicate of the deployment the poll queued for its commit."""
    detail = f"commit already queued by the poll as deployment {deployment_id}"
    conn.execute(
        "UPDATE deliveries SET status=?, detail=?, deployment_id=?, updated_at=? WHERE id=?",
        (DeliveryStatus.PROCESSED, detail, deployment_id, at, delivery_id),
    )
    delivery = select_delivery(conn, delivery_id)
    assert delivery is not None
    return DeliveryOutcome(delivery, select_deployment(conn, deployment_id), duplicate=True)


def queued_deploy(conn: sqlite3.Connection, stack: str, sha: str) -> int | None:
    """The newest deploy of full `sha` on `stack` queued by any path (a row may hold an
    abbreviated sha), except one whose delivery failed and waits for a redelivery."""
    row = conn.execute(
        "SELECT d.id FROM deployments d LEFT JOIN deliveries v ON v.id = d.delivery_id"
        " WHERE d.stack = ? AND d.kind = 'deploy' AND substr(?, 1, length(d.sha)) = d.sha"
        " AND (v.status IS NULL OR v.status != 'failed') ORDER BY d.id DESC LIMIT 1",
        (stack, sha),
    ).fetchone()
    return row[0] if row else None


def found_by_poll(conn: sqlite3.Connection, stack: str, sha: str) -> int | None:
    """The deployment the poll queued for `sha` on `stack`, unless its hand-off failed."""
    row = conn.execute(
        "SELECT deployment_id FROM deliveries WHERE id = ? AND status != 'failed'",
        (poll_key(stack, sha),),
    ).fetchone()
    return row[0] if row else None


def mark_delivery_failed(conn: sqlite3.Connection, delivery_id: str, detail: str) -> None:
    """Mark a delivery failed (a redelivery of it is processed again)."""
    conn.execute(
        "UPDATE deliveries SET status=?, detail=?, updated_at=? WHERE id=?",
        (DeliveryStatus.FAILED, detail, now_iso(), delivery_id),
    )


def set_state(
    conn: sqlite3.Connection,
    deployment_id: int,
    state: DeploymentState,
    note: str,
    rolled_back_to: str | None,
) -> Deployment:
    """Move a deployment to `state` (checked against the state machine) and record it."""
    current = select_deployment(conn, deployment_id)
    check_transition(current.state, state)
    at = now_iso()
    conn.execute(
        "UPDATE deployments SET state=?, updated_at=?,"
        " rolled_back_to=COALESCE(?, rolled_back_to) WHERE id=?",
        (str(state), at, rolled_back_to, deployment_id),
    )
    conn.execute(
        "INSERT INTO deployment_states (deployment_id, state, note, at) VALUES (?,?,?,?)",
        (deployment_id, str(state), note, at),
    )
    return select_deployment(conn, deployment_id)


def set_states(
    conn: sqlite3.Connection,
    deployment_id: int,
    changes: Sequence[Transition],
) -> Deployment:
    """`set_state` for each (state, note, rolled_back_to) in order; the deployment after the
    last change (as it is, for no changes)."""
    deployment = None
    for state, note, rolled_back_to in changes:
        deployment = set_state(conn, deployment_id, state, note, rolled_back_to)
    return deployment if deployment is not None else select_deployment(conn, deployment_id)


def append_log(conn: sqlite3.Connection, deployment_id: int, lines: tuple[str, ...]) -> int:
    """Append lines to a deployment's log; returns how many."""
    # An unknown deployment id fails on the foreign key.
    at = now_iso()
    conn.executemany(
        "INSERT INTO deployment_logs (deployment_id, line, at) VALUES (?,?,?)",
        [(deployment_id, line, at) for line in lines],
    )
    return len(lines)


def mark_interrupted(conn: sqlite3.Connection, note: str) -> list[Deployment]:
    """Move every running/verifying/rolling_back deployment to `interrupted`."""
    placeholders = ",".join("?" * len(ACTIVE_STATES))
    rows = conn.execute(
        f"SELECT id FROM deployments WHERE state IN ({placeholders}) ORDER BY id",
        [str(s) for s in ACTIVE_STATES],
    ).fetchall()
    return [set_state(conn, row["id"], DeploymentState.INTERRUPTED, note, None) for row in rows]


def touch(conn: sqlite3.Connection) -> str:
    """Record the time of a readiness check: a tiny write; returns the time."""
    at = now_iso()
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_ready_check', ?)", (at,))
    return at
