"""The real webhook service (FastAPI app, SQLite store, uvicorn on a loopback port) with a
`FakeQueue` that plays deployments out by a script, so that each final state can be reached.

The script is chosen by the commit SHA's first hex digit (see OUTCOMES); rollbacks succeed.
Every state change goes through `Store.set_state`, so the transition rules are the real ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from tests.support.queue_double import FakeQueue
from tests.support.service import Service, running_service
from webhook.settings import Settings
from webhook.store import Store
from webhook.store.states import DeploymentKind
from webhook.store.states import DeploymentState as S

TOKEN = "real-service-api-token-0123456789"
SECRET = "real-service-webhook-secret-0123"
STARTUP_LIMIT = 20.0

# Each inner tuple is one commit, as the pipeline writes them: a failure it rolls back is
# recorded together with `rolling_back` (webhook/orchestrator/journal.py).
OUTCOMES = {
    "a": ((S.RUNNING,), (S.VERIFYING,), (S.SUCCEEDED,)),
    "b": ((S.RUNNING,), (S.VERIFYING,), (S.FAILED, S.ROLLING_BACK), (S.ROLLED_BACK,)),
    "c": ((S.RUNNING,), (S.FAILED, S.ROLLING_BACK), (S.ROLLBACK_FAILED,)),
    "d": ((S.RUNNING,), (S.INTERRUPTED,)),
}
GOOD_SHA = "a" * 40
BAD_SHA = "b" * 40


def play_script(store: Store, deployment_id: int) -> None:
    """Move one deployment through its script (OUTCOMES), as a queue worker would."""
    deployment = store.get_deployment(deployment_id)
    script = (
        OUTCOMES["a"] if deployment.kind == DeploymentKind.ROLLBACK else OUTCOMES[deployment.sha[0]]
    )
    for states in script:
        store.append_log(deployment_id, *(f"scripted step: {s}" for s in states))
        store.set_states(deployment_id, [(s, "scripted", None) for s in states])


RealService = Service  # url, store (and settings, queue, a client)


@contextmanager
def real_service(state_dir: Path, **settings: object) -> Iterator[Service]:
    config = Settings(
        webhook_secret=SECRET, api_token=TOKEN, state_dir=state_dir, stack="prod", **settings
    )
    with running_service(
        state_dir,
        settings=config,
        queue=lambda _, store: FakeQueue(partial(play_script, store)),
        startup_limit=STARTUP_LIMIT,
    ) as service:
        yield service
