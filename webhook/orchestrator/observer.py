"""Who hears about state changes besides the store (GitHub deployment statuses, PR comments).

`webhook.feedback.wiring.GitHubFeedback` has this shape. Observers are told after the store
has the change; an observer that raises is logged and never stops a deployment.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from webhook.store import Deployment

logger = logging.getLogger("slipway.orchestrator")


class DeploymentObserver(Protocol):
    def state_changed(self, deployment: Deployment, note: str = "") -> None:
        """`deployment` has just moved to `deployment.state` (already in the store)."""

    def preview_done(
        self, deployment: Deployment, collector: Any, error: str | None = None
    ) -> None:
        """A preview ended; `collector` saw its engine events (a PreviewCollector)."""


def tell(observer: DeploymentObserver | None, method: str, *args: Any) -> None:
    """Call `observer.method(*args)` if there is an observer; log and swallow its errors."""
    if observer is None:
        return
    try:
        getattr(observer, method)(*args)
    except Exception:
        logger.exception("deployment observer failed in %s", method)
