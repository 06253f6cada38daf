"""The deployments page in a real headless Chromium (Debian's, driven by playwright-core).

Screenshots of the list and of a live log go to a temporary folder, or to
$SLIPWAY_SCREENSHOT_DIR (`SLIPWAY_SCREENSHOT_DIR=docs/img` refreshes the docs' images).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.browser import Browser
from tests.support.seed import seed_history, sha_of
from tests.support.service import TOKEN, ServiceFactory
from webhook.store import NewDeployment
from webhook.store.states import DeploymentKind, DeploymentState

pytestmark = pytest.mark.browser
S = DeploymentState
# The screenshots in docs/img are refreshed only on purpose
# (SLIPWAY_SCREENSHOT_DIR=docs/img): a test run must not change the checkout.
IMAGES = Path(os.environ.get("SLIPWAY_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="slipway-ui-"))
ROWS_JS = (
    "[...document.querySelectorAll('tr[data-id]')].map(r => "
    "[Number(r.dataset.id), r.querySelector('.state').textContent])"
)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser(timezone="Asia/Tokyo") as opened:
        yield opened


def test_the_list_shows_the_states_of_a_seeded_history(
    start_service: ServiceFactory, browser: Browser
):
    service = start_service()
    ids = seed_history(service.store, 40)
    browser.sign_in(service.url, TOKEN)
    rows = browser.evaluate(ROWS_JS)
    expected = [[i, str(service.store.get_deployment(i).state)] for i in reversed(ids)]
    assert rows == expected
    assert {state for _, state in rows} >= {"succeeded", "rolled_back", "failed", "superseded"}
    first_time = browser.text("tr[data-id] time")  # shown in the viewer's zone, not UTC
    assert "GMT+9" in first_time and "UTC" not in first_time
    # dev is stack of the even numbers; of 32..38 (PATHS: succeeded, ., failed, rollback_failed)
    # the newest healthy one is 34
    assert browser.text('article[data-stack="dev"] dd a') == sha_of(34)[:12]
    browser.screenshot(IMAGES / "deployments-list.png")


def test_a_running_jobs_log_grows_on_screen_without_a_reload(
    start_service: ServiceFactory, browser: Browser
):
    service = start_service()
    store = service.store
    seed_history(store, 6)
    job = store.create_deployment(
        NewDeployment(DeploymentKind.DEPLOY, "dev", "c" * 40, "refs/heads/main", "push to main")
    )
    store.set_state(job.id, S.RUNNING, "deploying cccccccccccc")
    store.append_log(job.id, "deploy: checked out " + "c" * 40, "deploy: up starting")
    browser.sign_in(service.url, TOKEN, f"/ui/deployments/{job.id}")
    browser.evaluate("window.sameDocument = true")
    assert browser.call("count", selector="#log .line") == 2

    def write_log() -> None:
        for n in range(1, 6):
            time.sleep(0.3)
            store.append_log(job.id, f"    + docker:index:Container web creating ({n}/5)")

    writer = threading.Thread(target=write_log)
    writer.start()
    browser.wait_text("#log .line", "creating (5/5)")
    writer.join()
    assert browser.call("count", selector="#log .line") == 7
    assert browser.evaluate("window.sameDocument") is True  # no reload happened
    assert browser.text("#state") == "running" and browser.text("#live") == "live"
    browser.screenshot(IMAGES / "deployment-log.png")

    store.set_state(job.id, S.VERIFYING, "up finished; checking health")
    browser.wait_text("#state", "verifying")
    store.set_state(job.id, S.SUCCEEDED, "cccccccccccc is healthy")
    browser.wait_text("#live", "finished")
    assert browser.text("#state") == "succeeded"
    assert browser.evaluate("window.sameDocument") is True


def test_the_page_of_a_job_that_ends_shows_its_final_facts_without_a_reload(
    start_service: ServiceFactory, browser: Browser
):
    """The state badge changed at the end, but the state table and "ran for ... so far"
    stayed as they were when the page was opened (issue 34): the page went stale."""
    service = start_service()
    store = service.store
    job = store.create_deployment(
        NewDeployment(DeploymentKind.DEPLOY, "dev", "d" * 40, "refs/heads/main", "push")
    )
    store.set_state(job.id, S.RUNNING, "deploying dddddddddddd")
    browser.sign_in(service.url, TOKEN, f"/ui/deployments/{job.id}")
    browser.evaluate("window.sameDocument = true")
    assert "so far" in browser.text("dl.facts")
    store.set_state(job.id, S.VERIFYING, "up finished; checking health")
    store.set_state(job.id, S.SUCCEEDED, "dddddddddddd is healthy")
    browser.wait_text("#live", "finished")
    browser.wait_text("table", "dddddddddddd is healthy")
    assert "so far" not in browser.text("dl.facts")
    assert browser.evaluate("window.sameDocument") is True


def test_the_rollback_button_queues_a_rollback_after_confirmation(
    start_service: ServiceFactory, browser: Browser
):
    service = start_service()
    ids = seed_history(service.store, 8)
    bad = ids[-2]  # failed, with succeeded deployments of its stack before it
    good = service.store.last_good(service.store.get_deployment(bad).stack, before_id=bad)
    browser.sign_in(service.url, TOKEN, f"/ui/deployments/{bad}")
    assert browser.text("#rollback-open") == f"Roll back to {good.sha[:12]}"

    browser.call("click", selector="#rollback-open")
    assert browser.call("visible", selector="#rollback-dialog")
    browser.call("click", selector="#rollback-cancel")
    assert not browser.call("visible", selector="#rollback-dialog")
    assert service.queue.submitted == []  # nothing without the confirmation

    browser.call("click", selector="#rollback-open")
    browser.call("fill", selector="#rollback-reason", value="checkout broken")
    browser.screenshot(IMAGES / "rollback-confirm.png")
    browser.call("click", selector="#rollback-confirm")
    url = browser.call("waitUrl", pattern=rf"/ui/deployments/(?!{bad}$)\d+$")  # the new one
    new_id = int(url.rsplit("/", 1)[1])
    rollback = service.store.get_deployment(new_id)
    assert rollback.kind == DeploymentKind.ROLLBACK and rollback.rollback_of == bad
    assert rollback.sha == good.sha and rollback.reason == "checkout broken"
    assert service.queue.submitted == [new_id]
    assert browser.text("#state") == "queued"


def test_the_full_up_button_queues_a_forced_deploy_after_confirmation(
    start_service: ServiceFactory, browser: Browser
):
    service = start_service()
    ids = seed_history(service.store, 8)
    shown = next(
        d for d in map(service.store.get_deployment, ids)
        if d.stack == "dev" and d.kind == DeploymentKind.DEPLOY
    )  # fmt: skip
    browser.sign_in(service.url, TOKEN, f"/ui/deployments/{shown.id}")
    assert browser.text("#force-open").startswith(f"Deploy {shown.sha[:12]}")

    browser.call("click", selector="#force-open")
    assert browser.call("visible", selector="#force-dialog")
    browser.call("click", selector="#force-cancel")
    assert not browser.call("visible", selector="#force-dialog")
    assert service.queue.submitted == []  # nothing without the confirmation

    browser.call("click", selector="#force-open")
    browser.call("fill", selector="#force-reason", value="volume restored by hand")
    browser.call("click", selector="#force-confirm")
    url = browser.call("waitUrl", pattern=rf"/ui/deployments/(?!{shown.id}$)\d+$")
    new_id = int(url.rsplit("/", 1)[1])
    forced = service.store.get_deployment(new_id)
    assert forced.kind == DeploymentKind.DEPLOY and forced.sha == shown.sha
    assert forced.reason == "volume restored by hand"
    assert service.store.is_forced(new_id)  # the pipeline runs a full up for it
    assert service.queue.submitted == [new_id]
    # another stack's deployment has no such button: the API deploys only `dev`
    other = next(d for d in map(service.store.get_deployment, ids) if d.stack != "dev")
    browser.goto(f"{service.url}/ui/deployments/{other.id}")
    assert browser.call("count", selector="#force-open") == 0


def test_without_the_token_no_page_and_no_data(start_service: ServiceFactory, browser: Browser):
    service = start_service()
    ids = seed_history(service.store, 10)
    answer = browser.goto(f"{service.url}/ui/deployments/{ids[0]}")
    assert answer["url"].startswith(f"{service.url}/ui/login")
    page = browser.evaluate("document.documentElement.outerHTML")
    assert not any(sha_of(n)[:12] in page for n in range(10))
    statuses = browser.evaluate(
        "Promise.all(['/deployments', '/deployments/1', '/deployments/1/log',"
        f" '/ui/deployments/{ids[0]}/events'].map(u => fetch(u).then(r => r.status)))"
    )
    assert statuses == [401, 401, 401, 401]
    rollback = browser.evaluate(
        "fetch('/deployments/1/rollback', {method: 'POST'}).then(r => r.status)"
    )
    assert rollback == 401 and service.queue.submitted == []
    browser.call("fill", selector="#token", value="not-the-token")
    browser.call("click", selector="button[type=submit]")
    browser.wait_text(".error", "not the service's API token")
    assert "/ui/login" in browser.call("url")
