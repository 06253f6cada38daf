"""A queued deployment on the page says what keeps it waiting (issue 34).

Under `make serve` without `pulumi`, `/ui` showed `queued` forever with no hint, while
`/readyz` knew why. The page now puts /readyz's degraded reason next to a queued
deployment, on the list and on its own page; a deployment past `queued` shows none.
"""

from __future__ import annotations

import httpx

from tests.support.queue_double import FakeQueue
from tests.support.seed import seed_history
from tests.support.service import TOKEN, ServiceFactory
from webhook.http.readiness import COMMANDS
from webhook.store import NewDeployment
from webhook.store.states import DeploymentKind

PULUMI = COMMANDS["pulumi"]


def test_a_queued_deployment_shows_why_it_waits(start_service: ServiceFactory) -> None:
    service = start_service(queue=FakeQueue(problems=[PULUMI]))  # `pulumi` is missing
    [finished] = seed_history(service.store, 1)
    queued = service.store.create_deployment(
        NewDeployment(DeploymentKind.DEPLOY, "dev", "a" * 40, "refs/heads/main", "test")
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    ready = httpx.get(f"{service.url}/readyz").json()
    assert ready["degraded"][0]["check"] == "pulumi_cli", ready
    listing = httpx.get(f"{service.url}/ui", headers=auth).text
    assert f'<tr data-id="{queued.id}">' in listing, listing[-3000:]
    row = listing.split(f'<tr data-id="{queued.id}">')[1].split("</tr>")[0]
    assert "waiting: the Pulumi CLI (`pulumi`) is not on the service&#x27;s PATH" in row, row
    other = listing.split(f'<tr data-id="{finished}">')[1].split("</tr>")[0]
    assert "waiting:" not in other, other
    page = httpx.get(f"{service.url}/ui/deployments/{queued.id}", headers=auth).text
    assert "waiting: the Pulumi CLI (`pulumi`) is not on the service&#x27;s PATH" in page
    assert "docs/install.md" in page
