"""The one dedupe of pushed commits, shared by the webhook delivery path and the poll.

Both paths decide inside a store write, and the store runs one write transaction at a
time, so a commit found by the poll and a late delivery of the same push never both queue
it. The poll records what it queued as a delivery with the key `poll:<stack>:<sha>`.
"""

from __future__ import annotations

import sqlite3

POLL_EVENT = "poll"
MISSED_REASON = "missed webhook: found by polling"


def poll_key(stack: str, sha: str) -> str:
    """The delivery id under which the poll records the commit it queued."""
    return f"{POLL_EVENT}:{stack}:{sha}"


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
