"""Crash recovery at start: interrupted jobs, stale stack locks, pending operations.

A lock file on a self-managed backend is removed only when this host wrote it and the
process that wrote it is gone; any other lock is reported and left alone. Whatever one
stack's recovery raises is recorded on its deployment (`failed`, with the reason) and logged
once; the service starts anyway and `problems` tells `/readyz` what is degraded.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from webhook.http.readiness import Problem, Recovered
from webhook.orchestrator.checkout import GitMirror
from webhook.orchestrator.journal import Journal
from webhook.orchestrator.observer import DeploymentObserver, guarded
from webhook.orchestrator.preflight import Preflight
from webhook.runners.base import StackRunner, clear_pending_operations
from webhook.runners.locks import LockFile, process_alive, read_lock
from webhook.store import Deployment, Store
from webhook.store.states import DeploymentState

logger = logging.getLogger("slipway.orchestrator")

INTERRUPTED_NOTE = (
    "the service stopped while this was running; see docs/runbook.md 'Recover from interrupted'"
)
RECOVERY_FIX = (
    "clear the stack's pending operations by hand (`pulumi stack export`, drop "
    "`pending_operations`, `pulumi stack import`), then deploy again: docs/runbook.md "
    "'Recover from interrupted'"
)
NOTHING_PENDING = "no pending operations"
"""What recovery says of a stack it found clean; alone (a deployment interrupted at an
earlier start, looked at again) it is not worth listing in `recovered`."""


class RecoveryBlocked(RuntimeError):
    """A prerequisite of recovery is missing (the message says which and the fix)."""


def describe(error: BaseException) -> str:
    """One line for an error of any kind: its own message, the type when unexpected."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, RuntimeError) and text:  # ours: CheckoutError, RunnerError, ...
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


RAN_STATES = frozenset(DeploymentState) - {
    DeploymentState.QUEUED,
    DeploymentState.SUPERSEDED,
    DeploymentState.INTERRUPTED,
}
"""States of deployments that ran on their stack to some end."""


def is_stale(lock: LockFile, hostname: str, alive: Callable[[int], bool]) -> bool:
    """Left by a dead process of this host: the only kind of lock we may remove."""
    return lock.pid is not None and lock.hostname == hostname and not alive(lock.pid)


def release_stale_locks(
    lock_dir: Path | None,
    log: Callable[[str], None],
    *,
    hostname: str | None = None,
    alive: Callable[[int], bool] = process_alive,
) -> list[LockFile]:
    """Remove this host's dead locks in `lock_dir`; return the locks still held."""
    if lock_dir is None or not lock_dir.is_dir():
        return []
    hostname = hostname or socket.gethostname()
    held = []
    for path in sorted(lock_dir.glob("*.json")):
        lock = read_lock(path)
        if is_stale(lock, hostname, alive):
            path.unlink(missing_ok=True)
            # The backend's blob store keeps each file's metadata in a `.attrs` sidecar.
            path.with_name(f"{path.name}.attrs").unlink(missing_ok=True)
            log(f"recovery: removed stale lock {path.name} of dead process {lock.holder}")
        else:
            held.append(lock)
            log(
                f"recovery: stack lock {path} is held by {lock.holder}; not broken. Wait for "
                "that update, or follow docs/runbook.md 'Stack locked'"
            )
    return held


def stacks_to_recover(store: Store) -> dict[str, Deployment]:
    """Per stack, the interrupted deployment when it was the stack's last operation."""
    found: dict[str, Deployment] = {}
    for deployment in store.deployments_in_states([DeploymentState.INTERRUPTED]):
        found[deployment.stack] = deployment
    for stack, interrupted in list(found.items()):
        later = store.list_deployments(stack=stack, states=RAN_STATES, limit=1)
        if later and later[0].id > interrupted.id:
            del found[stack]
    return found


