"""A realistic deployment history for the page's tests and benchmark.

Written in one transaction through the store's own write operations (so the schema and the
state machine are the store's), then spread over time: one deployment every ten minutes,
each state change some seconds after the one before.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta

from webhook.dedupe import MISSED_REASON, poll_key
from webhook.store import NewDeployment, Store
from webhook.store.sql import insert_deployment, set_state
from webhook.store.states import DeploymentKind, DeploymentState

S = DeploymentState
PATHS: tuple[tuple[DeploymentState, ...], ...] = (
    (S.RUNNING, S.VERIFYING, S.SUCCEEDED),
    (S.RUNNING, S.VERIFYING, S.FAILED, S.ROLLING_BACK, S.ROLLED_BACK),
    (S.RUNNING, S.VERIFYING, S.SUCCEEDED),
    (S.SUPERSEDED,),
    (S.RUNNING, S.FAILED),
    (S.RUNNING, S.VERIFYING, S.SUCCEEDED),
    (S.RUNNING, S.VERIFYING, S.FAILED, S.ROLLING_BACK, S.ROLLBACK_FAILED),
    (S.RUNNING, S.INTERRUPTED),
)
NOTES = {
    S.FAILED: "health: FAIL http://127.0.0.1:8080/health HTTP 503 (want 200) [0/3]",
    S.SUCCEEDED: "healthy",
    S.ROLLING_BACK: "rolling back to the last healthy commit",
    S.ROLLED_BACK: "the last good commit is deployed again and healthy",
    S.ROLLBACK_FAILED: "rollback failed: the stack needs a person",
    S.SUPERSEDED: "superseded by a newer commit",
    S.INTERRUPTED: "the service stopped while this was running",
}


START = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def sha_of(number: int) -> str:
    return hashlib.sha1(f"commit {number}".encode()).hexdigest()


def _request(number: int, stack: str) -> NewDeployment:
    sha = sha_of(number)
    if number % 5 == 3:
        delivery, reason = poll_key(stack, sha), MISSED_REASON
    elif number % 5 == 4:
        delivery, reason = f"api:run-{number}", f"CI run {number}"
    else:
        delivery, reason = f"gh-{number:06d}", "push to main by alice"
    ref = "refs/heads/main"
    return NewDeployment(DeploymentKind.DEPLOY, stack, sha, ref, reason, delivery_id=delivery)


def seed_history(
    store: Store, count: int, stacks: tuple[str, ...] = ("dev", "prod"), start: datetime = START
) -> list[int]:
    """`count` finished deploys of `stacks` in turn, ten minutes apart; their ids."""

    def op(conn: sqlite3.Connection) -> list[int]:
        made, last_good = [], {}
        for number in range(count):
            stack = stacks[number % len(stacks)]
            at = start + timedelta(minutes=10 * number)
            deployment = insert_deployment(conn, _request(number, stack), _at(at))
            for step, state in enumerate(PATHS[number % len(PATHS)], start=1):
                target = last_good.get(stack) if state == S.ROLLING_BACK else None
                deployment = set_state(conn, deployment.id, state, NOTES.get(state, ""), target)
                _backdate(conn, deployment.id, at + timedelta(seconds=37 * step))
            if deployment.state == S.SUCCEEDED:
                last_good[stack] = deployment.sha
            made.append(deployment.id)
        return made

    return store.write(op)


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _backdate(conn: sqlite3.Connection, deployment_id: int, moment: datetime) -> None:
    """Give the newest state change of a deployment the time `moment`."""
    at = _at(moment)
    conn.execute(
        "UPDATE deployment_states SET at = ? WHERE id ="
        " (SELECT max(id) FROM deployment_states WHERE deployment_id = ?)",
        (at, deployment_id),
    )
    conn.execute("UPDATE deployments SET updated_at = ? WHERE id = ?", (at, deployment_id))
