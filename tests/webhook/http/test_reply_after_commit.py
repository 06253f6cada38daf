"""A 202 leaves only after the delivery and its deployment are committed to disk.

The store's COMMIT is held at a gate: the reply must wait for it. An implementation that
answered before its commit would answer while the gate is closed, and fail here.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from tests.support.service import ServiceFactory, signed_delivery


class GatedConnection:
    """The writer's SQLite connection, whose COMMIT waits until `gate` opens."""

    def __init__(self, conn: Any, gate: threading.Event) -> None:
        self._conn, self.gate = conn, gate
        self.commits_waiting = threading.Event()

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            self.commits_waiting.set()
            assert self.gate.wait(30), "the test never opened the gate"
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_the_202_waits_for_the_commit(
    start_service: ServiceFactory, push_example: dict[str, Any]
) -> None:
    service = start_service()
    gate = threading.Event()
    writer = service.store._writer
    gated = GatedConnection(writer.conn, gate)
    writer.conn = gated
    delivery = "gated-delivery-1"
    request = signed_delivery("push", push_example, delivery=delivery)
    with ThreadPoolExecutor(1) as pool:
        reply = pool.submit(httpx.post, f"{service.url}/hooks/github", timeout=60, **request)
        assert gated.commits_waiting.wait(30), "the delivery never reached its COMMIT"
        # The COMMIT is held: no answer may leave, and nothing is on disk yet.
        assert not reply.done(), f"answered before its commit: {reply.result().status_code}"
        assert service.store.get_delivery(delivery) is None
        assert not reply.done()
        gate.set()
        answer = reply.result(timeout=30)
    writer.conn = gated._conn
    assert answer.status_code == 202, answer.text
    assert service.store.get_delivery(delivery) is not None
    deployment = service.store.get_deployment(answer.json()["id"])
    assert deployment.sha == push_example["after"]
