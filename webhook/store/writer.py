"""Group commit: many callers' writes share one transaction, and each caller is answered
only after that transaction commits."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
WriteOp = Callable[[sqlite3.Connection], T]

MAX_BATCH = 512
"""Most writes committed in one transaction; bounds how long one commit holds the lock."""


class Writer(threading.Thread):
    """The single writer: runs queued operations in batches, one transaction per batch."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(name="slipway-store-writer", daemon=True)
        self._conn = conn
        self.conn = conn
        # Held for a whole transaction, by this thread or by the LoopWriter.
        self.lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[WriteOp[Any], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self.batches = 0
        self.writes = 0

    def submit(self, op: WriteOp[T]) -> Future[T]:
        """Queue `op`; the future resolves after its batch commits."""
        future: Future[T] = Future()
        self._queue.put((op, future))
        return future

    def stop(self) -> None:
        """Commit what is queued, close the connection and end the thread."""
        self._queue.put(None)
        self.join()

    def run(self) -> None:
        """Take the queued operations in batches of MAX_BATCH at most; commit each batch."""
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


class _OffLoop(threading.Thread):
    """One helper thread for the LoopWriter's blocking calls (the COMMIT, a busy lock):
    a call is queued with the loop's future and answered through call_soon_threadsafe.
    Cheaper per call than run_in_executor (no work item, no concurrent Future to chain)."""

    def __init__(self) -> None:
        super().__init__(name="slipway-store-commit", daemon=True)
        self._calls: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()

    def call(self, loop: asyncio.AbstractEventLoop, fn: Callable[..., T], *args: Any) -> Any:
        """`fn(*args)` on this thread; an awaitable of its result on `loop`."""
        if self.ident is None:  # started on first use (from the loop's thread)
            self.start()
        future = loop.create_future()
        self._calls.put((loop, future, fn, args))
        return future

    def stop(self) -> None:
        if self.is_alive():
            self._calls.put(None)
            self.join()

    def run(self) -> None:
        while (item := self._calls.get()) is not None:
            loop, future, fn, args = item
            try:
                outcome, value = _resolve, fn(*args)
            except BaseException as error:  # handed to the awaiting caller
                outcome, value = _fail, error
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(outcome, future, value)


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


class LoopWriter:
    """Group commit for callers on the event loop. Their statements run on the loop thread
    itself (handing each statement to another thread costs a GIL hand-off per statement);
    only the COMMIT, which waits for the disk, runs on a helper thread while the loop
    gathers the next batch. Each caller is answered after its batch's COMMIT.
    """

    def __init__(self, writer: Writer) -> None:
        self._writer = writer
        self._pending: list[tuple[WriteOp[Any], asyncio.Future[Any]]] = []
        self._flushing = False
        self._helper = _OffLoop()
        self._flush_task: asyncio.Task[None] | None = None

    async def write(self, op: WriteOp[T]) -> T:
        """Run `op` in the loop's next batch; its result once that batch has committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((op, future))
        if not self._flushing:
            self._flushing = True
            self._flush_task = loop.create_task(self._flush(loop))
        return await future

    def close(self) -> None:
        """Stop the commit helper thread."""
        self._helper.stop()

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
            await self._helper.call(loop, writer.lock.acquire)
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
                    await self._helper.call(loop, conn.execute, "COMMIT")
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
