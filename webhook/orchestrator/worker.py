"""One worker thread per stack: two updates never run on one stack at once; in between,
the stack's drift checks (webhook/orchestrator/drift.py)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from webhook.orchestrator.drift import DriftChecker
from webhook.orchestrator.journal import Journal
from webhook.orchestrator.pipeline import Pipeline
from webhook.orchestrator.selection import pick_next
from webhook.runners.cpu_group import children_in, deploy_group
from webhook.store import Deployment, Store
from webhook.store.drift import DriftResult
from webhook.store.states import DeploymentState

logger = logging.getLogger("slipway.orchestrator")


@dataclass
class StackWorker:
    """Takes the stack's queued deployments from the store, coalesced, one at a time."""

    stack: str
    store: Store
    pipeline: Pipeline
    on_finished: Callable[[int], None]
    stopping: threading.Event
    wake: threading.Event = field(default_factory=threading.Event)
    cancel: threading.Event = field(default_factory=threading.Event)
    current: Deployment | None = None
    thread: threading.Thread | None = None
    drift: DriftChecker | None = None  # None or interval 0: no drift checks
    next_check: float = 0.0  # time.monotonic() when the next drift check is due

    def start(self) -> None:
        if self.drift is not None:
            self.next_check = time.monotonic() + self.drift.interval
        self.thread = threading.Thread(
            target=self._loop, name=f"slipway-worker-{self.stack}", daemon=True
        )
        self.thread.start()

    def _loop(self) -> None:
        settings = self.pipeline.settings
        lower_thread_priority(settings.deploy_nice)
        # the stack child, git and the docker CLI start in the idle group (cpu_group.command)
        with children_in(deploy_group() if settings.deploy_cpu_idle else None):
            while not self.stopping.is_set():
                self.wake.wait(self._seconds_to_check())
                self.wake.clear()
                while not self.stopping.is_set() and self._run_next():
                    pass
                if not self.stopping.is_set() and self._seconds_to_check() == 0:
                    self._check_drift()

    def _seconds_to_check(self) -> float | None:
        """Until the next drift check is due (0: now); None when checks are off."""
        if self.drift is None or self.drift.interval <= 0:
            return None
        return max(0.0, self.next_check - time.monotonic())

    def _check_drift(self) -> None:
        """The lowest-priority work: only with no job queued, and ended by the next one (the
        dispatcher sets `wake`), which then runs at once; tried again later."""
        assert self.drift is not None
        try:
            check = self.drift.check(self.stack, stop=self.wake, stopping=self.stopping)
        except Exception:  # a check must never stop the worker
            logger.exception("drift check of stack %s crashed", self.stack)
            check = None
        cancelled = check is not None and check.result == DriftResult.CANCELLED
        delay = self.drift.retry_delay() if cancelled else self.drift.interval
        self.next_check = time.monotonic() + delay

    def _run_next(self) -> bool:
        """Run the next deployment if there is one; False when the queue is empty."""
        pick = pick_next(self.store.deployments_in_states([DeploymentState.QUEUED], self.stack))
        if pick.job is None:
            return False
        for old in pick.superseded:
            note = f"superseded by deployment {pick.job.id} ({pick.job.sha[:12]})"
            self._journal(old).state(DeploymentState.SUPERSEDED, note)
            self.on_finished(old.id)
        self.current = pick.job
        try:
            self.pipeline.run(pick.job, self.cancel)
        except Exception as error:
            self._record_crash(pick.job, error)
        finally:
            self.current = None
            self.on_finished(pick.job.id)
        self._maintain_mirror()
        return True

    def _maintain_mirror(self) -> None:
        """The git mirror's housekeeping, which the job's fetch left for after the job."""
        try:
            self.pipeline.mirror.maintain()
        except Exception:  # housekeeping must never stop the worker
            logger.exception("git maintenance of the mirror failed")

    def _record_crash(self, job: Deployment, error: Exception) -> None:
        if self.cancel.is_set():  # recorded `interrupted` at shutdown; nothing more to say
            return
        logger.exception("deployment %s crashed", job.id)
        try:
            self.store.append_log(job.id, f"error: {type(error).__name__}: {error}")
            journal = self._journal(self.store.get_deployment(job.id))
            state = journal.deployment.state
            if state in (DeploymentState.RUNNING, DeploymentState.VERIFYING):
                journal.state(DeploymentState.FAILED, f"internal error: {error}")
            elif state == DeploymentState.ROLLING_BACK:
                journal.state(DeploymentState.ROLLBACK_FAILED, f"internal error: {error}")
        except Exception:
            logger.exception("could not record the failure of deployment %s", job.id)

    @property
    def running_id(self) -> int | None:
        job = self.current
        return job.id if job is not None else None

    def _journal(self, deployment: Deployment) -> Journal:
        return Journal(self.store, deployment, self.pipeline.observer)

    def interrupt(self, note: str) -> None:
        """Shutdown grace period over: record the running job `interrupted`, stop waiting."""
        job = self.current
        self.cancel.set()
        if job is None:
            return
        try:
            self._journal(job).state(DeploymentState.INTERRUPTED, note)
        except Exception:
            logger.exception("could not record deployment %s interrupted", job.id)


def lower_thread_priority(increment: int) -> None:
    """Lower the calling thread's CPU priority by `increment` (SLIPWAY_DEPLOY_NICE).

    On Linux the nice value belongs to the thread, and every process it starts inherits it:
    the stack operation's child, its Pulumi CLI and providers, git, the docker CLI. So a
    deployment's CPU work yields to the services it deploys and to the API's threads."""
    if increment <= 0:
        return
    try:
        thread = threading.get_native_id()
        now = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(19, now + increment))
    except (AttributeError, OSError) as error:  # not Linux, or not allowed: run as is
        logger.warning("could not lower the deploy worker's CPU priority: %s", error)
