"""What a verified GitHub event asks for: pure decisions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhook.store import NewDeployment
from webhook.store.states import DeploymentKind

PREVIEW_ACTIONS = frozenset({"opened", "synchronize", "reopened"})
TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
ZERO_SHA = "0" * 40


class MalformedPayload(ValueError):
    """A payload that lacks a field its event must have."""


@dataclass(frozen=True)
class Decision:
    """The outcome of routing one event: `pong`, `ignored` (with reason) or a deployment."""

    outcome: str
    reason: str
    deployment: NewDeployment | None = None


def _field(payload: dict[str, Any], *path: str) -> Any:
    value: Any = payload
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise MalformedPayload(f"payload has no '{'.'.join(path)}'")
        value = value[key]
    return value


def _text(payload: dict[str, Any], *path: str) -> str:
    value = _field(payload, *path)
    if not isinstance(value, str) or not value:
        raise MalformedPayload(f"payload field '{'.'.join(path)}' must be a non-empty string")
    return value


def route_event(
    event: str,
    payload: dict[str, Any],
    *,
    stack: str,
    branch: str,
    repository: str | None = None,
) -> Decision:
    """Decide what a verified event means for `stack`, deployed from `branch`.

    With `repository` (owner/name) set, a push or pull request of any other repository is
    ignored: one secret is often shared by an organisation's hooks, and a valid signature
    only proves the sender knows it, not which repository the event is about.
    """
    if event == "ping":
        return Decision("pong", "ping received: the webhook is set up")
    if repository and event in ("push", "pull_request"):
        sender_repo = _text(payload, "repository", "full_name")
        if sender_repo.lower() != repository.lower():
            return Decision(
                "ignored",
                f"event is about {sender_repo}, this service deploys {repository} "
                "(SLIPWAY_GITHUB_REPOSITORY or SLIPWAY_REPO_URL)",
            )
    if event == "push":
        return _route_push(payload, stack=stack, branch=branch)
    if event == "pull_request":
        return _route_pull_request(payload, stack=stack)
    return Decision("ignored", f"event '{event}' does not trigger anything")


def _route_push(payload: dict[str, Any], *, stack: str, branch: str) -> Decision:
    ref = _text(payload, "ref")
    wanted = f"refs/heads/{branch}"
    if ref != wanted:
        return Decision("ignored", f"push to {ref}, only {wanted} is deployed")
    sha = _text(payload, "after")
    if payload.get("deleted") or sha == ZERO_SHA:
        return Decision("ignored", f"{ref} was deleted")
    pusher = payload.get("pusher") or {}
    who = pusher.get("name") if isinstance(pusher, dict) else None
    reason = f"push to {branch}" + (f" by {who}" if who else "")
    return Decision(
        "queued",
        reason,
        NewDeployment(kind=DeploymentKind.DEPLOY, stack=stack, sha=sha, ref=ref, reason=reason),
    )


def _route_pull_request(payload: dict[str, Any], *, stack: str) -> Decision:
    action = _text(payload, "action")
    if action not in PREVIEW_ACTIONS:
        return Decision("ignored", f"pull_request '{action}' does not trigger a preview")
    pr = _field(payload, "pull_request")
    number = _field(pr, "number")
    base_repo = _text(payload, "repository", "full_name")
    head_repo_obj = _field(pr, "head", "repo")
    head_repo = head_repo_obj.get("full_name") if isinstance(head_repo_obj, dict) else None
    if head_repo != base_repo:
        return Decision(
            "ignored",
            f"pull request #{number} comes from {head_repo or 'a deleted fork'}, not "
            f"{base_repo}: previews never run a fork's code",
        )
    association = _text(pr, "author_association")
    if association not in TRUSTED_ASSOCIATIONS:
        return Decision(
            "ignored",
            f"pull request #{number} author is {association}; previews need OWNER, MEMBER "
            "or COLLABORATOR",
        )
    reason = f"preview of pull request #{number} ({action})"
    return Decision(
        "queued",
        reason,
        NewDeployment(
            kind=DeploymentKind.PREVIEW,
            stack=stack,
            sha=_text(pr, "head", "sha"),
            ref=_text(pr, "head", "ref"),
            reason=reason,
            pr_number=int(number),
            head_repo=head_repo,
        ),
    )
