"""`/readyz` says what the recovery at start did (issue 31 item 6), until the next start."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.local_process import LocalProcessRunner
from tests.support.orchestrator import FAST
from tests.support.service import make_settings, serve_on_loopback
from webhook.http.app import create_app
from webhook.orchestrator import build_orchestrator
from webhook.store import NewDeployment, Store
from webhook.store.states import DeploymentKind, DeploymentState


def dead_pid() -> int:
    """The pid of a process of this host that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def crashed_mid_up(state_dir: Path, runner: LocalProcessRunner, sha: str) -> int:
    """What a service killed during `up` leaves: a `running` deployment, the stack's lock
    file of the dead process, one pending operation in the stack's state."""
    with Store.open(state_dir / "slipway.db") as store:
        job = store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", sha))
        store.set_state(job.id, DeploymentState.RUNNING, "deploying (test)")
    lock_dir = runner.backend_lock_dir("dev")
    lock_dir.mkdir(parents=True)
    lock = {"pid": dead_pid(), "username": "slipway", "hostname": socket.gethostname()}
    (lock_dir / "dead.json").write_text(json.dumps(lock))
    state_file = runner.root / "stacks" / "dev" / "state.json"
    state_file.parent.mkdir(parents=True)
    pending = [{"type": "creating", "resource": {"urn": "urn:app", "type": "local:app"}}]
    state = {"version": 3, "deployment": {"resources": [], "pending_operations": pending}}
    state_file.write_text(json.dumps(state))
    return job.id


def readyz_after_start(state_dir: Path, runner: LocalProcessRunner, repo: Path) -> dict:
    settings = make_settings(state_dir, repo_url=str(repo))
    store = Store.open(settings.database_path)
    try:
        orchestrator = build_orchestrator(settings, store, runner, FAST)
        with serve_on_loopback(create_app(settings, store, orchestrator)) as url:
            return httpx.get(f"{url}/readyz", timeout=30).json()
    finally:
        store.close()


def test_readyz_lists_what_recovery_did_until_the_next_start(
    app_repo, local_runner: LocalProcessRunner, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    job = crashed_mid_up(state, local_runner, app_repo.commit_app("one"))

    body = readyz_after_start(state, local_runner, app_repo.path)

    assert body["recovered"] == [
        {
            "deployment": job,
            "stack": "dev",
            "recovery": "interrupted; lock released; cleared 1 pending operation",
        }
    ], body
    assert body["status"] == "ready", body

    # The next start finds nothing to recover: the list is empty again.
    again = readyz_after_start(state, local_runner, app_repo.path)
    assert again["recovered"] == [], again


def test_readyz_recovered_is_empty_after_a_clean_start(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "state")
    with serve_on_loopback(create_app(settings)) as url:
        body = httpx.get(f"{url}/readyz", timeout=30).json()
    assert body["recovered"] == []
