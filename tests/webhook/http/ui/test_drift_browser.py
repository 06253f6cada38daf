"""The stack card's drift line and the Reconcile button in a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.browser import Browser
from tests.support.seed import seed_history
from tests.support.service import TOKEN, ServiceFactory
from webhook.store.drift import DriftRecords, DriftResult

pytestmark = pytest.mark.browser

STOPPED = {
    "urn": "urn:pulumi:dev::slipway::slipway:compose:Stack$docker:index/container:Container"
    "::shop-web-1",
    "type": "docker:index/container:Container",
    "name": "shop-web-1",
    "change": "changed",
    "fields": [{"field": "mustRun", "old": "true", "new": "false"}],
    "container": "shop-web-1",
}


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as opened:
        yield opened


def test_drift_is_shown_and_reconcile_asks_first(
    start_service: ServiceFactory, browser: Browser
) -> None:
    service = start_service()
    seed_history(service.store, 8)
    records = DriftRecords(service.store)
    good = service.store.last_good("dev")
    check = records.start("dev", good.sha)
    records.finish(check.id, DriftResult.DRIFTED, [STOPPED])
    browser.sign_in(service.url, TOKEN)
    card = 'article[data-stack="dev"]'
    assert browser.text(f"{card} .drift").startswith("drifted since ")
    assert "shop-web-1 changed: mustRun true → false" in browser.text(f"{card} ul.drift")

    browser.call("click", selector=f"{card} .reconcile-open")
    assert browser.call("visible", selector="#reconcile-dialog")
    assert browser.text("#reconcile-sha") == good.sha[:12]
    browser.call("click", selector="#reconcile-cancel")
    assert not browser.call("visible", selector="#reconcile-dialog")
    assert service.queue.submitted == []  # Cancel queues nothing

    browser.call("click", selector=f"{card} .reconcile-open")
    browser.call("click", selector="#reconcile-confirm")
    url = browser.call("waitUrl", pattern=r"/ui/deployments/\d+$")
    queued = service.store.get_deployment(int(url.rsplit("/", 1)[1]))
    assert queued.sha == good.sha and queued.delivery_id.startswith("reconcile:")
    assert service.queue.submitted == [queued.id]
