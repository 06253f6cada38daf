"""Build the service: `create_app(settings, store, queue)`."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.routing import Route

from webhook.http.api import deployments, health
from webhook.http.drift_api import stacks
from webhook.http.headers import DefaultHeaders
from webhook.http.hooks import GitHubHook
from webhook.http.limits import (
    BodyLimit,
    BodyTooLarge,
    refused_as_declared,
    too_large_message,
)
from webhook.http.ratelimit import RateLimiter
from webhook.http.ui import install as install_ui
from webhook.http.unwritable import answer_unwritable
from webhook.metrics import DeploymentCollector, DriftCollector, Metrics
from webhook.poll import missed_delivery_poll
from webhook.queue import DeploymentQueue
from webhook.settings import Settings
from webhook.store import Store


class RequestMetrics:
    """ASGI middleware: count every HTTP answer by route template and status."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_note(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            self.metrics.count_request(getattr(route, "path", "unmatched"), status)


class SlipwayApp(FastAPI):
    """FastAPI, except that `POST /hooks/github` goes straight to its ASGI endpoint,
    skipping the middleware stack and the router: it is the one hot path. Every request,
    the hook's too, passes the body limit first (webhook/http/limits.py), and every answer
    gets the default headers (webhook/http/headers.py). The hook does both without their
    wrappers: the declared length is checked here, the body counted while the hook reads
    it, and the hook's answers carry the default headers themselves."""

    hook: GitHubHook
    body_limit: DefaultHeaders
    hook_limit: int

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == GitHubHook.ROUTE
            and scope["method"] == "POST"
        ):
            if not await refused_as_declared(scope, receive, send, self.hook_limit):
                await self.hook(scope, receive, send)
        else:
            await self.body_limit(scope, receive, send)

    async def _dispatch(self, scope: Any, receive: Any, send: Any) -> None:
        await super().__call__(scope, receive, send)


def _body_too_large(request: Request, error: Exception) -> JSONResponse:
    """A body that passed its limit while a route read it: 413, and the connection closes."""
    message = str(error) or too_large_message(0)
    return JSONResponse(
        {"error": message, "detail": message}, status_code=413, headers={"Connection": "close"}
    )


def create_app(
    settings: Settings, store: Store | None = None, queue: DeploymentQueue | None = None
) -> SlipwayApp:
    """The FastAPI app. Without `store`, it opens (and at shutdown closes) the database
    under `settings.deploy.state_dir`; without `queue`, it takes `service_queue`: the deploy
    orchestrator when SLIPWAY_REPO_URL is set, else the RecordingQueue."""
    from webhook.feedback.wiring import feedback_from_settings
    from webhook.orchestrator import service_queue  # the orchestrator builds on this module's deps

    owns_store = store is None
    store = store if store is not None else Store.open(settings.database_path)
    feedback = None  # GitHub statuses and PR comments, when SLIPWAY_GITHUB_TOKEN is set
    if queue is None:
        feedback = feedback_from_settings(settings, store)
        queue = service_queue(settings, store, observer=feedback)
    metrics = Metrics(queue_depth=queue.depth)
    metrics.registry.register(DeploymentCollector(store))  # deployment outcomes
    metrics.registry.register(DriftCollector(store))  # drift checks (docs/drift.md)
    poller = missed_delivery_poll(settings, store, queue, metrics.registry)  # None when off

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        queue.start()
        if poller is not None:
            poller.start()
        try:
            yield
        finally:
            if poller is not None:
                await poller.stop()
            queue.stop()
            if feedback is not None:
                feedback.close()
            if owns_store:
                store.close()

    app = SlipwayApp(
        title="Slipway webhook service",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        # No redirect from `/path/` to `/path`: Starlette builds its URL from the Host header.
        redirect_slashes=False,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.queue = queue
    app.state.metrics = metrics
    app.state.poller = poller
    app.state.api_limiter = RateLimiter(settings.http.api_limit, "api")
    hook = GitHubHook(
        settings, store, queue, metrics, RateLimiter(settings.http.hook_limit, "hook")
    )
    app.hook = hook
    app.hook_limit = settings.http.max_body_bytes
    app.body_limit = DefaultHeaders(BodyLimit(app._dispatch, settings.http.max_body_bytes))
    app.add_exception_handler(BodyTooLarge, _body_too_large)
    app.add_exception_handler(sqlite3.Error, answer_unwritable)  # full or read-only disk: 503
    # Also routed normally, so that other methods get 405 (POST never gets here).
    app.router.routes.insert(0, Route(GitHubHook.ROUTE, hook, methods=["POST"]))
    app.include_router(deployments)
    app.include_router(stacks)  # drift status and reconcile
    app.include_router(health)
    install_ui(app)  # the deployments page, /ui
    app.add_middleware(RequestMetrics, metrics=metrics)
    return app
