"""The page over real HTTP (uvicorn on loopback): private by default, paged, escaped,
the live log as Server-Sent Events, rollback through the API with cookie + CSRF."""

from __future__ import annotations

import re
import threading
import time

import httpx

from tests.support.seed import seed_history, sha_of
from tests.support.service import TOKEN, Service, ServiceFactory
from webhook.http.auth import CSRF_HEADER, SESSION_COOKIE
from webhook.http.ui.live import LiveStreams
from webhook.store import NewDeployment
from webhook.store.states import DeploymentKind, DeploymentState

S = DeploymentState


def _signed_in(service: Service) -> httpx.Client:
    client = httpx.Client(base_url=service.url, timeout=30)
    answer = client.post("/ui/login", data={"token": TOKEN, "next": "/ui"})
    assert answer.status_code == 303 and answer.headers["location"] == "/ui"
    return client


def _csrf(page: str) -> str:
    return re.search(r'<meta name="slipway-csrf" content="([0-9a-f]+)">', page)[1]


def test_without_the_token_there_is_no_page_and_no_data(start_service: ServiceFactory):
    service = start_service()
    ids = seed_history(service.store, 12)
    stranger = httpx.Client(base_url=service.url, timeout=30)
    for path in ("/ui", f"/ui/deployments/{ids[0]}", "/ui?before=5"):
        answer = stranger.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/ui/login?next=")
    login = stranger.get("/ui/login")
    assert login.status_code == 200 and 'type="password"' in login.text
    assert not any(sha_of(n)[:12] in login.text for n in range(12))
    assert stranger.get(f"/ui/deployments/{ids[0]}/events").status_code == 401
    assert stranger.get("/deployments").status_code == 401
    wrong = stranger.post("/ui/login", data={"token": "guess"})
    assert wrong.status_code == 401 and SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
    stranger.cookies.set(SESSION_COOKIE, f"{int(time.time()) + 3600}.{'0' * 64}")
    assert stranger.get("/ui").status_code == 303


def test_without_an_api_token_the_page_is_off(start_service: ServiceFactory):
    service = start_service(api_token=None)
    client = httpx.Client(base_url=service.url, timeout=30)
    assert client.get("/ui").status_code == 303
    off = client.get("/ui/login")
    assert off.status_code == 401 and "SLIPWAY_API_TOKEN" in off.text
    assert client.post("/ui/login", data={"token": ""}).status_code == 401


