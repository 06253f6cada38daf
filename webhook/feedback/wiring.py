"""Plug GitHub feedback into the service: from settings, off the deployment's thread.

`GitHubFeedback` is what the orchestrator calls on every state change, at the end of a
preview and (with SLIPWAY_DRIFT_GITHUB_STATUS) after each drift check. Calls return at
once; one background thread posts to GitHub in order. When no token is configured,
`build_feedback` returns None and logs that feedback is off.
"""

from __future__ import annotations

import logging

from webhook.feedback.deployment_status import DeploymentChange
from webhook.feedback.dispatch import FeedbackDispatcher
from webhook.feedback.drift_status import drift_commit_status
from webhook.feedback.feedback import FeedbackConfig, FeedbackService
from webhook.feedback.github_api import DEFAULT_API_URL, GitHubClient
from webhook.feedback.preview import PreviewReport
from webhook.feedback.preview_events import PreviewCollector
from webhook.settings import Settings
from webhook.store import Deployment, Store
from webhook.store.drift import DriftCheck
from webhook.store.states import DeploymentKind, DeploymentState

log = logging.getLogger(__name__)


def change_from_record(
    deployment: Deployment, note: str = "", failure: str | None = None
) -> DeploymentChange:
    """The feedback view of a stored deployment that just moved to its current state."""
    return DeploymentChange(
        deployment_id=deployment.id,
        stack=deployment.stack,
        sha=deployment.sha,
        state=str(deployment.state),
        ref=deployment.ref or None,
        note=note or None,
        failure=failure,
        rollback_to=deployment.rolled_back_to,
        replaces=deployment.rollback_of if deployment.kind == DeploymentKind.ROLLBACK else None,
    )


_AFTER_FAILURE = frozenset(
    {
        DeploymentState.ROLLING_BACK,
        DeploymentState.ROLLED_BACK,
        DeploymentState.ROLLBACK_FAILED,
        DeploymentState.INTERRUPTED,
    }
)


class GitHubFeedback:
    """Non-blocking, ordered, never-raising feedback for the orchestrator to call."""

    def __init__(
        self,
        service: FeedbackService,
        dispatcher: FeedbackDispatcher | None = None,
        *,
        store: Store | None = None,
    ):
        self.service = service
        self.dispatcher = dispatcher or FeedbackDispatcher()
        # Where the orchestrator recorded why a deployment failed (its state history), for
        # the statuses of the rollback that follows; without it they carry no reason.
        self.store = store

    def state_changed(self, deployment: Deployment, note: str = "") -> None:
        """A deployment moved to `deployment.state`: post its GitHub status."""
        if deployment.kind == DeploymentKind.PREVIEW:
            if deployment.state == DeploymentState.RUNNING:
                repository = deployment.head_repo or self.service.config.repository
                self.dispatcher.submit(
                    self.service.preview_started, repository, deployment.sha, deployment.stack
                )
            elif deployment.state == DeploymentState.INTERRUPTED:
                # No preview_done comes for it: say so, or the status stays pending for ever.
                self.preview_done(deployment, PreviewCollector(), f"interrupted: {note}")
            return  # a preview's outcome is posted by preview_done, with its changes
        if deployment.state == DeploymentState.FAILED:
            failure = note or None
        else:
            failure = self._recorded_failure(deployment)
        change = change_from_record(deployment, note, failure)
        self.dispatcher.submit(self.service.deployment_changed, change)

    def _recorded_failure(self, deployment: Deployment) -> str | None:
        """The note of the deployment's `failed` state, once it has moved past it."""
        if self.store is None or deployment.state not in _AFTER_FAILURE:
            return None
        notes = [
            change.note
            for change in self.store.state_history(deployment.id)
            if change.state == DeploymentState.FAILED and change.note
        ]
        return notes[-1] if notes else None

    def preview_finished(self, report: PreviewReport) -> None:
        """Post the PR comment and the `slipway/preview` status for a finished preview."""
        self.dispatcher.submit(self.service.preview_finished, report)

    def preview_done(
        self, deployment: Deployment, collector: PreviewCollector, error: str | None = None
    ) -> None:
        """A preview job ended (`error` says why if it failed): report what it collected."""
        if deployment.pr_number is None:
            log.warning("preview %s has no pull request number; no comment", deployment.id)
            return
        errors = collector.errors
        if error and error not in errors:
            errors = (*errors, error)
        self.preview_finished(
            PreviewReport(
                stack=deployment.stack,
                repository=deployment.head_repo or self.service.config.repository,
                pr_number=deployment.pr_number,
                head_sha=deployment.sha,
                changes=collector.changes,
                errors=errors,
                failed=bool(error) or collector.failed,
                log_url=self.service.config.log_url(deployment.id),
            )
        )

    def drift_checked(self, check: DriftCheck, previous: DriftCheck | None) -> None:
        """A drift check ended (`previous`: the stack's verdict before it): post the
        `slipway/drift/<stack>` commit status when the verdict changed (drift_status.py)."""
        status = drift_commit_status(check, previous)
        if status is not None:
            self.dispatcher.submit(self.service.drift_status, check.stack, check.sha, status)

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until everything submitted so far was posted (or given up on)."""
        return self.dispatcher.drain(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """At shutdown: post what is pending (within `timeout` seconds), then stop."""
        self.dispatcher.close(timeout)
        self.service.client.close()


def build_feedback(
    *,
    token: str | None,
    repository: str | None,
    environment: str,
    api_url: str = DEFAULT_API_URL,
    public_url: str | None = None,
    store: Store | None = None,
) -> GitHubFeedback | None:
    """The feedback for these settings, or None (logged) when it cannot be switched on."""
    if not token:
        log.warning(
            "GitHub feedback is off: SLIPWAY_GITHUB_TOKEN is not set (no deployment statuses, "
            "no preview comments). Set it to a fine-grained or GitHub App installation token."
        )
        return None
    if not repository:
        log.warning(
            "GitHub feedback is off: no repository; set SLIPWAY_GITHUB_REPOSITORY=owner/name "
            "or a github.com SLIPWAY_REPO_URL."
        )
        return None
    if not public_url:
        log.info("GitHub statuses will have no log link: SLIPWAY_PUBLIC_URL is not set")
    client = GitHubClient(token, base_url=api_url)
    config = FeedbackConfig(repository=repository, environment=environment, public_url=public_url)
    log.info(
        "GitHub feedback is on for %s (environment %s) via %s", repository, environment, api_url
    )
    return GitHubFeedback(FeedbackService(client, config), store=store)


def feedback_from_settings(settings: Settings, store: Store | None = None) -> GitHubFeedback | None:
    """`build_feedback` for the service's settings (logs a line either way)."""
    token = (
        settings.github.github_token.get_secret_value() if settings.github.github_token else None
    )
    return build_feedback(
        token=token,
        repository=settings.repository,
        environment=settings.github.github_environment or settings.deploy.stack,
        api_url=settings.github.github_api_url,
        public_url=settings.http.public_url or None,
        store=store,
    )
