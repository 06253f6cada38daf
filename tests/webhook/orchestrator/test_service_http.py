"""The orchestrator inside the real service: uvicorn on loopback, the deploy API, real apps."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.orchestrator import FAST, WAIT_LIMIT
from tests.support.ports import free_port
from tests.support.service import TOKEN, make_settings, serve_on_loopback
from webhook.http.app import create_app
from webhook.orchestrator import Orchestrator, build_orchestrator
from webhook.queue import QueueUnavailable
from webhook.store import Store


def wait_final(client: httpx.Client, orchestrator: Orchestrator, deployment_id: int) -> dict:
    """The deployment as the API shows it once the orchestrator has nothing left to do."""
    deadline = time.monotonic() + WAIT_LIMIT
    while orchestrator.depth() and time.monotonic() < deadline:
        time.sleep(0.02)
    return client.get(f"/deployments/{deployment_id}").json()


def test_deploy_api_drives_the_orchestrator(app_repo, local_runner, tmp_path: Path):
    good = app_repo.commit_app("one")
    bad = app_repo.commit_app("two", health=500)
    settings = make_settings(tmp_path / "state", repo_url=str(app_repo.path))
    store = Store.open(settings.database_path)
    orchestrator = build_orchestrator(settings, store, local_runner, FAST)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with serve_on_loopback(create_app(settings, store, orchestrator)) as url:
            client = httpx.Client(base_url=url, headers=headers, timeout=30)
            first = client.post("/deployments", json={"sha": good, "reason": "release 1"})
            assert first.status_code == 202
            body = wait_final(client, orchestrator, first.json()["id"])
            assert [h["state"] for h in body["history"]][-1] == "succeeded"

            second = client.post("/deployments", json={"sha": bad}).json()["id"]
            body = wait_final(client, orchestrator, second)
            assert body["state"] == "rolled_back" and body["rolled_back_to"] == good
            lines = [
                line["line"] for line in client.get(f"/deployments/{second}/log").json()["lines"]
            ]
            assert any(line.startswith("health: FAIL") for line in lines)

            manual = client.post(f"/deployments/{second}/rollback", json={"reason": "by hand"})
            assert manual.status_code == 202
            body = wait_final(client, orchestrator, manual.json()["id"])
            assert body["state"] == "succeeded" and body["rolled_back_to"] == good
            metrics = client.get("/metrics").text
            assert 'slipway_deployments{kind="deploy",state="rolled_back"} 1.0' in metrics
            assert 'slipway_deployments{kind="rollback",state="succeeded"} 1.0' in metrics
            assert 'slipway_last_healthy_timestamp_seconds{stack="dev"}' in metrics
            outputs = local_runner.open("dev", Path(".")).outputs()
            assert httpx.get(outputs["url"]).text == "one"
            client.close()
        # The lifespan stopped the orchestrator: it takes no more work.
        with pytest.raises(QueueUnavailable):
            orchestrator.submit(second)
    finally:
        store.close()


SERVICE_PROCESS = """
import sys
from pathlib import Path

import uvicorn

from tests.support.orchestrator import make_orchestrator
from tests.support.service import make_settings
from webhook.http.app import create_app
from tests.support.local_process import LocalProcessRunner

repo, state, backend, port = sys.argv[1:5]
settings = make_settings(Path(state), repo_url=repo)
store, orchestrator = make_orchestrator(Path(repo), Path(state), LocalProcessRunner(Path(backend)))
uvicorn.run(create_app(settings, store, orchestrator), host="127.0.0.1", port=int(port),
            log_level="warning")
store.close()
"""


def test_sigterm_lets_the_running_up_finish_and_keeps_the_queue(
    app_repo, local_runner, tmp_path: Path, repo_root: Path
):
    slow = app_repo.commit_app("slow", delay=2.0)
    later = app_repo.commit_app("later")
    state = tmp_path / "state"
    port = free_port()
    arguments = [str(app_repo.path), str(state), str(local_runner.root), str(port)]
    service = subprocess.Popen([sys.executable, "-c", SERVICE_PROCESS, *arguments], cwd=repo_root)
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        running = client.post("/deployments", json={"sha": slow}).json()["id"]
        while time.monotonic() < deadline:
            lines = client.get(f"/deployments/{running}/log").json()["lines"]
            if any("app: starting slow" in line["line"] for line in lines):
                break
            time.sleep(0.02)
        waiting = client.post("/deployments", json={"sha": later}).json()["id"]
        client.close()
        service.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert service.wait(WAIT_LIMIT) in (0, -signal.SIGTERM)
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
    with Store.open(state / "slipway.db") as store:
        assert store.get_deployment(running).state == "succeeded"
        assert store.get_deployment(waiting).state == "queued"
