"""Kill -9 the real service mid-traffic, restart it on the same state directory: nothing lost."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.service import AUTH, ServeProcess, signed_delivery


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "state"


def _push_for(push_example: dict[str, Any], delivery: str) -> dict[str, Any]:
    """A push of its own per delivery id: the same signed body again would be a replay."""
    return {**push_example, "after": hashlib.sha1(delivery.encode()).hexdigest()}


def test_sigkill_loses_no_accepted_delivery_or_deployment(
    state_dir: Path, push_example: dict[str, Any]
) -> None:
    port = free_port()
    server = ServeProcess(state_dir, port)
    accepted_hooks: dict[str, int] = {}
    accepted_api: dict[int, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def send_deliveries(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for n in range(2000):
                if stop.is_set():
                    return
                delivery = f"restart-{worker}-{n}"
                try:
                    response = client.post(
                        "/hooks/github",
                        **signed_delivery("push", _push_for(push_example, delivery), delivery),
                    )
                except httpx.HTTPError:
                    return
                if response.status_code == 202:
                    with lock:
                        accepted_hooks[delivery] = response.json()["id"]

    def send_api(worker: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10, headers=AUTH) as client:
            for n in range(2000):
                if stop.is_set():
                    return
                sha = f"{worker:02x}{n:038x}"
                try:
                    response = client.post("/deployments", json={"sha": sha})
                except httpx.HTTPError:
                    return
                if response.status_code == 202:
                    with lock:
                        accepted_api[response.json()["id"]] = sha

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(send_deliveries, w) for w in range(4)]
        futures += [pool.submit(send_api, w) for w in range(2)]
        deadline = time.monotonic() + 60
        while len(accepted_hooks) < 150 or len(accepted_api) < 30:
            assert time.monotonic() < deadline, "the service accepted too little in 60 s"
            time.sleep(0.01)
        server.kill()  # mid-traffic: requests are in flight
        stop.set()
        for future in futures:
            future.result()

    restarted = ServeProcess(state_dir, free_port())
    try:
        with httpx.Client(base_url=restarted.url, timeout=10, headers=AUTH) as client:
            stored: dict[int, dict[str, Any]] = {}
            page: str | None = "/deployments?limit=200"
            while page:
                body = client.get(page).json()
                stored.update({d["id"]: d for d in body["items"]})
                page = body["next"]
            for deployment_id, sha in accepted_api.items():
                assert stored[deployment_id]["sha"] == sha
                assert stored[deployment_id]["state"] == "queued"
            for delivery, deployment_id in accepted_hooks.items():
                assert stored[deployment_id]["delivery_id"] == delivery
                assert stored[deployment_id]["sha"] == _push_for(push_example, delivery)["after"]
            # Every accepted delivery id is remembered: a redelivery is a duplicate.
            for delivery, deployment_id in list(accepted_hooks.items())[:50]:
                again = client.post(
                    "/hooks/github",
                    **signed_delivery("push", _push_for(push_example, delivery), delivery),
                )
                assert again.status_code == 200
                assert again.json() == {
                    "duplicate": True,
                    "delivery": delivery,
                    "status": "processed",
                    "id": deployment_id,
                }
            history = client.get(f"/deployments/{next(iter(accepted_api))}").json()["history"]
            assert [h["state"] for h in history] == ["queued"]
    finally:
        restarted.process.terminate()
        restarted.process.wait(15)
