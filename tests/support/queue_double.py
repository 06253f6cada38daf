"""`FakeQueue`: the tests' one stand-in for a deployment queue (webhook/queue.py's contract).

In the spirit of httpx's `MockTransport`, the test says what happens and the double does
nothing else:

    FakeQueue()                     # records each id it is handed; nothing ever runs
    FakeQueue(refuse=True)          # every `submit` raises QueueUnavailable (set it back later)
    FakeQueue(problems=[problem])   # what /readyz and the page report (`problems()`)
    FakeQueue(play)                 # a worker thread calls `play(deployment_id)` for each id

`submitted` lists the ids taken, in order; `depth()` counts those not yet played (all of
them without `play`), as the real queue counts deployments accepted and not yet finished.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable

from webhook.http.readiness import Problem
from webhook.queue import QueueUnavailable


class FakeQueue:
    """A DeploymentQueue that records, refuses or plays what it is handed, as told."""

    def __init__(
        self,
        play: Callable[[int], object] | None = None,
        *,
        refuse: bool = False,
        problems: Iterable[Problem] = (),
    ) -> None:
        self.submitted: list[int] = []
        self.refuse = refuse
        self._play = play
        self._problems = list(problems)
        self._pending: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._unfinished = 0

    def start(self) -> None:
        if self._play is not None and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="fake-queue", daemon=True)
            self._thread.start()

    def submit(self, deployment_id: int) -> None:
        if self.refuse:
            raise QueueUnavailable("refusing on purpose (test)")
        with self._lock:
            self.submitted.append(deployment_id)
            self._unfinished += 1
        if self._play is not None:
            self._pending.put(deployment_id)

    def depth(self) -> int:
        with self._lock:
            return self._unfinished

    def problems(self) -> list[Problem]:
        return list(self._problems)

    def stop(self, timeout: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._pending.put(None)
            thread.join(timeout)

    def _run(self) -> None:
        assert self._play is not None
        while (deployment_id := self._pending.get()) is not None:
            self._play(deployment_id)
            with self._lock:
                self._unfinished -= 1
