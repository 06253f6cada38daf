"""The deployment queue interface between the HTTP service and whatever runs deployments.

Contract (also in docs/webhook.md, "Queue contract"):

- The service records a deployment (state `queued`) and commits it *before* calling
  `submit(deployment_id)`. The row is the durable hand-off: if the process dies right after
  the commit, the queue finds the row at its next `start()`.
- `submit` is called on the event loop thread: it must return at once (no I/O, no waiting)
  and must not raise for an ordinary request. If it cannot take work (stopped, overloaded)
  it raises `QueueUnavailable`; the service then marks the deployment `failed` and the
  delivery `failed` (so a GitHub redelivery is processed again) and answers 503. The
  hook, the API and the poll all hand over through `hand_off` (or `hand_off_sync`).
- From `submit` on, the queue owns the deployment: it moves it through the states with
  `Store.set_state` (which enforces webhook.store.states.TRANSITIONS) and writes its log with
  `Store.append_log`. It may coalesce: an older queued deployment of the same stack becomes
  `superseded`.
- `start()` runs once before the first `submit` (in the app's lifespan): recover from a
  crash (`Store.mark_interrupted()`, then re-take `queued` rows); `stop()` at shutdown.
- `depth()` is the number of deployments accepted but not yet finished (exported as the
  `slipway_queue_depth` metric); it must be cheap and thread-safe.
- Optional: `problems()`, a list of `webhook.http.readiness.Problem` (what keeps deployments from
  running now), shown by `/readyz` and read by the deploy client.
"""

from __future__ import annotations

import threading
from typing import Protocol, runtime_checkable

from webhook.http.readiness import NO_REPOSITORY, Problem
from webhook.store import Deployment, Store
from webhook.store.states import DeploymentState


class QueueUnavailable(RuntimeError):
    """The queue cannot take work now; the caller answers 503 and the delivery may be retried."""


@runtime_checkable
class DeploymentQueue(Protocol):
    """What the HTTP service needs from the thing that runs deployments."""

    def start(self) -> None:
        """Recover from the last run and begin taking work."""

    def submit(self, deployment_id: int) -> None:
        """Take a committed, `queued` deployment. Must not block; may raise QueueUnavailable."""

    def depth(self) -> int:
        """Deployments accepted and not yet finished."""

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking work and let the current step finish (within `timeout` seconds)."""


def _submit(queue: DeploymentQueue, deployment_id: int) -> str | None:
    """Give the queue a recorded deployment; why it refused it, or None when it took it."""
    try:
        queue.submit(deployment_id)
    except QueueUnavailable as error:
        return f"queue refused the deployment: {error}"
    return None


async def hand_off(
    store: Store, queue: DeploymentQueue, deployment: Deployment, delivery_id: str | None
) -> str | None:
    """The one hand-off after the `queued` row is committed: submit the deployment; when the
    queue refuses it, mark it and its delivery `failed` in one commit and return why (the
    caller answers 503 or tries again later). None when the queue took it."""
    refused = _submit(queue, deployment.id)
    if refused is not None:
        await store.fail_handoff_async(deployment.id, delivery_id, refused)
    return refused


def hand_off_sync(
    store: Store, queue: DeploymentQueue, deployment: Deployment, delivery_id: str | None
) -> str | None:
    """`hand_off` for code off the event loop (the API's routes run in a thread pool)."""
    refused = _submit(queue, deployment.id)
    if refused is not None:
        store.fail_handoff(deployment.id, delivery_id, refused)
    return refused


RECENT = 1000


class RecordingQueue:
    """The default queue when no orchestrator is plugged in. The request is already
    recorded (its `queued` row); this queue notes each id it is handed and leaves the
    deployment `queued`, so that an orchestrator started later finds it. Its `depth` counts
    them all (none finishes here), and `problems` says that nothing deploys. It notes the
    id in `submit` itself: a worker thread woken for every delivery cost the event loop a
    GIL hand-off per accepted push.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._running = False
        self._lock = threading.Lock()
        self._depth = 0
        self.recorded: list[int] = []  # the latest RECENT ids noted (tests, debugging)

    def start(self) -> None:
        if self._running:
            return
        self._store.mark_interrupted()
        for deployment in self._store.deployments_in_states([DeploymentState.QUEUED]):
            self._note(deployment.id)
        self._running = True

    def submit(self, deployment_id: int) -> None:
        if not self._running:
            raise QueueUnavailable("the queue is not running")
        self._note(deployment_id)

    def depth(self) -> int:
        """Deployments handed over since start (found queued, or submitted): all still wait."""
        return self._depth

    def problems(self) -> list[Problem]:
        return [NO_REPOSITORY]

    def stop(self, timeout: float = 10.0) -> None:
        self._running = False

    def _note(self, deployment_id: int) -> None:
        with self._lock:
            self._depth += 1
            self.recorded.append(deployment_id)
            del self.recorded[:-RECENT]  # bounded: the service may run for months
