"""One deployment's record: every state change and log line goes to the store first."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from webhook.orchestrator.observer import DeploymentObserver, guarded
from webhook.store import Deployment, Store, Transition
from webhook.store.states import DeploymentState

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
        self.states([(state, note, rolled_back_to)])

    def states(self, changes: Sequence[Transition]) -> None:
        """Several state changes in one commit: readers of the store never see the ones in
        between (a `failed` about to be rolled back). Observers still hear of each, in order."""
        earlier = self.deployment
        self.deployment = self.store.set_states(self.id, changes)
        self.store.append_log(self.id, *(_state_line(state, note) for state, note, _ in changes))
        for number, (state, note, rolled_back_to) in enumerate(changes, start=1):
            seen = self.deployment
            if number < len(changes):  # as the deployment was in that state
                target = rolled_back_to or earlier.rolled_back_to
                seen = replace(earlier, state=state, rolled_back_to=target)
            guarded(self.observer).state_changed(seen, note)
            logger.info(
                "deployment %s -> %s",
                self.id,
                state,
                extra={"deployment": self.id, "state": str(state), "note": note},
            )


def _state_line(state: DeploymentState, note: str) -> str:
    return f"state: {state}" + (f" ({note})" if note else "")
