"""What a verified GitHub event asks for: pure decisions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from webhook.store import NewDeployment
from webhook.store.states import DeploymentKind

PREVIEW_ACTIONS = frozenset({"opened", "synchronize", "reopened"})
TRUSTED_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
ZERO_SHA = "0" * 40
SHA = re.compile(r"[0-9a-f]{40}")
MAX_REF_LENGTH = 255
MAX_NAME_LENGTH = 100
MAX_PR_NUMBER = 2**31 - 1
# git check-ref-format: no control characters, space, ~ ^ : ? * [ \, "..", "@{" or "//";
# no component that starts with "." or "-" or ends with ".lock"; not ending in "/" or ".".
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|(^|/)\.|\.lock(/|$)|[/.]$|(^|/)-|^@$")


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


def _sha(payload: dict[str, Any], *path: str) -> str:
    value = _field(payload, *path)
    if not isinstance(value, str) or not SHA.fullmatch(value):
        raise MalformedPayload(
            f"payload field '{'.'.join(path)}' must be a commit sha (40 lowercase hex digits)"
        )
    return value


def valid_ref(ref: str) -> bool:
    """`ref` is a name git accepts (check-ref-format's rules) of at most MAX_REF_LENGTH."""
    return 0 < len(ref) <= MAX_REF_LENGTH and ref.isprintable() and not _BAD_REF.search(ref)


def _ref(payload: dict[str, Any], *path: str, prefix: str = "") -> str:
    value = _text(payload, *path)
    if not value.startswith("refs/" if not prefix else "") or not valid_ref(prefix + value):
        raise MalformedPayload(
            f"payload field '{'.'.join(path)}' is not a valid git ref name "
            f"(git check-ref-format, at most {MAX_REF_LENGTH} characters)"
        )
    return value


def _pr_number(pr: dict[str, Any]) -> int:
    number = _field(pr, "number")
    if type(number) is not int or not 1 <= number <= MAX_PR_NUMBER:
        raise MalformedPayload(
            f"payload field 'pull_request.number' must be a whole number from 1 to {MAX_PR_NUMBER}"
        )
    return number


def _name(value: object) -> str:
    """A display name from a payload: printable, at most MAX_NAME_LENGTH characters."""
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value if c.isprintable())[:MAX_NAME_LENGTH]


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
    ref = _ref(payload, "ref")
    wanted = f"refs/heads/{branch}"
    if ref != wanted:
        return Decision("ignored", f"push to {ref}, only {wanted} is deployed")
    sha = _sha(payload, "after")
    if payload.get("deleted") or sha == ZERO_SHA:
        return Decision("ignored", f"{ref} was deleted")
    pusher = payload.get("pusher") or {}
    who = _name(pusher.get("name")) if isinstance(pusher, dict) else None
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
    number = _pr_number(pr)
    sha = _sha(pr, "head", "sha")
    head_ref = _ref(pr, "head", "ref", prefix="refs/heads/")
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
            sha=sha,
            ref=head_ref,
            reason=reason,
            pr_number=number,
            head_repo=head_repo,
        ),
    )
