"""The service polling a real git repository (tests/webhook/poll): what it stored and counted."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from tests.support.app_repo import AppRepo
from tests.support.service import signed_delivery
from webhook.queue import DeploymentQueue
from webhook.store import Deployment, Store

SECRET = "poll-test-secret-0123456789"
TOKEN = "poll-test-token-0123"  # SLIPWAY_API_TOKEN: at least 16 characters
WAIT_LIMIT = 60.0  # a bound for polling loops, never asserted on


@dataclass
class PolledService:
    url: str
    store: Store
    queue: DeploymentQueue
    client: httpx.Client
    repo: AppRepo

    def push_delivered(self, sha: str) -> httpx.Response:
        """GitHub's push delivery of `sha` to main, signed."""
        payload = {"ref": "refs/heads/main", "after": sha, "pusher": {"name": "alice"}}
        return self.client.post("/hooks/github", **signed_delivery("push", payload, None, SECRET))

    def deployments_of(self, sha: str) -> list[Deployment]:
        return [d for d in self.store.list_deployments(limit=1000) if d.sha == sha]

    def wait_for_deployment(self, sha: str) -> Deployment:
        deadline = time.monotonic() + WAIT_LIMIT
        while time.monotonic() < deadline:
            if found := self.deployments_of(sha):
                return found[0]
            time.sleep(0.02)
        raise AssertionError(f"no deployment of {sha} within {WAIT_LIMIT}s")

    def poll_checks(self, result: str) -> float:
        text = self.client.get("/metrics").text
        found = re.search(rf'^slipway_poll_checks_total{{result="{result}"}} (\S+)$', text, re.M)
        return float(found[1]) if found else 0.0

    def wait_for_checks(self, result: str, count: float) -> None:
        deadline = time.monotonic() + WAIT_LIMIT
        while self.poll_checks(result) < count:
            assert time.monotonic() < deadline, f"fewer than {count} '{result}' checks"
            time.sleep(0.05)


PolledFactory = Callable[..., PolledService]
