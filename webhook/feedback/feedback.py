"""Tell GitHub how deployments and previews went: Deployments, statuses, the PR comment.

Every public method logs GitHub failures and returns normally: feedback is best effort and
never changes the outcome of the deployment or preview it reports on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, ParamSpec

from webhook.feedback.comment import comment_marker, render_preview_comment
from webhook.feedback.deployment_status import (
    DeploymentChange,
    GitHubStatus,
    clip,
    replaced_status,
    short_sha,
    status_for,
)
from webhook.feedback.drift_status import drift_context
from webhook.feedback.github_api import GitHubClient, GitHubError
from webhook.feedback.preview import OPERATIONS, PreviewReport

log = logging.getLogger(__name__)

PREVIEW_CONTEXT = "slipway/preview"
#: States that only update a GitHub Deployment that exists; they do not create one.
ANNOUNCE_ONLY_IF_KNOWN = frozenset({"superseded"})
_P = ParamSpec("_P")


def best_effort(method: Callable[_P, None]) -> Callable[_P, None]:
    """Log and swallow any failure: GitHub being down must not fail a deployment."""

    @wraps(method)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            method(*args, **kwargs)
        except GitHubError as exc:
            log.warning("GitHub feedback (%s) not delivered: %s", method.__name__, exc)
        except Exception:
            log.exception("GitHub feedback (%s) failed", method.__name__)

    return guarded


@dataclass(frozen=True)
class FeedbackConfig:
    """Where feedback goes: the repository, the environment name, the service's public URL."""

    repository: str
    environment: str
    public_url: str | None = None

    def log_url(self, deployment_id: int) -> str | None:
        if not self.public_url:
            return None
        return f"{self.public_url.rstrip('/')}/deployments/{deployment_id}/log"


def preview_summary(report: PreviewReport) -> str:
    """The commit status description: counts per operation, or why the preview failed."""
    if report.failed:
        first = report.errors[0] if report.errors else "see the log"
        return clip(f"preview failed: {first}")
    counts = [f"{report.count(op)} to {op}" for op in OPERATIONS if report.count(op)]
    return clip(", ".join(counts) or "no changes")


class FeedbackService:
    """Maps Slipway deployment states and previews onto the GitHub REST API."""

    def __init__(self, client: GitHubClient, config: FeedbackConfig) -> None:
        self.client = client
        self.config = config
        self._github_ids: dict[int, int] = {}

    # -- deployments -------------------------------------------------------------------------

    @best_effort
    def deployment_changed(self, change: DeploymentChange) -> None:
        """Post the GitHub deployment status for `change` (creating the Deployment first)."""
        status = status_for(change)
        if status is None:
            return
        if change.state in ANNOUNCE_ONLY_IF_KNOWN:
            github_id = self._find_github_deployment(change.deployment_id, sha=change.sha)
            if github_id is None:
                return  # never announced, never ran: no need for a GitHub Deployment now
        else:
            github_id = self._github_deployment(change)
        self._post_status(github_id, change.deployment_id, status.state, status.description)
        replaced = replaced_status(change)
        if replaced is not None and change.replaces is not None:
            old_id = self._find_github_deployment(change.replaces, sha=None)
            if old_id is not None:
                self._post_status(old_id, change.replaces, replaced.state, replaced.description)

    def _post_status(self, github_id: int, deployment_id: int, state: str, text: str) -> None:
        fields: dict[str, Any] = {"state": state, "description": text}
        log_url = self.config.log_url(deployment_id)
        if log_url:
            fields["log_url"] = log_url
        self.client.create_deployment_status(self.config.repository, github_id, **fields)

    def _github_deployment(self, change: DeploymentChange) -> int:
        known = self._github_ids.get(change.deployment_id)
        if known is not None:
            return known
        if change.state not in ("queued", "running"):
            # Maybe created before a restart of the service: look it up by its payload.
            found = self._find_github_deployment(change.deployment_id, sha=change.sha)
            if found is not None:
                return found
        created = self.client.create_deployment(
            self.config.repository,
            ref=change.sha,
            environment=self.config.environment,
            description=clip(f"Slipway deployment #{change.deployment_id} of {change.stack}"),
            payload={"slipway_deployment_id": change.deployment_id, "stack": change.stack},
            # The sha is what runs; no merging of the default branch, no status gate
            # (the Actions tests already passed before the deploy request was sent).
            auto_merge=False,
            required_contexts=[],
        )
        self._github_ids[change.deployment_id] = created["id"]
        return created["id"]

    def _find_github_deployment(self, deployment_id: int, sha: str | None) -> int | None:
        known = self._github_ids.get(deployment_id)
        if known is not None:
            return known
        query = {"environment": self.config.environment, **({"sha": sha} if sha else {})}
        for deployment in self.client.list_deployments(self.config.repository, **query):
            payload = deployment.get("payload") or {}
            if isinstance(payload, dict) and payload.get("slipway_deployment_id") == deployment_id:
                self._github_ids[deployment_id] = deployment["id"]
                return deployment["id"]
        return None

    # -- drift -------------------------------------------------------------------------------

    @best_effort
    def drift_status(self, stack: str, sha: str, status: GitHubStatus) -> None:
        """The `slipway/drift/<stack>` commit status on the commit the stack should run."""
        fields: dict[str, Any] = {
            "state": status.state,
            "context": drift_context(stack),
            "description": status.description,
        }
        if self.config.public_url:
            fields["target_url"] = f"{self.config.public_url.rstrip('/')}/ui"
        self.client.create_commit_status(self.config.repository, sha, **fields)

    # -- previews ----------------------------------------------------------------------------

    @best_effort
    def preview_started(self, repository: str, sha: str, stack: str) -> None:
        """A pending `slipway/preview` commit status while the preview runs."""
        self.client.create_commit_status(
            repository,
            sha,
            state="pending",
            context=PREVIEW_CONTEXT,
            description=clip(f"previewing {short_sha(sha)} on {stack}"),
        )

    @best_effort
    def preview_finished(self, report: PreviewReport) -> None:
        """Create or edit the PR's preview comment, then set the commit status."""
        body = render_preview_comment(report)
        comment = self._upsert_comment(report.repository, report.pr_number, report.stack, body)
        self.client.create_commit_status(
            report.repository,
            report.head_sha,
            state="failure" if report.failed else "success",
            context=PREVIEW_CONTEXT,
            description=preview_summary(report),
            target_url=report.log_url or comment.get("html_url"),
        )

    def _upsert_comment(self, repository: str, number: int, stack: str, body: str) -> dict:
        marker = comment_marker(stack)
        for comment in self.client.list_issue_comments(repository, number):
            if (comment.get("body") or "").startswith(marker):
                try:
                    return self.client.update_issue_comment(repository, comment["id"], body)
                except GitHubError as exc:
                    if exc.status not in (403, 404):
                        raise
                    log.warning("could not edit preview comment %s (%s)", comment["id"], exc)
                    break  # deleted, or not ours: post a new one
        return self.client.create_issue_comment(repository, number, body)
