"""The orchestrator inside the real service: uvicorn on loopback, the deploy API, real apps."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.orchestrator.harness import FAST, WAIT_LIMIT
from tests.webhook.conftest import TOKEN, ThreadedServer, make_settings
from webhook.app import create_app
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
        with ThreadedServer(create_app(settings, store, orchestrator)) as url:
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
            outputs = local_runner.open("dev", Path(".")).outputs()
            assert httpx.get(outputs["url"]).text == "one"
            client.close()
        # The lifespan stopped the orchestrator: it takes no more work.
        with pytest.raises(QueueUnavailable):
            orchestrator.submit(second)
    finally:
        store.close()
