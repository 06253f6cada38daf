"""The SQLite store: deliveries, deployments, their state history and log lines.

One database file under the state directory, in WAL mode, with one write connection. Writes
are grouped: many callers' writes share one transaction (group commit) and each caller is
answered only after that commit is durable (`synchronous=FULL`). Writes from threads go to
a writer thread; writes from the event loop (`*_async`) run on the loop thread and only
their COMMIT waits on a helper thread; a lock keeps the two to one transaction at a time.
Reads use one connection per thread, so HTTP handlers and worker threads read in parallel.

Every public method is thread-safe. The `*_async` variants are for the event loop: they wait
for the commit without blocking the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from webhook.dedupe import POLL_EVENT, found_by_poll, poll_key, queued_deploy
from webhook.states import (
    ACTIVE_STATES,
    DeploymentKind,
    DeploymentState,
    check_transition,
)

T = TypeVar("T")
WriteOp = Callable[[sqlite3.Connection], T]

MAX_BATCH = 512
"""Most writes committed in one transaction; bounds how long one commit holds the lock."""

MIGRATIONS: tuple[str, ...] = (
    # 1: the initial schema.
    """
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        action TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        deployment_id INTEGER REFERENCES deployments(id),
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE deployments (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        stack TEXT NOT NULL,
        sha TEXT NOT NULL,
        ref TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        delivery_id TEXT,
        pr_number INTEGER,
        head_repo TEXT,
        rollback_of INTEGER REFERENCES deployments(id),
        rolled_back_to TEXT
    );
    CREATE INDEX deployments_stack_state ON deployments(stack, state, id);
    CREATE TABLE deployment_states (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id INTEGER NOT NULL REFERENCES deployments(id),
        state TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE INDEX deployment_states_by_deployment ON deployment_states(deployment_id, id);
    CREATE TABLE deployment_logs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        deployment_id INTEGER NOT NULL REFERENCES deployments(id),
        line TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX deployment_logs_by_deployment ON deployment_logs(deployment_id, id);
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    -- Done by SQLite inside the INSERT itself: fewer statements on the hot path.
    CREATE TRIGGER deployment_first_state AFTER INSERT ON deployments BEGIN
        INSERT INTO deployment_states (deployment_id, state, note, at)
        VALUES (NEW.id, NEW.state, NEW.reason, NEW.created_at);
    END;
    CREATE TRIGGER deployment_links_delivery AFTER INSERT ON deployments
    WHEN NEW.delivery_id IS NOT NULL BEGIN
        UPDATE deliveries SET deployment_id = NEW.id WHERE id = NEW.delivery_id;
    END;
    """,
)
"""Schema migrations, applied in order; `schema_version` records how many ran."""


def now_iso() -> str:
    """The current UTC time as ISO 8601 with microseconds (sorts as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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


class StoreClosed(RuntimeError):
    """The store was closed; nothing more can be written."""


class SchemaTooNew(RuntimeError):
    """The database was written by a newer Slipway (its schema version is unknown here)."""


class NotFound(LookupError):
    """No row with that id."""


_DEPLOYMENT_COLUMNS = ", ".join(f.name for f in fields(Deployment))


# ---- write operations: run on the writer thread, inside the batch transaction ----------


def _insert_deployment(conn: sqlite3.Connection, new: NewDeployment, at: str) -> Deployment:
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


def _select_deployment(conn: sqlite3.Connection, deployment_id: int) -> Deployment:
    row = conn.execute(
        f"SELECT {_DEPLOYMENT_COLUMNS} FROM deployments WHERE id = ?", (deployment_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no deployment {deployment_id}")
    return Deployment.from_row(row)


def _select_delivery(conn: sqlite3.Connection, delivery_id: str) -> Delivery | None:
    row = conn.execute("SELECT * FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    return Delivery(**dict(row)) if row else None


def _record_delivery(
    conn: sqlite3.Connection,
    delivery_id: str,
    event: str,
    action: str,
    status: str,
    detail: str,
    new: NewDeployment | None,
) -> DeliveryOutcome:
    at = now_iso()
    inserted = conn.execute(
        "INSERT INTO deliveries (id, event, action, status, detail, received_at, updated_at)"
        " VALUES (?,?,?,?,?,?,?) ON CONFLICT (id) DO NOTHING",
        (delivery_id, event, action, status, detail, at, at),
    ).rowcount
    existing = None if inserted else _select_delivery(conn, delivery_id)
    if existing is not None and existing.status != DeliveryStatus.FAILED:
        deployment = (
            _select_deployment(conn, existing.deployment_id) if existing.deployment_id else None
        )
        return DeliveryOutcome(existing, deployment, duplicate=True)
    if new is not None and new.kind == DeploymentKind.DEPLOY:
        polled = found_by_poll(conn, new.stack, new.sha)
        if polled is not None:  # a late delivery of a push the poll queued already
            return _link_delivery(conn, delivery_id, polled, at)
    if new is not None and new.delivery_id is None:
        new = replace(new, delivery_id=delivery_id)
    deployment = _insert_deployment(conn, new, at) if new is not None else None
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


def _link_delivery(
    conn: sqlite3.Connection, delivery_id: str, deployment_id: int, at: str
) -> DeliveryOutcome:
    """Record a delivery as a duplicate of the deployment the poll queued for its commit."""
    detail = f"commit already queued by the poll as deployment {deployment_id}"
    conn.execute(
        "UPDATE deliveries SET status=?, detail=?, deployment_id=?, updated_at=? WHERE id=?",
        (DeliveryStatus.PROCESSED, detail, deployment_id, at, delivery_id),
    )
    delivery = _select_delivery(conn, delivery_id)
    assert delivery is not None
    return DeliveryOutcome(delivery, _select_deployment(conn, deployment_id), duplicate=True)


def _mark_delivery_failed(conn: sqlite3.Connection, delivery_id: str, detail: str) -> None:
    conn.execute(
        "UPDATE deliveries SET status=?, detail=?, updated_at=? WHERE id=?",
        (DeliveryStatus.FAILED, detail, now_iso(), delivery_id),
    )


def _set_state(
    conn: sqlite3.Connection,
    deployment_id: int,
    state: DeploymentState,
    note: str,
    rolled_back_to: str | None,
) -> Deployment:
    current = _select_deployment(conn, deployment_id)
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
    return _select_deployment(conn, deployment_id)


def _append_log(conn: sqlite3.Connection, deployment_id: int, lines: tuple[str, ...]) -> int:
    # An unknown deployment id fails on the foreign key.
    at = now_iso()
    conn.executemany(
        "INSERT INTO deployment_logs (deployment_id, line, at) VALUES (?,?,?)",
        [(deployment_id, line, at) for line in lines],
    )
    return len(lines)


def _mark_interrupted(conn: sqlite3.Connection, note: str) -> list[Deployment]:
    placeholders = ",".join("?" * len(ACTIVE_STATES))
    rows = conn.execute(
        f"SELECT id FROM deployments WHERE state IN ({placeholders}) ORDER BY id",
        [str(s) for s in ACTIVE_STATES],
    ).fetchall()
    return [_set_state(conn, row["id"], DeploymentState.INTERRUPTED, note, None) for row in rows]


def _touch(conn: sqlite3.Connection) -> str:
    at = now_iso()
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_ready_check', ?)", (at,))
    return at


# ---- connections and the writer thread -------------------------------------------------


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _statements(script: str) -> Iterator[str]:
    """The SQL statements of a script (triggers included), one at a time."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in a migration: {pending.strip()[:80]}")


def _migrate(conn: sqlite3.Connection) -> int:
    """Apply the migrations not yet applied; return the schema version."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    version = row[0] if row else 0
    if version > len(MIGRATIONS):
        raise SchemaTooNew(
            f"database schema version {version} is newer than this code knows "
            f"({len(MIGRATIONS)}): run the newer Slipway version or restore a backup"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(script):
                conn.execute(statement)
            conn.execute("DELETE FROM schema_version")
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version = number
    return version


class _Writer(threading.Thread):
    """The single writer: runs queued operations in batches, one transaction per batch."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(name="slipway-store-writer", daemon=True)
        self._conn = conn
        self.conn = conn
        # Held for a whole transaction, by this thread or by the _LoopWriter.
        self.lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[WriteOp[Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self.batches = 0
        self.writes = 0

    def submit(self, op: WriteOp[T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((op, future))
        return future

    def stop(self) -> None:
        self._queue.put(None)
        self.join()

    def run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._run_batch(batch)
        self._conn.close()

    def _run_batch(self, batch: list[tuple[WriteOp[Any], Future[Any]]]) -> None:
        live = [(op, future) for op, future in batch if future.set_running_or_notify_cancel()]
        try:
            results = self._commit(live)
        except Exception:
            if len(live) == 1:
                live[0][1].set_exception(sys.exc_info()[1] or RuntimeError("write failed"))
                return
            # One write failed (or the commit did): redo them one per transaction, so a
            # bad write fails alone and the others still commit.
            for item in live:
                self._run_batch_single(item)
            return
        self.batches += 1
        self.writes += len(live)
        for (_, future), value in zip(live, results, strict=True):
            future.set_result(value)

    def _run_batch_single(self, item: tuple[WriteOp[Any], Future[Any]]) -> None:
        try:
            (value,) = self._commit([item])
        except Exception as error:
            item[1].set_exception(error)
        else:
            self.batches += 1
            self.writes += 1
            item[1].set_result(value)

    def _commit(self, batch: list[tuple[WriteOp[Any], Future[Any]]]) -> list[Any]:
        """Run the operations in one transaction; all or nothing."""
        conn = self._conn
        with self.lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                results = [op(conn) for op, _ in batch]
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
        return results


class _LoopWriter:
    """Group commit for callers on the event loop. Their statements run on the loop thread
    itself (handing each statement to another thread costs a GIL hand-off per statement);
    only the COMMIT, which waits for the disk, runs on a helper thread while the loop
    gathers the next batch. Each caller is answered after its batch's COMMIT.
    """

    def __init__(self, writer: _Writer) -> None:
        self._writer = writer
        self._pending: list[tuple[WriteOp[Any], asyncio.Future[Any]]] = []
        self._flushing = False
        self._helper = ThreadPoolExecutor(1, thread_name_prefix="slipway-store-commit")
        self._flush_task: asyncio.Task[None] | None = None

    async def write(self, op: WriteOp[T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((op, future))
        if not self._flushing:
            self._flushing = True
            self._flush_task = loop.create_task(self._flush(loop))
        return await future

    def close(self) -> None:
        self._helper.shutdown(wait=True)

    async def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while self._pending:
                batch = self._pending[:MAX_BATCH]
                del self._pending[:MAX_BATCH]
                await self._run(loop, batch)
        finally:
            self._flushing = False

    async def _run(
        self, loop: asyncio.AbstractEventLoop, batch: list[tuple[WriteOp[Any], asyncio.Future[Any]]]
    ) -> None:
        writer, conn = self._writer, self._writer.conn
        if not writer.lock.acquire(blocking=False):
            await loop.run_in_executor(self._helper, writer.lock.acquire)
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
                results = [op(conn) for op, _ in batch]
            except Exception as error:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                failed: Exception | None = error
            else:
                failed = None
                try:
                    await loop.run_in_executor(self._helper, conn.execute, "COMMIT")
                except Exception as error:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    return
        finally:
            writer.lock.release()
        if failed is not None:
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(failed)
                return
            for item in batch:  # one write failed: redo them one per transaction
                await self._run(loop, [item])
            return
        writer.batches += 1
        writer.writes += len(batch)
        for (_, future), value in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(value)


class Store:
    """Thread-safe access to the Slipway database. Open with `Store.open(path)`."""

    def __init__(self, path: Path, writer: _Writer, schema_version: int) -> None:
        self.path = path
        self.schema_version = schema_version
        self._writer = writer
        self._loop_writer = _LoopWriter(writer)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, path: Path | str) -> Store:
        """Open (creating and migrating if needed) the database at `path`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise RuntimeError(f"{path}: SQLite refused WAL mode (got {mode}); use a local disk")
        # FULL: a commit is on disk before the caller hears about it.
        conn.execute("PRAGMA synchronous = FULL")
        version = _migrate(conn)
        writer = _Writer(conn)
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
            conn = _connect(self.path)
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

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

    def record_delivery(
        self,
        delivery_id: str,
        event: str,
        action: str = "",
        status: str = DeliveryStatus.PROCESSED,
        detail: str = "",
        deployment: NewDeployment | None = None,
    ) -> DeliveryOutcome:
        """Record a delivery (and the deployment it requests) unless already processed.

        A delivery id seen before with status `failed` is processed again; any other status
        makes this a duplicate and nothing is written.
        """
        return self.write(self._delivery_op(delivery_id, event, action, status, detail, deployment))

    async def record_delivery_async(
        self,
        delivery_id: str,
        event: str,
        action: str = "",
        status: str = DeliveryStatus.PROCESSED,
        detail: str = "",
        deployment: NewDeployment | None = None,
    ) -> DeliveryOutcome:
        """`record_delivery` for the event loop."""
        op = self._delivery_op(delivery_id, event, action, status, detail, deployment)
        return await self.write_async(op)

    @staticmethod
    def _delivery_op(
        delivery_id: str,
        event: str,
        action: str,
        status: str,
        detail: str,
        deployment: NewDeployment | None,
    ) -> WriteOp[DeliveryOutcome]:
        def op(conn: sqlite3.Connection) -> DeliveryOutcome:
            return _record_delivery(conn, delivery_id, event, action, status, detail, deployment)

        return op

    def mark_delivery_failed(self, delivery_id: str, detail: str) -> None:
        """Mark a delivery failed so that a redelivery of it is processed again."""
        self.write(lambda conn: _mark_delivery_failed(conn, delivery_id, detail))

    def fail_handoff(self, deployment_id: int, delivery_id: str | None, detail: str) -> None:
        """The queue refused a deployment: mark it (and its delivery) failed, in one commit."""
        self.write(self._fail_handoff_op(deployment_id, delivery_id, detail))

    async def fail_handoff_async(
        self, deployment_id: int, delivery_id: str | None, detail: str
    ) -> None:
        """`fail_handoff` for the event loop."""
        await self.write_async(self._fail_handoff_op(deployment_id, delivery_id, detail))

    @staticmethod
    def _fail_handoff_op(deployment_id: int, delivery_id: str | None, detail: str) -> WriteOp[None]:
        def op(conn: sqlite3.Connection) -> None:
            _set_state(conn, deployment_id, DeploymentState.FAILED, detail, None)
            if delivery_id is not None:
                _mark_delivery_failed(conn, delivery_id, detail)

        return op

    async def queue_missed_commit_async(
        self, stack: str, sha: str, ref: str, reason: str
    ) -> Deployment | None:
        """The poll's write: record a deploy of `sha` unless any path queued it before
        (webhook.dedupe); None when it did."""

        def op(conn: sqlite3.Connection) -> Deployment | None:
            if queued_deploy(conn, stack, sha) is not None:
                return None
            new = NewDeployment(DeploymentKind.DEPLOY, stack, sha, ref, reason)
            key = poll_key(stack, sha)
            status = DeliveryStatus.PROCESSED
            return _record_delivery(conn, key, POLL_EVENT, "", status, reason, new).deployment

        return await self.write_async(op)

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        return _select_delivery(self._reader(), delivery_id)

    def count_deliveries(self) -> int:
        return self._reader().execute("SELECT count(*) FROM deliveries").fetchone()[0]

    # -- deployments

    def create_deployment(self, new: NewDeployment) -> Deployment:
        """Record a new deployment request in state `queued`."""
        return self.write(lambda conn: _insert_deployment(conn, new, now_iso()))

    def set_state(
        self,
        deployment_id: int,
        state: DeploymentState,
        note: str = "",
        *,
        rolled_back_to: str | None = None,
    ) -> Deployment:
        """Move a deployment to `state` (checked against the state machine) and record it."""
        return self.write(lambda conn: _set_state(conn, deployment_id, state, note, rolled_back_to))

    def mark_interrupted(
        self, note: str = "the service stopped while this was running"
    ) -> list[Deployment]:
        """At startup: every deployment left running/verifying/rolling_back becomes interrupted."""
        return self.write(lambda conn: _mark_interrupted(conn, note))

    def get_deployment(self, deployment_id: int) -> Deployment:
        """The deployment with that id; raises NotFound."""
        return _select_deployment(self._reader(), deployment_id)

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
            f"SELECT {_DEPLOYMENT_COLUMNS} FROM deployments {clause} ORDER BY id {order} LIMIT ?",
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
        return self.write(lambda conn: _append_log(conn, deployment_id, lines))

    def append_logs(self, lines_by_deployment: dict[int, list[str]]) -> None:
        """Append lines to several deployments' logs in one commit."""

        def op(conn: sqlite3.Connection) -> None:
            for deployment_id, lines in lines_by_deployment.items():
                _append_log(conn, deployment_id, tuple(lines))

        self.write(op)

    def read_log(self, deployment_id: int, after: int = 0, limit: int = 1000) -> list[LogLine]:
        """Log lines with sequence number > `after`, oldest first (page with the last seq)."""
        rows = self._reader().execute(
            "SELECT id, deployment_id, line, at FROM deployment_logs"
            " WHERE deployment_id = ? AND id > ? ORDER BY id LIMIT ?",
            (deployment_id, after, limit),
        )
        return [LogLine(r["id"], r["deployment_id"], r["line"], r["at"]) for r in rows]

    # -- health

    def check_writable(self) -> str:
        """Commit a tiny write; raises if the database cannot be written."""
        return self.write(_touch)

    async def check_writable_async(self) -> str:
        return await self.write_async(_touch)
