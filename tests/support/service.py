"""Serve an ASGI app with real uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from tests.support.local_process import free_loopback_port


@contextmanager
def serve_on_loopback(app: Any, *, startup_limit: float = 20.0) -> Iterator[str]:
    """Run `app` (lifespan included) on 127.0.0.1 until the block ends; yield its base URL.

    Proxy headers are off, as in `python -m webhook serve`: the app itself decides which
    X-Forwarded-For values to believe.
    """
    port = free_loopback_port()
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
