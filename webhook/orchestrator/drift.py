"""Drift checks and reconciles: does the running stack still match its healthy commit?

A check is one pass on the stack's worker thread (so never beside a job of that stack, in
the idle CPU group, at the worker's nice): find the healthy commit, record the check
`running`; when the engine shows exactly what the last in-sync full refresh of the stack
left (webhook/orchestrator/drift_snapshot.py), record `in_sync` via `engine snapshot` and
stop there; else check the commit out, run `pulumi refresh --preview-only` in a child process
(webhook/runners/stack_process.py `drift`, which writes nothing), record `in_sync`,
`drifted` with the report, or `failed` with the reason (with SLIPWAY_DRIFT_GITHUB_STATUS,
the GitHub feedback hears it: a commit status when the verdict changed). A deployment of
the stack that arrives meanwhile ends the check at once (`cancelled`, tried again later):
checks never delay deploys. A preview-only refresh takes no backend lock; the worker is the lock.

A reconcile is an ordinary deployment of the healthy commit (health checks, rollback,
feedback) whose `up` reads the engine first (`up --refresh`). It is recorded as a `deploy`
whose delivery id starts with `reconcile:`. What is drift and what is not: docs/drift.md.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from webhook.orchestrator import drift_snapshot as snap
from webhook.orchestrator.checkout import CheckoutError
from webhook.orchestrator.reconcile import AUTO_PREFIX, DOCS, healthy_commit, queue_reconcile
from webhook.runners.automation import RunnerStopped, Stoppable
from webhook.runners.base import RunnerError
from webhook.store import Deployment, Store
from webhook.store.drift import DriftCheck, DriftRecords, DriftResult
from webhook.store.models import now_iso

if TYPE_CHECKING:
    from webhook.orchestrator.pipeline import Pipeline

logger = logging.getLogger("slipway.drift")

RETRY_SECONDS = 60.0
"""A check ended by a deployment is tried again this long after (or after the interval,
if that is shorter)."""


def describe(check: DriftCheck) -> str:
    """One line for the log and the page: what the check found."""
    if check.result == DriftResult.IN_SYNC:
        return f"stack {check.stack} is in sync with {check.sha[:12]}"
    if check.result == DriftResult.DRIFTED:
        parts = []
        for entry in check.report:
            fields = ", ".join(f"{f['field']}: {f['old']} → {f['new']}" for f in entry["fields"])
            parts.append(f"{entry['name']} {entry['change']}" + (f" ({fields})" if fields else ""))
        return f"stack {check.stack} drifted from {check.sha[:12]}: " + "; ".join(parts)
    return f"drift check of stack {check.stack} {check.result}: {check.error}"


@dataclass
class DriftChecker:
    """Runs one stack's checks on its worker; queues automatic reconciles."""

    store: Store
    pipeline: Pipeline
    submit: Callable[[int], None]
    records: DriftRecords | None = None
    snapshots: dict[str, snap.Snapshot] = field(default_factory=dict)  # by stack

    def __post_init__(self) -> None:
        if self.records is None:
            self.records = DriftRecords(self.store)

    @property
    def interval(self) -> float:
        return self.pipeline.settings.drift_interval_seconds

    def retry_delay(self) -> float:
        return min(self.interval, RETRY_SECONDS)

    def check(
        self, stack: str, stop: threading.Event, stopping: threading.Event | None = None
    ) -> DriftCheck | None:
        """One check of `stack`, ended early when `stop` is set (by a deployment of the
        stack, or `stopping`: the service stops); None when it has no healthy commit."""
        records = self.records
        assert records is not None
        found = healthy_commit(self.store, stack)
        if found is None:
            return None
        _, sha = found
        check = records.start(stack, sha)
        settings = self.pipeline.settings
        started = time.monotonic()
        deployment_id = self._newest_deployment(stack)
        full_because = self._precheck(stack, sha, deployment_id, started)
        if full_because is None:
            check = records.finish(check.id, DriftResult.IN_SYNC, via=snap.VIA_SNAPSHOT)
            logger.info(
                "%s (engine unchanged since the last full refresh, %.3f s)", describe(check),
                time.monotonic() - started, extra={"stack": stack, "drift": "in_sync"},
            )  # fmt: skip
            if settings.drift_github_status:
                self._tell_github(check)
            return check
        logger.debug("drift check of stack %s: full refresh: %s", stack, full_because)
        self.snapshots.pop(stack, None)

        def why() -> str:
            if stopping is not None and stopping.is_set():
                return "the service is stopping"
            return "a deployment of the stack came"

        stoppable = Stoppable(stop, why, settings.drift_check_timeout_seconds)
        lines: list[str] = []
        try:
            with self.pipeline.mirror.worktree(sha, self.pipeline.worktree_name(stack)) as tree:
                session = self.pipeline.runner.open(stack, tree, self.pipeline.binds_dir(stack))
                found = session.drift(lines.append, stoppable)
                found_drift = found["drifted"]
        except RunnerStopped as error:
            if stoppable.timed_out:  # not ended by a deployment: say where it hung
                said = " | ".join(lines[-3:]) or "no output"
                reason = f"{error} (SLIPWAY_DRIFT_CHECK_TIMEOUT_SECONDS); last output: {said}"
                check = records.finish(check.id, DriftResult.FAILED, error=reason)
                logger.warning("%s", describe(check), extra={"stack": stack, "drift": "failed"})
                return check
            check = records.finish(check.id, DriftResult.CANCELLED, error=str(error))
            logger.info("drift check %s of stack %s cancelled: %s", check.id, stack, error)
            return check
        except (CheckoutError, RunnerError, KeyError, TypeError) as error:
            reason = _reason(error, lines)
            check = records.finish(check.id, DriftResult.FAILED, error=reason)
            logger.warning("%s", describe(check), extra={"stack": stack, "drift": "failed"})
            return check
        result = DriftResult.DRIFTED if found_drift else DriftResult.IN_SYNC
        if not found_drift:  # before the record says so: the next check may use it
            self._remember(stack, sha, deployment_id, started, found.get("inventory"))
        check = records.finish(check.id, result, found_drift, via=snap.VIA_REFRESH)
        seconds = time.monotonic() - started
        log = logger.warning if found_drift else logger.info
        log("%s (%.1f s)", describe(check), seconds, extra={"stack": stack, "drift": str(result)})
        if settings.drift_github_status:
            self._tell_github(check)
        if found_drift and settings.drift_auto_reconcile:
            self._auto_reconcile(check)
        return check

    def _newest_deployment(self, stack: str) -> int:
        newest = self.store.list_deployments(limit=1, stack=stack)
        return newest[0].id if newest else 0

    def _precheck(self, stack: str, sha: str, deployment_id: int, now: float) -> str | None:
        """Why this check needs a full refresh; None when the engine shows the snapshot."""
        snapshot = self.snapshots.get(stack)
        full_every = self.pipeline.settings.drift_full_refresh_seconds
        because = snap.why_full(snapshot, sha, deployment_id, now, full_every)
        if because is not None or snapshot is None:
            return because
        try:
            live = snap.read(snapshot.objects, snap.engine_socket())
        except snap.EngineUnreadable as error:
            return f"engine not read: {error}"
        changed = snap.differences(snapshot.prints, live)
        return "engine differs from the snapshot: " + "; ".join(changed) if changed else None

    def _remember(
        self, stack: str, sha: str, deployment_id: int, started: float, inventory: object
    ) -> None:
        """After an in-sync full refresh: the engine's snapshot for the next checks, if the
        engine can be read here and agrees with what the refresh read."""
        if not isinstance(inventory, dict) or inventory.get("other"):
            logger.info(
                "stack %s: no engine snapshot (resources the pre-check cannot read: %s); "
                "every check is a full refresh", stack,
                (inventory or {}).get("other") if isinstance(inventory, dict) else "none listed",
            )  # fmt: skip
            return
        objects = tuple(inventory.get("objects") or ())
        try:
            prints = snap.read(objects, snap.engine_socket())
        except snap.EngineUnreadable as error:
            logger.info("stack %s: no engine snapshot: %s", stack, error)
            return
        problems = snap.disagreements(objects, prints)
        if problems:
            logger.info("stack %s: no engine snapshot: %s", stack, "; ".join(problems))
            return
        self.snapshots[stack] = snap.Snapshot(sha, deployment_id, started, objects, prints)

    def found(self, stack: str, project: str = "") -> str | None:
        """What the stack's newest finished check found drifted, or None (the unchanged
        path's hook, webhook/orchestrator/unchanged.py: a drifted stack gets a full `up`)."""
        assert self.records is not None
        check = self.records.latest_finished(stack)
        if check is None or check.result != DriftResult.DRIFTED:
            return None
        return describe(check)

    def _tell_github(self, check: DriftCheck) -> None:
        """The verdict to the GitHub feedback (SLIPWAY_DRIFT_GITHUB_STATUS): a commit status
        on the checked commit when it changed (webhook/feedback/drift_status.py)."""
        assert self.records is not None
        hear = getattr(self.pipeline.observer, "drift_checked", None)
        if hear is None:
            logger.warning(
                "SLIPWAY_DRIFT_GITHUB_STATUS is on but GitHub feedback is off (set "
                "SLIPWAY_GITHUB_TOKEN): no drift status posted for stack %s",
                check.stack,
            )
            return
        try:
            hear(check, self.records.verdict_before(check))
        except Exception:  # feedback never ends a check
            logger.exception("drift status of stack %s not posted", check.stack)

    def _auto_reconcile(self, check: DriftCheck) -> None:
        """Queue a reconcile unless one was queued on its own within the cool-down."""
        cooldown = self.pipeline.settings.drift_reconcile_cooldown_seconds
        last = self._last_auto(check.stack)
        if last is not None and _age_seconds(last.created_at) < cooldown:
            logger.warning(
                "stack %s drifted again; not reconciling on its own: deployment %s did at %s "
                "and the cool-down (SLIPWAY_DRIFT_RECONCILE_COOLDOWN_SECONDS=%s) is not over "
                "(see %s)", check.stack, last.id, last.created_at, cooldown, DOCS,
            )  # fmt: skip
            return
        reason = f"reconcile on its own: drift check {check.id} found {check.resources} resource(s)"
        queued = queue_reconcile(self.store, check.stack, reason, key=f"{AUTO_PREFIX}{check.id}")
        if queued is not None and not queued[1]:
            logger.warning("stack %s: %s (deployment %s)", check.stack, reason, queued[0].id)
            self.submit(queued[0].id)

    def _last_auto(self, stack: str) -> Deployment | None:
        row = (
            self.store.read_connection()
            .execute(
                "SELECT id FROM deployments WHERE stack = ? AND delivery_id LIKE ?"
                " ORDER BY id DESC LIMIT 1",
                (stack, f"{AUTO_PREFIX}%"),
            )
            .fetchone()
        )
        return self.store.get_deployment(row[0]) if row else None


def _reason(error: Exception, lines: list[str]) -> str:
    """The first line of the error or the output that says what went wrong (the CLI's
    last lines are summaries like `(9 errored)`), cut to 300 characters."""
    noise = re.compile(
        r"\d+ errored|update failed|error occurred|CommandError: code|^\W*error:?\W*$", re.I
    )
    candidates = [
        line.strip()
        for line in [*str(error).splitlines(), *lines]
        if "error" in line.lower() and not noise.search(line)
    ]
    text = str(error).strip()
    said = candidates[0] if candidates else (text.splitlines()[-1] if text else "no output")
    return f"{type(error).__name__}: {said}"[:300]


def _age_seconds(at: str) -> float:
    """Seconds since a store timestamp (ISO 8601 UTC)."""
    return (datetime.fromisoformat(now_iso()) - datetime.fromisoformat(at)).total_seconds()
