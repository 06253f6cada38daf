"""The Store: every read and write of the Slipway database, thread-safe."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Concatenate, ParamSpec

from webhook.dedupe import POLL_EVENT, poll_key
from webhook.store import applies, sql
from webhook.store.models import (
    Delivery,
    DeliveryOutcome,
    DeliveryStatus,
    Deployment,
    LogLine,
    NewDeployment,
    StackApply,
    StateChange,
    StoreClosed,
    Transition,
    now_iso,
)
from webhook.store.schema import connect, migrate
from webhook.store.sql import DEPLOYMENT_COLUMNS
from webhook.store.states import DeploymentKind, DeploymentState
from webhook.store.writer import LoopWriter, T, WriteOp, Writer

P = ParamSpec("P")


# -- writes used both from threads and from the event loop: one operation builder each,
# run by `_blocking` (Store.write, any thread but the loop's) or `_on_loop` (Store.write_async)


def _blocking(build: Callable[P, WriteOp[T]]) -> Callable[Concatenate[Store, P], T]:
    """A Store method that runs the operation `build` makes and waits for its commit."""

    @functools.wraps(build)
    def run(store: Store, *args: P.args, **kwargs: P.kwargs) -> T:
        return store.write(build(*args, **kwargs))

    return run


def _on_loop(build: Callable[P, WriteOp[T]]) -> Callable[Concatenate[Store, P], Awaitable[T]]:
    """The same for the event loop: awaits the commit without blocking the loop."""

    @functools.wraps(build)
    async def run(store: Store, *args: P.args, **kwargs: P.kwargs) -> T:
        return await store.write_async(build(*args, **kwargs))

    return run


def _record_delivery(
    delivery_id: str,
    event: str,
    action: str = "",
    status: str = DeliveryStatus.PROCESSED,
    detail: str = "",
    deployment: NewDeployment | None = None,
    body_digest: str | None = None,
) -> WriteOp[DeliveryOutcome]:
    """Record a delivery (and the deployment it requests) unless already processed.

    A delivery id seen before with status `failed` is processed again; any other status
    makes this a duplicate and nothing is written. With `body_digest` (the SHA-256 of the
    signed body) a body seen before under another delivery id is recorded as a replay.
    """

    def op(conn: sqlite3.Connection) -> DeliveryOutcome:
        return sql.record_delivery(
            conn, delivery_id, event, action, status, detail, deployment, body_digest
        )

    return op


def _fail_handoff(deployment_id: int, delivery_id: str | None, detail: str) -> WriteOp[None]:
    """The queue refused a deployment: mark it (and its delivery) failed, in one commit."""

    def op(conn: sqlite3.Connection) -> None:
        sql.set_state(conn, deployment_id, DeploymentState.FAILED, detail, None)
        if delivery_id is not None:
            sql.mark_delivery_failed(conn, delivery_id, detail)

    return op


def _touch() -> WriteOp[str]:
    """Commit a tiny write (returns its time); raises if the database cannot be written."""
    return sql.touch


class Store:
    """Thread-safe access to the Slipway database. Open with `Store.open(path)`."""

    def __init__(self, path: Path, writer: Writer, schema_version: int) -> None:
        self.path = path
        self.schema_version = schema_version
        self._writer = writer
        self._loop_writer = LoopWriter(writer)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating and migrating if needed) the database at `path`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(path)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(f"{path}: SQLite refused WAL mode (got {mode}); use a local disk")
        # FULL: a commit is on disk before the caller hears about it.
        conn.execute("PRAGMA synchronous = FULL")
        version = migrate(conn)
        writer = Writer(conn)
        writer.start()
        return cls(path, writer, version)

    def close(self) -> None:
        """Finish pending writes, then close every connection. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._writer.stop()
        self._loop_writer.close()
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing

    def submit(self, op: WriteOp[T]) -> Future[T]:
        """Queue a write operation `op(conn)`; the future resolves after its batch commits."""
        if self._closed:
            raise StoreClosed("the store is closed")
        return self._writer.submit(op)

    def write(self, op: WriteOp[T]) -> T:
        """Run a write operation and wait for its commit (from any thread but the loop's)."""
        return self.submit(op).result()

    async def write_async(self, op: WriteOp[T]) -> T:
        """Run a write operation and wait for its commit without blocking the event loop
        (use from one event loop per store: the loop's writes are batched on it)."""
        if self._closed:
            raise StoreClosed("the store is closed")
        return await self._loop_writer.write(op)

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closed:
                raise StoreClosed("the store is closed")
            conn = connect(self.path)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def read_connection(self) -> sqlite3.Connection:
        """This thread's read-only connection (for record kinds kept in modules of their
        own, e.g. webhook/store/drift.py)."""
        return self._reader()

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several reads."""
        conn = self._reader()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @property
    def write_stats(self) -> tuple[int, int]:
        """(transactions committed, writes committed) since opening."""
        return self._writer.batches, self._writer.writes

    # -- deliveries

    record_delivery = _blocking(_record_delivery)
    record_delivery_async = _on_loop(_record_delivery)

    def mark_delivery_failed(self, delivery_id: str, detail: str) -> None:
        """Mark a delivery failed so that a redelivery of it is processed again."""
        self.write(lambda conn: sql.mark_delivery_failed(conn, delivery_id, detail))

    fail_handoff = _blocking(_fail_handoff)
    fail_handoff_async = _on_loop(_fail_handoff)

    async def queue_missed_commit_async(
        self, stack: str, sha: str, ref: str, reason: str
    ) -> Deployment | None:
        """The poll's write: record a deploy of `sha` unless any path queued it before
        (webhook.dedupe); None when it did."""

        def op(conn: sqlite3.Connection) -> Deployment | None:
            if sql.queued_deploy(conn, stack, sha) is not None:
                return None
            new = NewDeployment(DeploymentKind.DEPLOY, stack, sha, ref, reason)
            key = poll_key(stack, sha)
            status = DeliveryStatus.PROCESSED
            return sql.record_delivery(conn, key, POLL_EVENT, "", status, reason, new).deployment

        return await self.write_async(op)

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        return sql.select_delivery(self._reader(), delivery_id)

    def count_deliveries(self) -> int:
        return self._reader().execute("SELECT count(*) FROM deliveries").fetchone()[0]

    # -- deployments

    def create_deployment(self, new: NewDeployment) -> Deployment:
        """Record a new deployment request in state `queued`."""
        return self.write(lambda conn: sql.insert_deployment(conn, new, now_iso()))

    def set_state(
        self,
        deployment_id: int,
        state: DeploymentState,
        note: str = "",
        *,
        rolled_back_to: str | None = None,
    ) -> Deployment:
        """Move a deployment to `state` (checked against the state machine) and record it."""
        return self.set_states(deployment_id, [(state, note, rolled_back_to)])

    def set_states(self, deployment_id: int, changes: Sequence[Transition]) -> Deployment:
        """Several state changes of one deployment in one transaction: readers see the last
        state only, never the ones in between (e.g. `failed` right before `rolling_back`). Each
        (state, note, rolled_back_to) is checked against the state machine like `set_state`;
        an invalid one raises InvalidTransition and none of the changes is written."""
        return self.write(lambda conn: sql.set_states(conn, deployment_id, changes))

    def mark_interrupted(
        self, note: str = "the service stopped while this was running"
    ) -> list[Deployment]:
        """At startup: every deployment left running/verifying/rolling_back becomes interrupted."""
        return self.write(lambda conn: sql.mark_interrupted(conn, note))

    def get_deployment(self, deployment_id: int) -> Deployment:
        """The deployment with that id; raises NotFound."""
        return sql.select_deployment(self._reader(), deployment_id)

    def list_deployments(
        self,
        *,
        limit: int = 50,
        before_id: int | None = None,
        stack: str | None = None,
        kinds: Iterable[DeploymentKind] | None = None,
        states: Iterable[DeploymentState] | None = None,
        ascending: bool = False,
    ) -> list[Deployment]:
        """Deployments, newest first (or oldest first), filtered, `limit` at most."""
        where: list[str] = []
        params: list[Any] = []
        if before_id is not None:
            where.append("id < ?")
            params.append(before_id)
        if stack is not None:
            where.append("stack = ?")
            params.append(stack)
        for column, values in (("kind", kinds), ("state", states)):
            if values is not None:
                items = [str(v) for v in values]
                where.append(f"{column} IN ({','.join('?' * len(items))})")
                params.extend(items)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        order = "ASC" if ascending else "DESC"
        rows = self._reader().execute(
            f"SELECT {DEPLOYMENT_COLUMNS} FROM deployments {clause} ORDER BY id {order} LIMIT ?",
            [*params, limit],
        )
        return [Deployment.from_row(row) for row in rows]

    def deployments_in_states(
        self, states: Iterable[DeploymentState], stack: str | None = None
    ) -> list[Deployment]:
        """All deployments in those states, oldest first (e.g. `queued` ones at startup)."""
        return self.list_deployments(limit=-1, stack=stack, states=states, ascending=True)

    def last_good(self, stack: str, before_id: int | None = None) -> Deployment | None:
        """The newest succeeded deploy or rollback of `stack` (older than `before_id`)."""
        found = self.list_deployments(
            limit=1,
            before_id=before_id,
            stack=stack,
            kinds=(DeploymentKind.DEPLOY, DeploymentKind.ROLLBACK),
            states=(DeploymentState.SUCCEEDED,),
        )
        return found[0] if found else None

    def deployment_counts(self) -> list[tuple[str, str, int]]:
        """(kind, state, count) for each kind and state that has deployments."""
        rows = self._reader().execute(
            "SELECT kind, state, count(*) FROM deployments GROUP BY kind, state"
        )
        return [(r[0], r[1], r[2]) for r in rows]

    def last_healthy_times(self) -> dict[str, str]:
        """Stack → `updated_at` of its newest succeeded deploy or rollback."""
        rows = self._reader().execute(
            "SELECT stack, max(updated_at) FROM deployments"
            " WHERE state = 'succeeded' AND kind IN ('deploy', 'rollback') GROUP BY stack"
        )
        return {r[0]: r[1] for r in rows}

    def stacks(self) -> list[str]:
        """Every stack that has deployments, by name (an index skip-scan: one probe each)."""
        rows = self._reader().execute(
            "WITH RECURSIVE s(stack) AS (SELECT min(stack) FROM deployments UNION ALL"
            " SELECT (SELECT min(stack) FROM deployments WHERE stack > s.stack) FROM s"
            " WHERE s.stack IS NOT NULL) SELECT stack FROM s WHERE stack IS NOT NULL"
        )
        return [r[0] for r in rows]

    def state_histories(self, deployment_ids: Iterable[int]) -> dict[int, list[StateChange]]:
        """The state histories of several deployments in one query (a page of the list)."""
        ids = list(deployment_ids)
        found: dict[int, list[StateChange]] = {i: [] for i in ids}
        if not ids:
            return found
        rows = self._reader().execute(
            "SELECT deployment_id, state, note, at FROM deployment_states"
            f" WHERE deployment_id IN ({','.join('?' * len(ids))}) ORDER BY deployment_id, id",
            ids,
        )
        for r in rows:
            found[r[0]].append(StateChange(r[0], DeploymentState(r[1]), r[2], r[3]))
        return found

    def state_history(self, deployment_id: int) -> list[StateChange]:
        rows = self._reader().execute(
            "SELECT deployment_id, state, note, at FROM deployment_states"
            " WHERE deployment_id = ? ORDER BY id",
            (deployment_id,),
        )
        return [
            StateChange(r["deployment_id"], DeploymentState(r["state"]), r["note"], r["at"])
            for r in rows
        ]

    # -- log lines

    def append_log(self, deployment_id: int, *lines: str) -> int:
        """Append log lines to a deployment's log; returns how many were written."""
        return self.write(lambda conn: sql.append_log(conn, deployment_id, lines))

    def append_logs(self, lines_by_deployment: dict[int, list[str]]) -> None:
        """Append lines to several deployments' logs in one commit."""

        def op(conn: sqlite3.Connection) -> None:
            for deployment_id, lines in lines_by_deployment.items():
                sql.append_log(conn, deployment_id, tuple(lines))

        self.write(op)

    def read_log(self, deployment_id: int, after: int = 0, limit: int = 1000) -> list[LogLine]:
        """Log lines with sequence number > `after`, oldest first (page with the last seq)."""
        rows = self._reader().execute(
            "SELECT id, deployment_id, line, at FROM deployment_logs"
            " WHERE deployment_id = ? AND id > ? ORDER BY id LIMIT ?",
            (deployment_id, after, limit),
        )
        return [LogLine(r["id"], r["deployment_id"], r["line"], r["at"]) for r in rows]

    # -- each `up` of a stack (webhook/orchestrator/unchanged.py)

    def record_apply(
        self,
        deployment_id: int,
        stack: str,
        sha: str,
        purpose: str,
        path: str,
        reason: str,
        fingerprint: str = "",
        parts: str = "{}",
    ) -> int:
        """Record an `up` about to start (or skipped: `path` "unchanged"); its id."""
        return self.write(
            lambda conn: applies.insert(
                conn,
                deployment_id,
                stack,
                sha,
                purpose,
                path,
                reason,
                fingerprint,
                parts,
                now_iso(),
            )
        )

    def mark_apply_healthy(self, apply_id: int, outputs: str, containers: str) -> None:
        """The apply's health checks passed: keep what it deployed as the next proof base."""
        self.write(
            lambda conn: applies.mark_healthy(conn, apply_id, outputs, containers, now_iso())
        )

    def newest_apply(self, stack: str) -> StackApply | None:
        """The stack's last `up` (or skipped one): what the engine should now run."""
        return applies.newest(self._reader(), stack)

    def applies_of(self, deployment_id: int) -> list[StackApply]:
        """The deployment's applies, oldest first (its own, then its rollback's)."""
        return applies.of_deployment(self._reader(), deployment_id)

    def is_forced(self, deployment_id: int) -> bool:
        """Whether the deployment was asked for with `force` (always a full `up`)."""
        return applies.is_forced(self._reader(), deployment_id)

    # -- the deployments page's sessions

    def session_not_before(self) -> float:
        """Login cookies made before this time (epoch seconds) are void; 0 when none is."""
        row = (
            self._reader()
            .execute("SELECT value FROM meta WHERE key = 'ui_session_not_before'")
            .fetchone()
        )
        return float(row[0]) if row else 0.0

    def end_sessions(self, at: float) -> None:
        """Void every login cookie made before `at` (logging out; kept across restarts)."""

        def op(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('ui_session_not_before', ?)",
                (repr(at),),
            )

        self.write(op)

    # -- health

    check_writable = _blocking(_touch)
    check_writable_async = _on_loop(_touch)
