"""The orchestrator: the service's DeploymentQueue (webhook/queue.py contract).

`submit` only hands the id to a dispatcher thread; the dispatcher wakes the stack's
worker (created on first use); the worker reads its queued deployments from the store.
The store is the queue: nothing waits only in memory, so a restart loses nothing.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from webhook.http.readiness import Problem, Recovered
from webhook.orchestrator.drift import DriftChecker
from webhook.orchestrator.pipeline import Pipeline
from webhook.orchestrator.reconcile import healthy_commit
from webhook.orchestrator.recovery import Recovery
from webhook.orchestrator.worker import StackWorker
from webhook.queue import QueueUnavailable
from webhook.store import NotFound, Store
from webhook.store.states import DeploymentState

logger = logging.getLogger("slipway.orchestrator")

GRACE_OVER_NOTE = (
    "the shutdown grace period ran out while this was running; see docs/runbook.md "
    "'Recover from interrupted'"
)


class Orchestrator:
    """Per-stack workers behind the DeploymentQueue interface."""

    def __init__(self, store: Store, pipeline: Pipeline, recovery: Recovery) -> None:
        self.store = store
        self.pipeline = pipeline
        self.recovery = recovery
        self._inbox: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._workers: dict[str, StackWorker] = {}
        self._outstanding: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self.drift = DriftChecker(store, pipeline, submit=self._accept)
        unchanged = getattr(pipeline, "unchanged", None)  # a drifted stack never skips `up`
        if unchanged is not None and unchanged.drift is None:
            unchanged.drift = self.drift.found

    # -- DeploymentQueue

    def start(self) -> None:
        """Recover from the last run, then take the queued deployments and new work."""
        if self._dispatcher is not None:
            return
        self.recovery.run()
        threading.Thread(target=self._prepare_mirror, name="slipway-mirror", daemon=True).start()
        self._dispatcher = threading.Thread(
            target=self._dispatch, name="slipway-dispatcher", daemon=True
        )
        self._dispatcher.start()
        for deployment in self.store.deployments_in_states([DeploymentState.QUEUED]):
            self._accept(deployment.id)
        self._start_drift_checks()

    def _start_drift_checks(self) -> None:
        """Each deployed stack's worker checks for drift every SLIPWAY_DRIFT_INTERVAL_SECONDS
        (the first check one interval after start); checks a stopped service left are
        recorded `cancelled`."""
        assert self.drift.records is not None
        self.drift.records.cancel_running("the service stopped while this check ran")
        if self.drift.interval <= 0:
            return
        for stack in self.store.stacks():
            if healthy_commit(self.store, stack) is not None:
                self._worker(stack)

    def submit(self, deployment_id: int) -> None:
        """Take a committed `queued` deployment; never blocks."""
        if self._dispatcher is None or self._stopping.is_set():
            raise QueueUnavailable("the orchestrator is not running (starting or shutting down)")
        self._accept(deployment_id)

    def depth(self) -> int:
        return len(self._outstanding)

    def problems(self) -> list[Problem]:
        """What keeps deployments from running now (for `/readyz`): missing commands,
        recoveries that failed at start."""
        return [*self.pipeline.preflight.problems(), *self.recovery.problems]

    def recovered(self) -> list[Recovered]:
        """What the recovery at this start did, per deployment (for `/readyz`)."""
        return list(self.recovery.recovered)

    def stop(self, timeout: float | None = None) -> None:
        """Stop taking work; let running jobs finish within the grace period (`timeout`,
        default SLIPWAY_SHUTDOWN_GRACE_SECONDS); after it, record them `interrupted`.
        Queued deployments stay in the store for the next start."""
        if self._stopping.is_set():
            return
        grace = self.pipeline.settings.shutdown_grace_seconds if timeout is None else timeout
        self._stopping.set()
        self._inbox.put(None)
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.wake.set()
        deadline = time.monotonic() + grace
        for worker in workers:
            if worker.thread is not None:
                worker.thread.join(max(0.0, deadline - time.monotonic()))
        for worker in workers:
            if worker.thread is not None and worker.thread.is_alive():
                logger.warning("stack %s: grace period over, recording interrupted", worker.stack)
                worker.interrupt(GRACE_OVER_NOTE)
        if self._dispatcher is not None:
            self._dispatcher.join(1)

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the worker threads to end after `stop`; True if they did."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = [w.thread for w in self._workers.values() if w.thread is not None]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in threads)

    # -- internals

    def _accept(self, deployment_id: int) -> None:
        with self._lock:
            self._outstanding.add(deployment_id)
        self._inbox.put(deployment_id)

    def _finished(self, deployment_id: int) -> None:
        with self._lock:
            self._outstanding.discard(deployment_id)

    def _prepare_mirror(self) -> None:
        """Clone the repository before the first request needs it."""
        try:
            self.pipeline.mirror.prepare()
        except Exception as error:  # the first job reports it with its own log
            logger.warning("could not prepare the git mirror: %s", error)

    def _dispatch(self) -> None:
        while (deployment_id := self._inbox.get()) is not None:
            try:
                deployment = self.store.get_deployment(deployment_id)
            except NotFound:
                logger.error("submitted deployment %s does not exist", deployment_id)
                self._finished(deployment_id)
                continue
            except Exception:
                logger.exception("could not read deployment %s", deployment_id)
                continue
            worker = self._worker(deployment.stack)
            if deployment.state != DeploymentState.QUEUED and worker.running_id != deployment_id:
                # The worker took it from the store (ran or superseded it) before `submit`.
                self._finished(deployment_id)
            worker.wake.set()

    def _worker(self, stack: str) -> StackWorker:
        with self._lock:
            worker = self._workers.get(stack)
            if worker is None:
                worker = StackWorker(
                    stack, self.store, self.pipeline, self._finished, self._stopping,
                    drift=self.drift,
                )  # fmt: skip
                self._workers[stack] = worker
                worker.start()
            return worker
