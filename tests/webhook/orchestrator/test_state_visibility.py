"""What a reader of the store sees while a failed deployment is rolled back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.orchestrator import Harness, make_orchestrator
from webhook.store import Deployment, Store


class StoreWatcher:
    """An observer that notes, for each state it is told of, the state the store holds then."""

    def __init__(self) -> None:
        self.store: Store | None = None
        self.seen: list[tuple[int, str, str]] = []  # (deployment, told, stored)

    def state_changed(self, deployment: Deployment, note: str = "") -> None:
        assert self.store is not None
        stored = self.store.get_deployment(deployment.id).state
        self.seen.append((deployment.id, str(deployment.state), str(stored)))

    def preview_done(
        self, deployment: Deployment, collector: Any, error: str | None = None
    ) -> None:
        pass


def test_failed_is_never_the_stored_state_of_a_deployment_about_to_roll_back(
    app_repo, local_runner, tmp_path: Path
):
    """A client polling the API must be able to take `failed` as the last word: the store
    moves from verifying to rolling_back in one commit, while observers (GitHub statuses)
    still hear of `failed` with its note first."""
    watcher = StoreWatcher()
    store, orchestrator = make_orchestrator(
        app_repo.path, tmp_path / "state", local_runner, observer=watcher
    )
    watcher.store = store
    harness = Harness(store, orchestrator, local_runner)
    orchestrator.start()
    try:
        harness.request(app_repo.commit_app("one"))
        harness.wait_idle()
        bad = harness.request(app_repo.commit_app("two", health=500))
        harness.wait_idle()
    finally:
        orchestrator.stop(10)
    told = [(state, stored) for job, state, stored in watcher.seen if job == bad]
    assert [state for state, _ in told][-3:] == ["failed", "rolling_back", "rolled_back"]
    assert ("failed", "rolling_back") in told, told  # `failed` was never readable on its own
    assert harness.states(bad)[-3:] == ["failed", "rolling_back", "rolled_back"]  # history
    store.close()
