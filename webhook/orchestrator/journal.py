"""One deployment's record: every state change and log line goes to the store first."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from webhook.orchestrator.observer import DeploymentObserver, tell
from webhook.states import DeploymentState
from webhook.store import Deployment, Store

logger = logging.getLogger("slipway.orchestrator")


@dataclass
class Journal:
    """Writes one deployment's state changes and log lines, each committed before use."""

    store: Store
    deployment: Deployment
    observer: DeploymentObserver | None = None

    @property
    def id(self) -> int:
        return self.deployment.id

    def line(self, text: str) -> None:
        self.store.append_log(self.id, text)

    def state(
        self, state: DeploymentState, note: str = "", *, rolled_back_to: str | None = None
    ) -> None:
        self.deployment = self.store.set_state(self.id, state, note, rolled_back_to=rolled_back_to)
        self.store.append_log(self.id, f"state: {state}" + (f" ({note})" if note else ""))
        tell(self.observer, "state_changed", self.deployment, note)
        logger.info(
            "deployment %s -> %s",
            self.id,
            state,
            extra={"deployment": self.id, "state": str(state), "note": note},
        )
