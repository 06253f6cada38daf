"""Drift checks in the store: their own table (`drift_checks`), never deployments.

A check is recorded `running` before it starts and finished with its result: `in_sync`,
`drifted` (with the report: resources and fields), `failed` (with the reason) or `cancelled`
(a deployment of the stack came, or the service stopped; it is tried again later), and
`via`: how the verdict was found (`refresh`, or `engine snapshot`: the engine showed what
the last in-sync refresh left, webhook/orchestrator/drift_snapshot.py).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from webhook.store.models import NotFound, now_iso
from webhook.store.store import Store


class DriftResult(StrEnum):
    RUNNING = "running"
    IN_SYNC = "in_sync"
    DRIFTED = "drifted"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED = (DriftResult.IN_SYNC, DriftResult.DRIFTED, DriftResult.FAILED)
"""Results that say something about the stack (`cancelled` says nothing)."""

_COLUMNS = "id, stack, sha, result, started_at, finished_at, resources, report, error, via"


@dataclass(frozen=True)
class DriftCheck:
    id: int
    stack: str
    sha: str
    result: DriftResult
    started_at: str
    finished_at: str | None
    resources: int
    report: list[dict[str, Any]]
    error: str
    via: str = ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> DriftCheck:
        values = dict(row)
        values["result"] = DriftResult(values["result"])
        values["report"] = json.loads(values["report"] or "[]")
        return cls(**values)


class DriftRecords:
    """Reads and writes of `drift_checks`, through the store's writer and readers."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def start(self, stack: str, sha: str) -> DriftCheck:
        """Record a check of `stack` at its healthy commit `sha` as running."""

        def op(conn: sqlite3.Connection) -> int:
            cursor = conn.execute(
                "INSERT INTO drift_checks (stack, sha, result, started_at) VALUES (?,?,?,?)",
                (stack, sha, str(DriftResult.RUNNING), now_iso()),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        return self.get(self.store.write(op))

    def finish(
        self,
        check_id: int,
        result: DriftResult,
        report: list[dict[str, Any]] | None = None,
        error: str = "",
        via: str = "",
    ) -> DriftCheck:
        report = report or []

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE drift_checks SET result = ?, finished_at = ?, resources = ?, report = ?,"
                " error = ?, via = ? WHERE id = ?",
                (str(result), now_iso(), len(report), json.dumps(report), error, via, check_id),
            )

        self.store.write(op)
        return self.get(check_id)

    def cancel_running(self, note: str) -> int:
        """At start: checks left `running` by a stopped service become `cancelled`."""

        def op(conn: sqlite3.Connection) -> int:
            return conn.execute(
                "UPDATE drift_checks SET result = ?, finished_at = ?, error = ? WHERE result = ?",
                (str(DriftResult.CANCELLED), now_iso(), note, str(DriftResult.RUNNING)),
            ).rowcount

        return self.store.write(op)

    def get(self, check_id: int) -> DriftCheck:
        row = (
            self.store.read_connection()
            .execute(f"SELECT {_COLUMNS} FROM drift_checks WHERE id = ?", (check_id,))
            .fetchone()
        )
        if row is None:
            raise NotFound(f"no drift check {check_id}")
        return DriftCheck.from_row(row)

    def recent(self, stack: str, limit: int = 20) -> list[DriftCheck]:
        """The stack's checks, newest first."""
        rows = self.store.read_connection().execute(
            f"SELECT {_COLUMNS} FROM drift_checks WHERE stack = ? ORDER BY id DESC LIMIT ?",
            (stack, limit),
        )
        return [DriftCheck.from_row(row) for row in rows]

    def latest_finished(self, stack: str) -> DriftCheck | None:
        """The newest check of `stack` that says something (not running, not cancelled)."""
        marks = ",".join("?" * len(FINISHED))
        row = (
            self.store.read_connection()
            .execute(
                f"SELECT {_COLUMNS} FROM drift_checks WHERE stack = ? AND result IN ({marks})"
                " ORDER BY id DESC LIMIT 1",
                (stack, *map(str, FINISHED)),
            )
            .fetchone()
        )
        return DriftCheck.from_row(row) if row else None

    def verdict_before(self, check: DriftCheck) -> DriftCheck | None:
        """The stack's newest `in_sync` or `drifted` check before `check` (failed and
        cancelled checks say nothing about what runs)."""
        row = (
            self.store.read_connection()
            .execute(
                f"SELECT {_COLUMNS} FROM drift_checks WHERE stack = ? AND id < ?"
                " AND result IN ('in_sync', 'drifted') ORDER BY id DESC LIMIT 1",
                (check.stack, check.id),
            )
            .fetchone()
        )
        return DriftCheck.from_row(row) if row else None

    def drifted_since(self, stack: str, check: DriftCheck) -> str:
        """When the run of `drifted` results that ends with `check` began: the start of the
        oldest drifted check with no in-sync or failed check of the stack after it."""
        row = (
            self.store.read_connection()
            .execute(
                "SELECT min(started_at) FROM drift_checks WHERE stack = ? AND result = 'drifted'"
                " AND id <= ? AND id > coalesce((SELECT max(id) FROM drift_checks WHERE"
                " stack = ? AND id < ? AND result IN ('in_sync', 'failed')), 0)",
                (stack, check.id, stack, check.id),
            )
            .fetchone()
        )
        return row[0] or check.started_at

    def counts(self) -> list[tuple[str, str, int]]:
        """(stack, result, count) of every check recorded."""
        rows = self.store.read_connection().execute(
            "SELECT stack, result, count(*) FROM drift_checks GROUP BY stack, result"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def latest_per_stack(self) -> list[DriftCheck]:
        """Each stack's newest finished check (for the metrics)."""
        marks = ",".join("?" * len(FINISHED))
        rows = self.store.read_connection().execute(
            f"SELECT {_COLUMNS} FROM drift_checks WHERE id IN (SELECT max(id) FROM drift_checks"
            f" WHERE result IN ({marks}) GROUP BY stack)",
            tuple(map(str, FINISHED)),
        )
        return [DriftCheck.from_row(row) for row in rows]
