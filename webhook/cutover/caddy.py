"""The proxy's Caddy config as JSON (pure), and the admin API that loads it atomically.

Two servers: `public` (the stack's `listen` address) routes to the live release; `private`
(loopback only) routes to the candidate, so its health can be probed before any user
reaches it. A load through `POST /load` replaces the whole config at once; Caddy keeps the
listeners and lets requests in flight on the old config finish (`grace_period`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

PUBLIC_PORT = 80  # inside the proxy container
PRIVATE_PORT = 81
ADMIN_PORT = 2019
RELEASE_HEADER = "X-Slipway-Release"
BOOTSTRAP = {"admin": {"listen": f"0.0.0.0:{ADMIN_PORT}", "origins": ["127.0.0.1"]}}


@dataclass(frozen=True)
class RouteSpec:
    """One routed service, as the `routing` stack output names it."""

    service: str
    port: int
    path: str = "/"
    host: str | None = None


@dataclass(frozen=True)
class Release:
    """A release's routed containers: service → container names or addresses (the proxy
    dials addresses; the routing output names containers)."""

    name: str
    containers: Mapping[str, Sequence[str]]

    @property
    def all_containers(self) -> list[str]:
        return [c for names in self.containers.values() for c in names]


def render(
    routes: Sequence[RouteSpec], live: Release | None, candidate: Release | None, grace: float
) -> dict[str, Any]:
    """The whole Caddy config: `live` on the public server, `candidate` on the private one."""
    return {
        **BOOTSTRAP,
        "apps": {
            "http": {
                "grace_period": f"{grace:g}s",
                "servers": {
                    "public": _server(PUBLIC_PORT, routes, live, match_host=True),
                    "private": _server(PRIVATE_PORT, routes, candidate, match_host=False),
                },
            }
        },
    }


def _server(
    port: int, routes: Sequence[RouteSpec], release: Release | None, *, match_host: bool
) -> dict[str, Any]:
    handled = []
    if release is not None:
        for route in sorted(routes, key=lambda r: len(r.path), reverse=True):
            names = release.containers.get(route.service) or []
            if names:
                handled.append(_route(route, names, release.name, match_host))
    unavailable = {
        "handle": [{"handler": "static_response", "status_code": 503, "body": "no release\n"}]
    }
    return {
        "listen": [f":{port}"],
        "automatic_https": {"disable": True},  # TLS in front is not this proxy's job (yet)
        "routes": [*handled, unavailable],
    }


def _route(route: RouteSpec, names: Sequence[str], release: str, match_host: bool) -> dict:
    match: dict[str, Any] = {}
    if route.path != "/":
        prefix = route.path.rstrip("/")
        match["path"] = [prefix, f"{prefix}/*"]
    if match_host and route.host:
        match["host"] = [route.host]
    proxy = {
        "handler": "reverse_proxy",
        "upstreams": [{"dial": f"{name}:{route.port}"} for name in names],
        "headers": {"response": {"set": {RELEASE_HEADER: [release]}}},
    }
    return {
        "@id": f"{release}/{route.service}",
        **({"match": [match]} if match else {}),
        "handle": [proxy],
        "terminal": True,
    }


def live_release(config: Mapping[str, Any] | None) -> Release | None:
    """The release the public server routes to in a loaded config (None: none yet)."""
    servers = ((config or {}).get("apps") or {}).get("http", {}).get("servers", {})
    name, containers = None, {}
    for route in (servers.get("public") or {}).get("routes") or []:
        if "@id" not in route:
            continue
        name, service = route["@id"].split("/", 1)
        dials = [u["dial"] for h in route["handle"] for u in h.get("upstreams", [])]
        containers[service] = [dial.rsplit(":", 1)[0] for dial in dials]
    return Release(name, containers) if name else None


@dataclass
class CaddyAdmin:
    """Caddy's admin API on the proxy container's loopback-published port."""

    url: str
    timeout: float = 10.0

    def config(self, wait_seconds: float = 15.0) -> dict[str, Any] | None:
        """The loaded config; waits up to `wait_seconds` for a proxy that is just starting."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                answer = httpx.get(f"{self.url}/config/", timeout=self.timeout)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        answer.raise_for_status()
        return answer.json()

    def load(self, config: Mapping[str, Any]) -> None:
        answer = httpx.post(f"{self.url}/load", json=dict(config), timeout=self.timeout)
        if answer.status_code != 200:
            raise RuntimeError(f"caddy refused the config ({answer.status_code}): {answer.text}")