def test_login_cookie_is_httponly_strict_and_shows_the_history(start_service: ServiceFactory):
    service = start_service()
    ids = seed_history(service.store, 12)
    client = httpx.Client(base_url=service.url, timeout=30)
    answer = client.post("/ui/login", data={"token": TOKEN, "next": "/ui/deployments/3"})
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert TOKEN not in cookie
    assert answer.headers["location"] == "/ui/deployments/3"
    page = client.get("/ui")
    assert page.status_code == 200
    for deployment_id in ids:
        d = service.store.get_deployment(deployment_id)
        assert f'<tr data-id="{d.id}">' in page.text and f"s-{d.state}" in page.text
    bearer = httpx.get(f"{service.url}/ui", headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 200 and sha_of(0)[:12] in bearer.text


def test_pages_cannot_be_framed_cached_or_run_foreign_scripts(start_service: ServiceFactory):
    service = start_service()
    page = _signed_in(service).get("/ui")
    headers = page.headers
    nonce = re.search(r"script-src 'nonce-([^']+)'", headers["content-security-policy"])[1]
    assert f'<script nonce="{nonce}">' in page.text
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    assert not re.search(r"(src|href)=\"https?://", page.text)  # no external assets


def test_store_text_is_escaped(start_service: ServiceFactory):
    service = start_service()
    new = NewDeployment(DeploymentKind.DEPLOY, "dev", "a" * 40, reason="<script>alert(1)</script>")
    deployment = service.store.create_deployment(new)
    service.store.append_log(deployment.id, "<img src=x onerror=alert(2)>")
    client = _signed_in(service)
    for path in ("/ui", f"/ui/deployments/{deployment.id}"):
        text = client.get(path).text
        assert "<script>alert" not in text and "&lt;script&gt;alert(1)" in text
    assert "<img src=x" not in client.get(f"/ui/deployments/{deployment.id}").text


def test_history_is_paged_newest_first(start_service: ServiceFactory):
    service = start_service()
    ids = seed_history(service.store, 120)
    client = _signed_in(service)
    first = client.get("/ui?limit=50").text
    shown = [int(i) for i in re.findall(r'<tr data-id="(\d+)">', first)]
    assert shown == ids[::-1][:50]
    older = re.search(r'<a href="([^"]+)" rel="next">', first)[1].replace("&amp;", "&")
    second = [int(i) for i in re.findall(r'<tr data-id="(\d+)">', client.get(older).text)]
    assert second == ids[::-1][50:100]
    assert 'data-stack="dev"' in first and 'data-stack="prod"' in first


def test_rollback_through_the_api_needs_cookie_and_csrf(start_service: ServiceFactory):
    service = start_service()
    ids = seed_history(service.store, 8)
    bad = ids[-1]
    client = _signed_in(service)
    page = client.get(f"/ui/deployments/{bad}").text
    assert 'id="rollback-open"' in page
    url = f"/deployments/{bad}/rollback"
    assert client.post(url, json={}).status_code == 401  # cookie alone: no
    assert client.post(url, json={}, headers={CSRF_HEADER: "0" * 64}).status_code == 401
    queued = client.post(url, json={"reason": "from the page"}, headers={CSRF_HEADER: _csrf(page)})
    assert queued.status_code == 202
    rollback = service.store.get_deployment(queued.json()["id"])
    assert rollback.kind == DeploymentKind.ROLLBACK and rollback.rollback_of == bad
    assert service.queue.submitted == [rollback.id]


def test_the_live_log_streams_lines_and_states_until_the_job_ends(
    start_service: ServiceFactory,
):
    service = start_service()
    store = service.store
    job = store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", "b" * 40))
    store.set_state(job.id, S.RUNNING, "deploying")
    store.append_log(job.id, "line one")
    client = _signed_in(service)
    page = client.get(f"/ui/deployments/{job.id}").text
    events_url = re.search(r'data-events="([^"]+)"', page)[1].replace("&amp;", "&")

    def finish_later() -> None:
        time.sleep(0.5)
        store.append_log(job.id, "line two")
        store.set_state(job.id, S.SUCCEEDED, "healthy")

    threading.Thread(target=finish_later).start()
    seen = []
    with client.stream("GET", events_url) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for text in stream.iter_lines():
            seen.append(text)
            if text.startswith("event: end"):
                break
    body = "\n".join(seen)
    assert "line one" not in body  # already on the page
    assert '"line two"' in body and '"state": "running"' in body
    assert '"state": "succeeded"' in body and "event: end" in body


def test_a_reconnecting_live_log_goes_on_after_the_last_event_id(start_service: ServiceFactory):
    service = start_service()
    store = service.store
    job = store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", "d" * 40))
    store.append_log(job.id, "seen before the reconnect", "after the reconnect")
    store.set_state(job.id, S.RUNNING, "deploying")
    store.set_state(job.id, S.SUCCEEDED, "healthy")
    first = store.read_log(job.id)[0].seq
    time.sleep(2.1)  # settled (TAIL_SECONDS): the stream ends after the lines
    client = _signed_in(service)
    url = f"/ui/deployments/{job.id}/events?after=0"
    body = client.get(url, headers={"Last-Event-ID": str(first)}).text  # settled: it ends
    assert "seen before" not in body and '"after the reconnect"' in body
    assert "event: end" in body


def test_log_out_needs_the_pages_csrf_token(start_service: ServiceFactory):
    service = start_service()
    client = _signed_in(service)
    csrf = _csrf(client.get("/ui").text)
    assert client.post("/ui/logout", data={"csrf": "0" * 64}).status_code == 403
    out = client.post("/ui/logout", data={"csrf": csrf})
    assert out.status_code == 303 and 'slipway_session=""' in out.headers["set-cookie"]
    client.cookies.clear()
    assert client.get("/ui").status_code == 303


def test_live_logs_are_bounded():
    streams = LiveStreams(limit=2)
    assert streams.try_open() and streams.try_open() and not streams.try_open()
    streams.close()
    assert streams.try_open()