@dataclass
class Recovery:
    store: Store
    mirror: GitMirror
    runner: StackRunner
    observer: DeploymentObserver | None = None
    preflight: Preflight = field(default_factory=Preflight)
    problems: list[Problem] = field(default_factory=list)
    """What went wrong during the last `run` (shown by `/readyz` until the next start)."""
    recovered: list[Recovered] = field(default_factory=list)
    """What the last `run` did, per deployment (shown by `/readyz` until the next start)."""
    _actions: dict[int, list[str]] = field(default_factory=dict, repr=False)

    def run(self) -> list[Deployment]:
        """Mark active jobs interrupted, then clean each affected stack; return them."""
        self._actions = {}
        interrupted = self.store.mark_interrupted(INTERRUPTED_NOTE)
        removed = self._remove_worktrees()
        touched = {d.id: d for d in interrupted}
        for deployment in interrupted:
            self.store.append_log(deployment.id, f"state: interrupted ({INTERRUPTED_NOTE})")
            guarded(self.observer).state_changed(deployment, INTERRUPTED_NOTE)
            self._did(deployment, "interrupted")
        for stack, deployment in stacks_to_recover(self.store).items():
            touched.setdefault(deployment.id, deployment)
            try:
                blocker = self.preflight.blocker()
                if blocker is not None:
                    raise RecoveryBlocked(blocker.message())
                self._recover_stack(stack, deployment, removed)
            except Exception as error:
                self._failed(deployment, describe(error))
        self.recovered = [
            Recovered(d.id, d.stack, "; ".join(self._actions[d.id]))
            for d in sorted(touched.values(), key=lambda d: d.id)
            if self._actions.get(d.id, [NOTHING_PENDING]) != [NOTHING_PENDING]
        ]
        return interrupted

    def _did(self, deployment: Deployment, action: str) -> None:
        """Note what recovery did for `deployment` (for `recovered`)."""
        self._actions.setdefault(deployment.id, []).append(action)

    def _remove_worktrees(self) -> list[str]:
        try:
            return self.mirror.remove_stale_worktrees()
        except Exception as error:
            reason = describe(error)
            logger.warning("recovery: could not remove old worktrees: %s", reason)
            self.problems.append(
                Problem(
                    "recovery",
                    f"old worktrees under {self.mirror.worktrees_dir} could not be removed "
                    f"({reason})",
                    "remove that directory while the service is stopped",
                    blocks_deploys=False,
                )
            )
            return []

    def _failed(self, deployment: Deployment, reason: str) -> None:
        """Record that recovering `deployment`'s stack failed; log it once, no traceback."""
        note = f"recovery failed: {reason}; {RECOVERY_FIX}"
        self._did(deployment, f"recovery failed: {reason}")
        logger.warning("recovery of deployment %s failed: %s", deployment.id, reason)
        self.problems.append(
            Problem(
                "recovery",
                f"recovery of stack {deployment.stack} after deployment {deployment.id} was "
                f"interrupted failed: {reason}",
                RECOVERY_FIX,
                blocks_deploys=False,
            )
        )
        try:
            Journal(self.store, deployment, self.observer).state(DeploymentState.FAILED, note)
        except Exception as error:  # the store itself failing: nothing more to record
            logger.warning("could not record it on deployment %s: %s", deployment.id, error)

    def _recover_stack(self, stack: str, deployment: Deployment, removed: list[str]) -> None:
        def log(line: str) -> None:
            self.store.append_log(deployment.id, line)

        if removed:
            log(f"recovery: removed worktrees left behind: {', '.join(removed)}")
        lock_dir = self.runner.backend_lock_dir(stack)
        locks = len(list(lock_dir.glob("*.json"))) if lock_dir and lock_dir.is_dir() else 0
        held = release_stale_locks(lock_dir, log)
        if locks > len(held):
            self._did(deployment, "lock released")
        if held:
            log("recovery: pending operations not cleared while the stack is locked")
            holders = ", ".join(lock.holder for lock in held)
            self._did(deployment, f"stack locked by {holders}; pending operations not cleared")
            return
        sha = deployment.rolled_back_to if deployment.rolled_back_to else deployment.sha
        with self.mirror.worktree(sha, f"recovery-{deployment.id}") as tree:
            session = self.runner.open(stack, tree)
            cleared, count = clear_pending_operations(session.export_state())
            if count:
                session.import_state(cleared)
                log(f"recovery: cleared {count} pending operation(s) of stack {stack}")
                plural = "s" if count != 1 else ""
                self._did(deployment, f"cleared {count} pending operation{plural}")
            else:
                self._did(deployment, NOTHING_PENDING)
