"""HTTP clients for a deployment's hot path, without httpx's per-client set-up cost.

A default `httpx.Client()` builds a new TLS context (loading the CA bundle) and reads the
proxy settings: 100 to 200 ms on a loaded machine, paid by every health check and engine
read. Here the TLS context is made once per process, and the Docker Engine API transport
once per socket. The health checks still get a fresh client (fresh connections) each time:
a connection kept from before a redeploy could reach a replaced container.
"""

from __future__ import annotations

import functools
import ssl
import threading

import certifi
import httpx

_LOCK = threading.Lock()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The process's one client TLS context: httpx's default (certifi's CA bundle)."""
    return ssl.create_default_context(cafile=certifi.where())


def health_client() -> httpx.Client:
    """A client for health probes, as `httpx.Client(follow_redirects=False)` but cheap;
    the caller closes it."""
    return httpx.Client(follow_redirects=False, verify=tls_context())


_engines: dict[str, httpx.Client] = {}


def engine_client(socket: str, timeout: float) -> httpx.Client:
    """The process's one client of the Docker Engine API on unix socket `socket` (httpx
    clients are safe to share between threads); never closed, one per socket."""
    with _LOCK:
        client = _engines.get(socket)
        if client is None:
            transport = httpx.HTTPTransport(uds=socket, verify=tls_context())
            client = httpx.Client(
                transport=transport, base_url="http://docker", timeout=timeout, trust_env=False
            )
            _engines[socket] = client
        return client
