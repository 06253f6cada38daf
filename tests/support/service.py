"""The one way tests start the webhook service, in process or as a child process.

- `running_service`: the service as `python -m webhook serve` builds it (settings, store,
  `create_app`) under real uvicorn on a free loopback port, with the queue the test chooses
  (a `FakeQueue`, tests/support/queue_double.py, or the orchestrator); yields a
  `Service`.
- `ServeProcess`: `python -m webhook serve` itself as a child process, for what only a real
  process shows (kill -9, the CLI's own start-up, a proxy in front of it).
- `serve_on_loopback`: the uvicorn part of `running_service`, for any other ASGI app.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from tests.support.paths import REPO_ROOT
from tests.support.ports import free_port
from tests.support.queue_double import FakeQueue
from webhook.http.app import create_app
from webhook.http.signature import sign
from webhook.queue import DeploymentQueue
from webhook.settings import Settings
from webhook.store import Store

SECRET = "test-secret-0123456789abcdef"
TOKEN = "test-api-token-abcdef"
BRANCH = "master"  # the branch of the octokit push examples
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def signed_delivery(
    event: str,
    payload: dict[str, Any] | bytes,
    delivery: str | None = None,
    secret: str = SECRET,
    headers: dict[str, str] | None = None,
    form: bool = False,
) -> dict[str, Any]:
    """httpx request arguments for a signed GitHub delivery."""
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if form:
        raw = httpx.QueryParams({"payload": raw.decode()}).__str__().encode()
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    all_headers = {
        "Content-Type": content_type,
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret.encode(), raw),
        "User-Agent": "GitHub-Hookshot/test",
        **(headers or {}),
    }
    return {"content": raw, "headers": all_headers}


def make_settings(state_dir: Path, **overrides: Any) -> Settings:
    """The tests' settings: SECRET, TOKEN, BRANCH, stack `dev`, then `overrides`."""
    values: dict[str, Any] = {
        "webhook_secret": SECRET,
        "api_token": TOKEN,
        "branch": BRANCH,
        "stack": "dev",
        "state_dir": state_dir,
        **overrides,
    }
    return Settings(**values)


@dataclass
class Service:
    """A running service: its base URL, settings, store and queue, plus request helpers that
    sign with `secret` and authenticate with `token` (the service's own, by default)."""

    url: str
    settings: Settings
    store: Store
    queue: DeploymentQueue
    client: httpx.Client
    secret: str = SECRET
    token: str = TOKEN

    def deliver(
        self,
        event: str,
        payload: dict[str, Any] | bytes,
        *,
        delivery: str | None = None,
        secret: str | None = None,
        headers: dict[str, str] | None = None,
        form: bool = False,
    ) -> httpx.Response:
        """POST a signed delivery the way GitHub does."""
        secret = self.secret if secret is None else secret
        return self.client.post(
            "/hooks/github", **signed_delivery(event, payload, delivery, secret, headers, form)
        )

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)


ServiceFactory = Callable[..., Service]  # the `start_service` fixture: overrides → Service
QueueFactory = Callable[[Settings, Store], DeploymentQueue]


@contextmanager
def running_service(
    state_dir: Path,
    *,
    queue: DeploymentQueue | QueueFactory | None = None,
    settings: Settings | None = None,
    startup_limit: float = 20.0,
    on_stop: Callable[[], object] | None = None,
    **overrides: Any,
) -> Iterator[Service]:
    """The service on 127.0.0.1 until the block ends: `settings` (default: `make_settings`
    with `overrides`), a store in its state directory, and `queue` (a queue, a factory
    given the settings and the store, default a `FakeQueue`). Afterwards: the client is
    closed, uvicorn stopped (the app stops its queue), `on_stop` called, the store closed."""
    settings = settings or make_settings(state_dir, **overrides)
    store = Store.open(settings.database_path)
    with ExitStack() as cleanup:
        cleanup.callback(store.close)
        if on_stop is not None:
            cleanup.callback(on_stop)
        if queue is None:
            queue = FakeQueue()
        elif callable(queue) and not hasattr(queue, "submit"):
            queue = queue(settings, store)
        app = create_app(settings, store, queue)
        url = cleanup.enter_context(serve_on_loopback(app, startup_limit=startup_limit))
        client = cleanup.enter_context(httpx.Client(base_url=url, timeout=30))
        secret = settings.http.webhook_secret.get_secret_value()
        token = settings.http.api_token.get_secret_value() if settings.http.api_token else TOKEN
        yield Service(url, settings, store, queue, client, secret, token)


@contextmanager
def serve_on_loopback(app: Any, *, startup_limit: float = 20.0) -> Iterator[str]:
    """Run `app` (lifespan included) on 127.0.0.1 until the block ends; yield its base URL.

    Proxy headers are off, as in `python -m webhook serve`: the app itself decides which
    X-Forwarded-For values to believe.
    """
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level="warning",
        lifespan="on",
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_limit
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"uvicorn did not start on 127.0.0.1:{port}")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(startup_limit)


# What a child process gets unless told otherwise: the test secret and token, the octokit
# examples' branch, no repository (nothing deploys) and rate limits no test reaches.
PROCESS_SETTINGS = {
    "SLIPWAY_WEBHOOK_SECRET": SECRET,
    "SLIPWAY_API_TOKEN": TOKEN,
    "SLIPWAY_BRANCH": BRANCH,
    "SLIPWAY_HOOK_RATE_LIMIT": "100000/minute",
    "SLIPWAY_API_RATE_LIMIT": "100000/minute",
}


class ServeProcess:
    """`python -m webhook serve` as a child process on `port`, up when `/healthz` answers 200.

    Its environment is ours plus `defaults` (PROCESS_SETTINGS unless given), the state
    directory and `settings`; SLIPWAY_REPO_URL is dropped unless `settings` sets it (without
    it nothing deploys). It runs in `cwd` (default: the state directory's parent) and writes
    its output to `serve-<port>.log` there; `own_group` starts it in a process group of its
    own, so that everything it starts can be killed with it."""

    def __init__(
        self,
        state_dir: Path,
        port: int,
        *,
        settings: Mapping[str, str] | None = None,
        defaults: Mapping[str, str] = PROCESS_SETTINGS,
        cwd: Path | None = None,
        own_group: bool = False,
        startup_limit: float = 30,
    ) -> None:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            **defaults,
            "SLIPWAY_STATE_DIR": str(state_dir),
        }
        env.pop("SLIPWAY_REPO_URL", None)
        env.update(settings or {})
        self.url = f"http://127.0.0.1:{port}"
        self.log = state_dir.parent / f"serve-{port}.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webhook", "serve", "--port", str(port)],
            env=env,
            cwd=cwd or state_dir.parent,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=own_group,
        )
        deadline = time.monotonic() + startup_limit
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited: {self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"serve did not come up in {startup_limit:g} s")
            time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within 15 s."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(15)
