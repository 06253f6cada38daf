"""The deployments page's routes (`/ui...`): HTTP glue between the store, the views and
the HTML. Every route needs the API token (bearer) or the login cookie made from it."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from webhook.http import auth
from webhook.http.api import DeploymentId, SettingsDep, StoreDep, rate_limit
from webhook.http.callers import forwarded_https
from webhook.http.drift_api import stack_drift
from webhook.http.limits import MAX_ID
from webhook.http.ui import render
from webhook.http.ui.live import LiveStreams, follow
from webhook.http.ui.views import StackStatus, is_settled, row, stack_status
from webhook.settings import Settings
from webhook.store import NotFound, Store
from webhook.store.states import DeploymentState

LAST_EVENT_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits that fit SQLite's integers
INITIAL_LINES = 2000
"""Log lines in the page itself; the live stream sends the rest."""

ui = APIRouter(prefix="/ui", include_in_schema=False, dependencies=[Depends(rate_limit)])


def _token(settings: Settings) -> str | None:
    return settings.http.api_token.get_secret_value() if settings.http.api_token else None


def viewer_csrf(request: Request, settings: Settings) -> str | None:
    """The CSRF token for this viewer ('' with a bearer token), or None: not signed in."""
    token = _token(settings)
    if token is None:
        return None
    if auth.bearer_valid(token, request.headers.get("authorization")):
        return ""
    session = request.cookies.get(auth.SESSION_COOKIE)
    not_before = request.app.state.store.session_not_before()
    if session and auth.session_valid(token, session, time.time(), not_before):
        return auth.csrf_token(token, session)
    return None


def html(body: str, *, title: str, nonce: str, csrf: str = "", status: int = 200) -> HTMLResponse:
    """A page with headers that keep it private: no caching, no framing, scripts by nonce."""
    text = render.page(title, body, nonce=nonce, csrf=csrf, signed_in=bool(csrf))
    return HTMLResponse(text, status_code=status, headers=_private_headers(nonce))


def _private_headers(nonce: str = "") -> dict[str, str]:
    policy = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; "
        "connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )
    return {
        "Cache-Control": "no-store",
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def _to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(
        f"/ui/login?next={quote(target)}", status_code=303, headers={"Cache-Control": "no-store"}
    )


def _stack_statuses(store: Store) -> list[StackStatus]:
    statuses = []
    for stack in store.stacks():
        rolled_back = store.list_deployments(
            limit=1, stack=stack, states=(DeploymentState.ROLLED_BACK,)
        )
        latest = store.list_deployments(limit=1, stack=stack)
        status = stack_status(
            stack,
            store.last_good(stack),
            rolled_back[0] if rolled_back else None,
            latest[0] if latest else None,
        )
        statuses.append(replace(status, drift=stack_drift(store, stack)))
    return statuses


def blocked_by(request: Request) -> str:
    """What keeps deployments from running, as /readyz lists it ('' when nothing does)."""
    problems = getattr(request.app.state.queue, "problems", None)
    found = problems() if problems is not None else []
    return "; ".join(p.message() for p in found if p.blocks_deploys)


@ui.get("", response_model=None)
def list_page(
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    """Per stack what runs now; the history, newest first, `limit` a page."""
    csrf = viewer_csrf(request, settings)
    if csrf is None:
        return _to_login(request)
    now = datetime.now(UTC)
    items = store.list_deployments(limit=limit, before_id=before)
    histories = store.state_histories(d.id for d in items)
    blocked = blocked_by(request)
    rows = [row(d, histories[d.id], now, blocked) for d in items]
    older = f"/ui?before={items[-1].id}&limit={limit}" if len(items) == limit else None
    newer = "/ui" if before is not None else None
    body = render.list_body(_stack_statuses(store), rows, newer, older)
    return html(body, title="Deployments", nonce=secrets.token_urlsafe(16), csrf=csrf)


@ui.get("/deployments/{deployment_id}", response_model=None)
def detail_page(
    deployment_id: DeploymentId, request: Request, settings: SettingsDep, store: StoreDep
) -> Response:
    """One deployment: facts, state history, the log (live while the job runs)."""
    csrf = viewer_csrf(request, settings)
    if csrf is None:
        return _to_login(request)
    nonce = secrets.token_urlsafe(16)
    try:
        deployment = store.get_deployment(deployment_id)
    except NotFound:
        missing = f"<h1>No deployment #{deployment_id}</h1><p><a href='/ui'>All deployments</a></p>"
        return html(missing, title="Not found", nonce=nonce, csrf=csrf, status=404)
    now = datetime.now(UTC)
    history = store.state_history(deployment_id)
    lines = store.read_log(deployment_id, limit=INITIAL_LINES)
    last_seq = lines[-1].seq if lines else 0
    done = is_settled(deployment, now) and len(lines) < INITIAL_LINES
    events = None if done else f"/ui/deployments/{deployment_id}/events?after={last_seq}"
    good = store.last_good(deployment.stack, before_id=deployment.id)
    item = row(deployment, history, now, blocked_by(request))
    body = render.detail_body(item, history, lines, good, events, settings.deploy.stack)
    return html(body, title=f"Deployment #{deployment_id}", nonce=nonce, csrf=csrf)


@ui.get("/deployments/{deployment_id}/events", response_model=None)
async def log_events(
    deployment_id: DeploymentId,
    request: Request,
    settings: SettingsDep,
    store: StoreDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    last_event_id: Annotated[str | None, Header()] = None,
) -> Response:
    """Server-Sent Events: the log from line `after` (or Last-Event-ID) on, live."""
    if viewer_csrf(request, settings) is None:
        raise HTTPException(401, "sign in at /ui/login or send the bearer token")
    try:
        store.get_deployment(deployment_id)
    except NotFound:
        raise HTTPException(404, f"no deployment {deployment_id}") from None
    if last_event_id and LAST_EVENT_ID.fullmatch(last_event_id):  # else ignored
        after = max(after, int(last_event_id))
    streams: LiveStreams = request.app.state.ui_streams
    if not streams.try_open():
        raise HTTPException(503, "too many live logs open; reload later", {"Retry-After": "5"})
    events = follow(store, deployment_id, after, request.is_disconnected, streams)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


@ui.get("/login", response_model=None)
def login_form(settings: SettingsDep, next: str = "/ui") -> Response:
    """The sign-in form (or, without SLIPWAY_API_TOKEN, why there is none)."""
    nonce = secrets.token_urlsafe(16)
    if _token(settings) is None:
        off = "<h1>The deployments page is off</h1><p>Set <code>SLIPWAY_API_TOKEN</code>.</p>"
        return html(off, title="Off", nonce=nonce, status=401)
    return html(render.login_body(auth.safe_next(next), ""), title="Sign in", nonce=nonce)


@ui.post("/login", response_model=None)
async def login(request: Request, settings: SettingsDep) -> Response:
    """Check the token from the form; on success set the login cookie and go on."""
    form = parse_qs((await request.body())[:8192].decode(errors="replace"))
    given = form.get("token", [""])[0].strip()
    target = auth.safe_next(form.get("next", ["/ui"])[0])
    token = _token(settings)
    if token is None or not auth.bearer_valid(token, f"Bearer {given}"):
        body = render.login_body(target, "That is not the service's API token.")
        return html(body, title="Sign in", nonce=secrets.token_urlsafe(16), status=401)
    response = RedirectResponse(target, status_code=303, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        auth.SESSION_COOKIE,
        auth.new_session(token, time.time()),
        max_age=auth.SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="strict",
        secure=_reached_over_https(request, settings),
    )
    return response


def _reached_over_https(request: Request, settings: Settings) -> bool:
    """Whether the browser speaks https to us: directly, through a trusted proxy that says
    so (X-Forwarded-Proto), or by SLIPWAY_PUBLIC_URL; then the login cookie is `Secure`."""
    peer = request.client.host if request.client else None
    return (
        request.url.scheme == "https"
        or settings.http.public_url.startswith("https://")
        or forwarded_https(
            peer, request.headers.get("x-forwarded-proto"), settings.http.proxy_networks
        )
    )


@ui.post("/logout", response_model=None)
async def logout(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """End every session made so far, on the server, and forget the login cookie (the form
    carries the CSRF token)."""
    form = parse_qs((await request.body())[:8192].decode(errors="replace"))
    token, session = _token(settings), request.cookies.get(auth.SESSION_COOKIE, "")
    if token is None or not auth.csrf_valid(token, session, form.get("csrf", [""])[0]):
        raise HTTPException(403, "log out from the page itself")
    await run_in_threadpool(store.end_sessions, time.time())
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response
