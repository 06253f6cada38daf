"""Which queued deployment of a stack runs next (pure; no I/O).

Deploys and rollbacks change the stack: the newest request wins and the older ones are
`superseded`. Previews only wait behind them; per pull request the newest preview wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from webhook.store import Deployment
from webhook.store.states import DeploymentKind

CHANGING_KINDS = frozenset({DeploymentKind.DEPLOY, DeploymentKind.ROLLBACK})


@dataclass(frozen=True)
class Pick:
    """The deployment to run now (None: nothing to do) and the ones it replaces."""

    job: Deployment | None
    superseded: tuple[Deployment, ...] = ()


def pick_next(queued: Sequence[Deployment]) -> Pick:
    """Choose among one stack's `queued` deployments."""
    changing = [d for d in queued if d.kind in CHANGING_KINDS]
    if changing:
        newest = max(changing, key=lambda d: d.id)
        return Pick(newest, tuple(d for d in changing if d.id != newest.id))
    previews = [d for d in queued if d.kind == DeploymentKind.PREVIEW]
    if not previews:
        return Pick(None)
    first = min(previews, key=lambda d: d.id)
    same_pr = [
        d for d in previews if (d.pr_number, d.head_repo) == (first.pr_number, first.head_repo)
    ]
    newest = max(same_pr, key=lambda d: d.id)
    return Pick(newest, tuple(d for d in same_pr if d.id != newest.id))
