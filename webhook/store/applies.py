"""The store's record of each `up` of a stack, or each `up` skipped as unchanged.

A row is written before the `up` starts (or is skipped), and completed with the stack
outputs and the engine's containers once the health checks pass. The newest row of a stack
is the proof base of the next deployment (webhook/orchestrator/unchanged.py): when it never
became healthy (failed, interrupted, still running), nothing is known and `up` runs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import fields

from webhook.store.models import StackApply

COLUMNS = ", ".join(f.name for f in fields(StackApply))


def insert(
    conn: sqlite3.Connection,
    deployment_id: int,
    stack: str,
    sha: str,
    purpose: str,
    path: str,
    reason: str,
    fingerprint: str,
    parts: str,
    at: str,
) -> int:
    cursor = conn.execute(
        "INSERT INTO stack_applies (deployment_id, stack, sha, purpose, path, reason,"
        " fingerprint, parts, started_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (deployment_id, stack, sha, purpose, path, reason, fingerprint, parts, at),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def mark_healthy(
    conn: sqlite3.Connection, apply_id: int, outputs: str, containers: str, at: str
) -> None:
    conn.execute(
        "UPDATE stack_applies SET outputs = ?, containers = ?, healthy_at = ? WHERE id = ?",
        (outputs, containers, at, apply_id),
    )


def newest(conn: sqlite3.Connection, stack: str) -> StackApply | None:
    row = conn.execute(
        f"SELECT {COLUMNS} FROM stack_applies WHERE stack = ? ORDER BY id DESC LIMIT 1", (stack,)
    ).fetchone()
    return StackApply(**dict(row)) if row else None


def of_deployment(conn: sqlite3.Connection, deployment_id: int) -> list[StackApply]:
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM stack_applies WHERE deployment_id = ? ORDER BY id",
        (deployment_id,),
    ).fetchall()
    return [StackApply(**dict(row)) for row in rows]


def is_forced(conn: sqlite3.Connection, deployment_id: int) -> bool:
    row = conn.execute(
        "SELECT 1 FROM forced_deployments WHERE deployment_id = ?", (deployment_id,)
    ).fetchone()
    return row is not None
