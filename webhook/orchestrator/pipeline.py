"""Running one deployment: worktree at the commit, `up`, health checks, rollback.

Every step is written to the store (through `Journal`) before it takes effect. The stack
is only rolled back when it was touched: a missing commit or a stack held by someone else
fails the job without a rollback.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_when_event_set,
)

from webhook.cutover import Cutover
from webhook.health import HealthConfigError, HealthReport, check_health, parse_health_checks
from webhook.orchestrator.checkout import CheckoutError, GitMirror
from webhook.orchestrator.config import HEALTHY_SHA_TAG, OrchestratorSettings
from webhook.orchestrator.fingerprint import FingerprintError, stack_files
from webhook.orchestrator.http_clients import health_client
from webhook.orchestrator.journal import Journal
from webhook.orchestrator.observer import DeploymentObserver, guarded
from webhook.orchestrator.preflight import Preflight
from webhook.orchestrator.reconcile import is_reconcile, reconcile_plan
from webhook.orchestrator.release_watch import ReleaseWatch, restart_counts
from webhook.orchestrator.render_handoff import handed_env
from webhook.orchestrator.unchanged import PathChoice, UnchangedCheck, record_healthy
from webhook.orchestrator.up_failure import up_failure_note
from webhook.retry_policy import RetryPolicy
from webhook.runners.base import RunnerError, StackLockedError, StackRunner, StackSession
from webhook.store import Deployment, Store
from webhook.store.drift import DriftRecords
from webhook.store.states import DeploymentKind, DeploymentState

S = DeploymentState
T = TypeVar("T")
RUNBOOK = "docs/runbook.md"
RELEASE_FILE = ".slipway-release"  # read by components/compose_stack/routes.py
TAG_KEPT = (
    "up was skipped, so the stack's state is still the one made by the commit it names, "
    "which deploys the same stack"
)

StackChangeError = (RunnerError, HealthConfigError)
"""Failures after the stack may have changed: these are rolled back."""


@dataclass
class Pipeline:
    """Carries out deployments of any stack; one call to `run` per job, on its worker."""

    store: Store
    mirror: GitMirror
    runner: StackRunner
    settings: OrchestratorSettings
    observer: DeploymentObserver | None = None
    preflight: Preflight = field(default_factory=Preflight)
    unchanged: UnchangedCheck | None = None  # None: built on the store; `.drift` is the hook

    def __post_init__(self) -> None:
        if self.unchanged is None:
            self.unchanged = UnchangedCheck(self.store)

    def run(self, deployment: Deployment, cancel: threading.Event) -> None:
        """Run one `queued` deployment to a final state. `cancel` is set when the shutdown
        grace period ran out (the job has then been recorded `interrupted` already)."""
        journal = Journal(self.store, deployment, self.observer)
        blocker = self.preflight.blocker()
        if blocker is not None:  # refused before anything runs: say what to install
            note = f"not started, the stack was not touched: {blocker.message()}"
            journal.state(S.FAILED, note)
            if deployment.kind == DeploymentKind.PREVIEW and self.observer is not None:
                guarded(self.observer).preview_done(journal.deployment, preview_collector(), note)
            return
        if deployment.kind == DeploymentKind.PREVIEW:
            self._preview(journal, cancel)
        else:
            self._deploy(journal, cancel)

    # -- the kinds of job

    def _deploy(self, journal: Journal, cancel: threading.Event) -> None:
        """A deploy, or a rollback asked for by hand (POST /deployments/{id}/rollback)."""
        deployment = journal.deployment
        sha = deployment.sha
        by_hand = deployment.kind == DeploymentKind.ROLLBACK
        if by_hand:
            purpose, start_note = "rollback", f"rolling back by hand to {sha[:12]}"
        else:
            purpose, start_note = "deploy", f"deploying {sha[:12]}"
        journal.state(S.RUNNING, start_note)
        try:
            healthy, detail = self._apply(
                journal,
                sha,
                purpose,
                cancel,
                on_verify=lambda note: journal.state(S.VERIFYING, f"{note}; checking health"),
                on_healthy=lambda path: journal.state(
                    S.SUCCEEDED,
                    f"{sha[:12]} is healthy ({path})",
                    rolled_back_to=sha if by_hand else None,
                ),
            )
        except StackLockedError as error:
            journal.state(S.FAILED, self._locked_message(error))
            return
        except CheckoutError as error:
            journal.state(S.FAILED, f"checkout failed, the stack was not touched: {error}")
            return
        except StackChangeError as error:
            healthy, detail = False, up_failure_note(error)
        if healthy:
            return
        if by_hand:
            journal.state(
                S.FAILED,
                f"rollback to {sha[:12]} failed: {detail}; a failed rollback is not rolled "
                f"back again (see {RUNBOOK}, 'Recover from rollback_failed')",
            )
            return
        self._roll_back(journal, detail, cancel)

    def _roll_back(self, journal: Journal, failure: str, cancel: threading.Event) -> None:
        """Record the failure and deploy the last healthy commit again, if there is one."""
        stack = journal.deployment.stack
        good = self.store.last_good(stack, before_id=journal.id)
        if good is None:
            journal.state(S.FAILED, failure)
            journal.line(
                f"rollback: nothing to roll back to: no earlier deployment of stack {stack} "
                f"succeeded, so the stack stays as this deployment left it (see {RUNBOOK}, "
                "'Roll back by hand')"
            )
            return
        target = good.sha
        # One commit: nobody polling the deployment takes `failed` for its last word.
        journal.states(
            [
                (S.FAILED, failure, None),
                (
                    S.ROLLING_BACK,
                    f"rolling back to {target[:12]} (deployment {good.id}, the last healthy one)",
                    target,
                ),
            ]
        )
        try:
            healthy, detail = self._apply(
                journal,
                target,
                "rollback",
                cancel,
                on_verify=lambda note: journal.line(f"rollback: {note}; checking health"),
                on_healthy=lambda path: journal.state(
                    S.ROLLED_BACK, f"{target[:12]} is deployed again and healthy ({path})"
                ),
            )
        except (CheckoutError, *StackChangeError) as error:
            healthy, detail = False, f"{type(error).__name__}: {error}"
        if not healthy:
            journal.state(
                S.ROLLBACK_FAILED,
                f"rollback to {target[:12]} failed: {detail}; the stack needs a person "
                f"(see {RUNBOOK}, 'Recover from rollback_failed')",
            )

    def _preview(self, journal: Journal, cancel: threading.Event) -> None:
        deployment = journal.deployment
        journal.state(S.RUNNING, f"previewing {deployment.sha[:12]}")
        collector = preview_collector() if self.observer is not None else None
        error: str | None = None
        try:
            with self.mirror.worktree(deployment.sha, self._worktree_name(journal)) as tree:
                session = self.runner.open(deployment.stack, tree, self._binds_dir(journal))
                message = self._message(journal, deployment.sha, "preview")
                journal.line(f"preview: starting ({message})")
                summary = self._retry_locked(
                    lambda: session.preview(message, journal.line, on_event=collector),
                    journal,
                    cancel,
                )
        except StackLockedError as failure:
            error = self._locked_message(failure)
        except (CheckoutError, RunnerError) as failure:
            error = f"preview failed: {failure}"
        if error is None:
            changes = ", ".join(f"{op} {n}" for op, n in sorted(summary.items())) or "none"
            journal.state(S.SUCCEEDED, f"preview: {changes}")
        else:
            journal.state(S.FAILED, error)
        if collector is not None:
            guarded(self.observer).preview_done(journal.deployment, collector, error)

    # -- steps

    def _apply(
        self,
        journal: Journal,
        sha: str,
        purpose: str,
        cancel: threading.Event,
        *,
        on_verify: Callable[[str], None],
        on_healthy: Callable[[str], None],
    ) -> tuple[bool, str]:
        """Check out `sha`, `up` (or prove the stack unchanged and skip it), check health;
        (healthy, summary). Raises on checkout and `up` failures. `on_verify` gets the path
        taken and why, `on_healthy` the path; it runs before the healthy-commit tag is set
        (after a full `up` only: on the unchanged path the stack's state is not touched)."""
        stack = journal.deployment.stack
        sha = self.mirror.resolve(sha)  # the full sha, for the log and the healthy tag
        with self.mirror.worktree(sha, self._worktree_name(journal), resolved=True) as tree:
            journal.line(f"{purpose}: checked out {sha} in {tree}")
            session = self.runner.open(stack, tree, self._binds_dir(journal))
            # Names routed containers (docs/cutover.md): a file in the throw-away checkout, not
            # stack config, whose write would wait for the stack's lock.
            (tree / RELEASE_FILE).write_text(self._release_name(journal, purpose))
            choice = self._choose_path(journal, tree, session)
            fingerprint = choice.fingerprint
            apply_id = self.store.record_apply(
                journal.id, stack, sha, purpose, choice.path, choice.reason,
                fingerprint.digest if fingerprint else "",
                json.dumps(fingerprint.parts if fingerprint else {}),
            )  # fmt: skip
            if choice.unchanged:  # recorded before it takes effect, like every step
                journal.line(f"{purpose}: up skipped: {choice.reason}")
                outputs = choice.outputs or {}
                on_verify(f"unchanged: up skipped ({_short(choice.reason)})")
            else:
                journal.line(f"{purpose}: full up: {choice.reason}")
                message = self._message(journal, sha, purpose)
                with handed_env(fingerprint, tree, self.mirror.state_dir / "renders") as extra:
                    with_env = getattr(session, "with_env", None)  # AutomationSession's
                    up_session = with_env(extra) if extra and with_env else session
                    handed = " (Compose's render handed to it)" if up_session is not session else ""
                    journal.line(f"{purpose}: up starting ({message}){handed}")
                    outputs = self._retry_locked(
                        lambda: self._up(up_session, journal, message, purpose, choice.refresh),
                        journal,
                        cancel,
                    )
                journal.line(f"{purpose}: up finished")
                on_verify(f"up finished (full up: {_short(choice.reason)})")
            where = _where(choice) or _project_of(tree, stack)
            report = self._check(journal, outputs, choice, where, cancel)
            journal.line(f"health: {report.summary}")
            if report.healthy:
                on_healthy("unchanged: up skipped" if choice.unchanged else "full up")
                journal.line(record_healthy(self.store, apply_id, outputs, choice, where))
                if choice.unchanged:  # no CLI run: the state is the one that tag describes
                    journal.line(f"tag: {HEALTHY_SHA_TAG} left as it is: {TAG_KEPT}")
                else:
                    self._tag_healthy(session, sha, journal)
            return report.healthy, report.summary

    def _choose_path(self, journal: Journal, tree: Path, session: StackSession) -> PathChoice:
        """The unchanged path when it is proved (webhook/orchestrator/unchanged.py), else `up`."""
        assert self.unchanged is not None
        env = getattr(session, "env", None) or os.environ
        try:
            return self.unchanged.choose(journal.deployment, tree, env)
        except Exception as error:  # the proof failed to run: doubt, so a full `up`
            return PathChoice("up", f"the unchanged check failed: {type(error).__name__}: {error}")

    def _check(
        self,
        journal: Journal,
        outputs: dict[str, Any],
        choice: PathChoice,
        where: tuple[str, str | None] | None,
        cancel: threading.Event,
    ) -> HealthReport:
        """Health checks of `outputs`: a cutover for routed services (webhook/cutover), else
        probes while the release's containers are watched (a crash ends the wait at once).
        On the unchanged path one pass suffices: the same containers, not restarted since,
        passed the full streak when they were deployed."""
        targets = parse_health_checks(outputs.get("healthChecks"))
        if outputs.get("routing"):  # routed services: gate, switch, watch (webhook/cutover)
            cutover = Cutover.from_settings(self.settings, binds_root(self.mirror.state_dir))
            return cutover.run(outputs["routing"], targets, journal.line, cancel)
        policy = self.settings.health_policy
        if choice.unchanged:
            policy = replace(policy, consecutive_passes=1)
        watch = None
        if where is not None and choice.live is not None:  # the proof's read is the start
            watch = ReleaseWatch(*where, restarts=restart_counts(choice.live))
        elif where is not None:
            watch = ReleaseWatch(*where).start()
        with health_client() as client:
            return check_health(
                targets, policy, journal.line, client=client, stop=cancel,
                watch=watch.problem if watch else None,
            )  # fmt: skip

    def _up(
        self,
        session: StackSession,
        journal: Journal,
        message: str,
        purpose: str,
        refresh: bool = False,
    ) -> dict[str, Any]:
        """`up`; for a reconcile (webhook/orchestrator/drift.py) `up --refresh`, after
        removing containers made by hand under the stack's names. `refresh`: the engine
        differs from the last healthy apply (unchanged.py), so `up --refresh` reads it
        first and puts back what was removed or changed by hand."""
        if refresh and hasattr(session, "reconcile"):
            journal.line(f"{purpose}: up --refresh (the engine differs from the recorded state)")
            return session.reconcile(message, journal.line, [])
        if purpose != "deploy" or not is_reconcile(journal.deployment):
            return session.up(message, journal.line)
        plan = reconcile_plan(DriftRecords(self.store), journal.deployment.stack)
        for note in plan.notes:
            journal.line(note)
        journal.line("reconcile: up --refresh (the state is read from the engine first)")
        return session.reconcile(message, journal.line, plan.evict)  # type: ignore[attr-defined]

    def _retry_locked(
        self, action: Callable[[], T], journal: Journal, cancel: threading.Event
    ) -> T:
        """Run `action`, retrying with exponential backoff while the stack is locked."""
        policy = RetryPolicy(
            attempts=self.settings.lock_retry_attempts,
            backoff_first=self.settings.lock_retry_initial_seconds,
            backoff_max=self.settings.lock_retry_max_seconds,
        )
        attempts = policy.attempts

        def note_retry(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0
            journal.line(
                f"stack busy: {error}; try {state.attempt_number}/{attempts} failed, "
                f"retrying in {delay:.1f}s"
            )

        retrying = Retrying(
            retry=retry_if_exception_type(StackLockedError),
            stop=stop_after_attempt(attempts) | stop_when_event_set(cancel),
            wait=lambda state: policy.backoff(state.attempt_number),
            sleep=cancel.wait,
            before_sleep=note_retry,
            reraise=True,
        )
        return retrying(action)

    def _tag_healthy(self, session: StackSession, sha: str, journal: Journal) -> None:
        try:
            tagged = session.set_tag(HEALTHY_SHA_TAG, sha)
        except RunnerError as error:  # the store already holds the record; say so and go on
            journal.line(f"tag: could not set {HEALTHY_SHA_TAG}: {error}")
            return
        if tagged:
            journal.line(f"tag: {HEALTHY_SHA_TAG}={sha}")
        else:
            journal.line("tag: backend has no stack tags; last healthy commit is in the store")

    def _locked_message(self, error: StackLockedError) -> str:
        return (
            f"{error}; gave up after {self.settings.lock_retry_attempts} tries: let that "
            f"update finish and deploy again (see {RUNBOOK}, 'Stack locked')"
        )

    @staticmethod
    def _release_name(journal: Journal, purpose: str) -> str:
        """`d<id>`, `d<id>r` for its rollback: one name per `up`, so containers never clash."""
        return f"d{journal.id}{'r' if purpose == 'rollback' else ''}"

    @staticmethod
    def _message(journal: Journal, sha: str, purpose: str) -> str:
        deployment = journal.deployment
        reason = f": {deployment.reason}" if deployment.reason else ""
        return f"slipway #{deployment.id} {purpose} {sha[:12]}{reason}"

    @staticmethod
    def _worktree_name(journal: Journal) -> str:
        """One checkout path per stack, the same for every preview, deploy and rollback.

        Build contexts (and bind-mount sources) reach Pulumi as absolute paths: a path that
        changed per deployment made every built image's `build` input differ, so every `up`
        rebuilt every image and every preview listed them all as replaced. One path is safe
        because a stack's jobs run one at a time (webhook/orchestrator/worker.py)."""
        return Pipeline.worktree_name(journal.deployment.stack)

    @staticmethod
    def worktree_name(stack: str) -> str:
        """The stack's one checkout path name (also the drift checks': same worker)."""
        safe_stack = "".join(c if c.isalnum() or c in "-_" else "_" for c in stack)
        return f"stack-{safe_stack}"

    def _binds_dir(self, journal: Journal) -> Path:
        """Where the stack's binds of checkout paths are kept: the checkout is removed after
        each job, this folder never (components/compose_stack/project_binds.py)."""
        return self.binds_dir(journal.deployment.stack)

    def binds_dir(self, stack: str) -> Path:
        return binds_root(self.mirror.state_dir) / self.worktree_name(stack)


def _short(reason: str, limit: int = 300) -> str:
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def _where(choice: PathChoice) -> tuple[str, str | None] | None:
    """(Compose project, Docker host) of the fingerprinted stack, else None."""
    found = choice.fingerprint
    return (found.project, found.docker_host) if found is not None else None


def _project_of(tree: Path, stack: str) -> tuple[str, str | None] | None:
    """(Compose project, Docker host) from the checkout's stack config, else None."""
    try:
        files = stack_files(tree, stack)
    except FingerprintError:
        return None
    return (files.project, files.docker_host) if files.compose_files else None


def binds_root(state_dir: Path) -> Path:
    """The folder of every stack's binds folder (the deploy service container mounts the
    Docker host's at the same path: components/deploy_service/environment.py BINDS_DIR)."""
    return state_dir / "binds"


def preview_collector() -> Any:
    """Collects a preview's engine events for the PR comment (webhook.feedback)."""
    from webhook.feedback.preview_events import PreviewCollector

    return PreviewCollector()
