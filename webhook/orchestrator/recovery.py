"""Crash recovery at start: interrupted jobs, stale stack locks, pending operations.

A lock file on a self-managed backend is removed only when this host wrote it and the
process that wrote it is gone; any other lock is reported and left alone.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from webhook.checkout import CheckoutError, GitMirror
from webhook.orchestrator.observer import DeploymentObserver, tell
from webhook.runners.base import RunnerError, StackRunner, clear_pending_operations
from webhook.runners.locks import LockFile, process_alive, read_lock
from webhook.states import DeploymentState
from webhook.store import Deployment, Store

INTERRUPTED_NOTE = (
    "the service stopped while this was running; see docs/runbook.md 'Recover from interrupted'"
)


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

    def run(self) -> list[Deployment]:
        """Mark active jobs interrupted, then clean each affected stack; return them."""
        interrupted = self.store.mark_interrupted(INTERRUPTED_NOTE)
        removed = self.mirror.remove_stale_worktrees()
        for deployment in interrupted:
            self.store.append_log(deployment.id, f"state: interrupted ({INTERRUPTED_NOTE})")
            tell(self.observer, "state_changed", deployment, INTERRUPTED_NOTE)
        for stack, deployment in stacks_to_recover(self.store).items():
            self._recover_stack(stack, deployment, removed)
        return interrupted

    def _recover_stack(self, stack: str, deployment: Deployment, removed: list[str]) -> None:
        def log(line: str) -> None:
            self.store.append_log(deployment.id, line)

        if removed:
            log(f"recovery: removed worktrees left behind: {', '.join(removed)}")
        held = release_stale_locks(self.runner.backend_lock_dir(stack), log)
        if held:
            log("recovery: pending operations not cleared while the stack is locked")
            return
        sha = deployment.rolled_back_to if deployment.rolled_back_to else deployment.sha
        try:
            with self.mirror.worktree(sha, f"recovery-{deployment.id}") as tree:
                session = self.runner.open(stack, tree)
                cleared, count = clear_pending_operations(session.export_state())
                if count:
                    session.import_state(cleared)
                    log(f"recovery: cleared {count} pending operation(s) of stack {stack}")
        except (CheckoutError, RunnerError) as error:
            log(
                f"recovery: could not check stack {stack} for pending operations: {error}; "
                "run `pulumi stack export | pulumi stack import` by hand (docs/runbook.md)"
            )
