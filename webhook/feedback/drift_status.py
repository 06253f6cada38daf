"""Which commit status a drift check posts on the deployed commit (pure, no I/O).

With SLIPWAY_DRIFT_GITHUB_STATUS on, a check that finds drift posts `failure` in the context
`slipway/drift/<stack>` on the commit the stack should run, naming how many resources
differ; the first check in sync after it posts `success`. Nothing is posted while the
verdict stays the same (a check every few minutes would flood the commit's statuses), nor
for failed or cancelled checks: they say nothing about what runs (docs/drift.md).
"""

from __future__ import annotations

from webhook.feedback.deployment_status import GitHubStatus, clip
from webhook.store.drift import DriftCheck, DriftResult

CONTEXT_PREFIX = "slipway/drift/"


def drift_context(stack: str) -> str:
    return f"{CONTEXT_PREFIX}{stack}"


def _names(check: DriftCheck) -> list[str]:
    return sorted(str(entry.get("name", "?")) for entry in check.report)


def drift_commit_status(check: DriftCheck, previous: DriftCheck | None) -> GitHubStatus | None:
    """The status to post for `check`, given the stack's verdict before it (the newest
    in-sync or drifted check), or None when GitHub already shows this verdict."""
    if check.result == DriftResult.DRIFTED:
        same = (
            previous is not None
            and previous.result == DriftResult.DRIFTED
            and previous.sha == check.sha
            and _names(previous) == _names(check)
        )
        if same:
            return None
        noun = "resource differs" if check.resources == 1 else "resources differ"
        names = ", ".join(_names(check))
        return GitHubStatus(
            "failure", clip(f"drifted: {check.resources} {noun} from this commit: {names}")
        )
    back = previous is not None and previous.result == DriftResult.DRIFTED
    if check.result == DriftResult.IN_SYNC and back:
        return GitHubStatus("success", "in sync again: the stack runs this commit as declared")
    return None
