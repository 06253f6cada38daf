"""Who hears about state changes besides the store (GitHub deployment statuses, PR comments).

`webhook.feedback.wiring.GitHubFeedback` has this shape. Observers are told after the store
has the change; an observer that raises is logged and never stops a deployment.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
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


def guarded(observer: DeploymentObserver | None) -> DeploymentObserver:
    """`observer` to call directly: what it raises is logged and swallowed; None hears
    nothing."""
    return _Guarded(observer)


@dataclass(frozen=True)
class _Guarded:
    observer: DeploymentObserver | None

    def state_changed(self, deployment: Deployment, note: str = "") -> None:
        with _logged("state_changed"):
            if self.observer is not None:
                self.observer.state_changed(deployment, note)

    def preview_done(
        self, deployment: Deployment, collector: Any, error: str | None = None
    ) -> None:
        with _logged("preview_done"):
            if self.observer is not None:
                self.observer.preview_done(deployment, collector, error)


@contextlib.contextmanager
def _logged(call: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        logger.exception("deployment observer failed in %s", call)
