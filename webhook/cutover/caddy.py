"""The proxy's Caddy config as JSON (pure), the release directories it reads, and the admin
API that loads the config.

Two servers: `public` (the stack's `listen` address) routes to the live release; `private`
(loopback only) routes to the candidate, so its health can be probed before any user
reaches it. Neither names an address: every upstream dials `{file.<slot file>}`, a
placeholder Caddy reads on each request, under the symlink `live` or `candidate` of the
routes folder, which the service writes and the proxy binds (webhook/cutover/route_files.py):

    /srv/slipway/releases/<release>/release        the release name
    /srv/slipway/releases/<release>/release.json   {"name", "upstreams": {service: [ip]}}
    /srv/slipway/releases/<release>/<service>.<i>  one upstream address per slot
    /srv/slipway/live -> releases/<release>        what users reach
    /srv/slipway/candidate -> releases/<release>   what the private route reaches

So a switch is one `rename(2)` of the `live` symlink: no config reload, so no listener
restarts and no keep-alive connection is closed (a config load closes idle ones, and a
client that sends on one at that instant sees it closed). The config only changes with the
routes' shape (routes, slots per service, whether a live release exists); then a load
through `POST /load` replaces it at once and requests in flight finish (`grace_period`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

PUBLIC_PORT = 80  # inside the proxy container
PRIVATE_PORT = 81
RELEASE_HEADER = "X-Slipway-Release"
# The admin API listens on a unix socket in a folder bound from the service's binds root
# (mode 0700, the service's): never on a port, which any local user (a host port) or any
# container of the stack's networks (the proxy's address) could use to reroute users.
ADMIN_DIR = "/run/slipway-admin"
ADMIN_SOCKET = "admin.sock"
BOOTSTRAP = {"admin": {"listen": f"unix/{ADMIN_DIR}/{ADMIN_SOCKET}|0222"}}
ROUTES_DIR = "/srv/slipway"
LIVE, CANDIDATE = "live", "candidate"
# A request whose upstream cannot be reached is retried on the release's other slots, not
# answered 502: a failed connect (2 s: a lost SYN is sent again after 1 s) marks that slot
# down for 2 s, and the request tries again every 0.1 s for up to 8 s (below the usual
# 10 s client timeout). On Swarm a live task took no new connection for a moment while the
# Swarm created or removed a release's service; on one engine a container that stops
# answering does the same. A request that reached a container and failed there is not
# retried (only a GET whose connection broke, Caddy's default).
RETRY = {
    "transport": {"protocol": "http", "dial_timeout": "2s"},
    "load_balancing": {"try_duration": "8s", "try_interval": "100ms"},
    "health_checks": {"passive": {"fail_duration": "2s", "max_fails": 1}},
}


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


Slots = Mapping[str, int]  # service → upstream slots in the config


def slots_for(*releases: Release | None) -> dict[str, int]:
    """Slots per service: the most containers any of `releases` runs for it, so one config
    serves both the live release and the candidate (a release with fewer containers fills
    the extra slots round-robin)."""
    slots: dict[str, int] = {}
    for release in releases:
        for service, names in (release.containers if release else {}).items():
            slots[service] = max(slots.get(service, 0), len(names))
    return slots


def render(
    routes: Sequence[RouteSpec], slots: Slots, *, public: bool, grace: float
) -> dict[str, Any]:
    """The whole Caddy config. `public`: a live release exists (else the public server
    answers 503 to everything); the private server always routes to `candidate`."""
    return {
        **BOOTSTRAP,
        "apps": {
            "http": {
                "grace_period": f"{grace:g}s",
                "servers": {
                    "public": _server(PUBLIC_PORT, routes, slots if public else {}, LIVE),
                    "private": _server(PRIVATE_PORT, routes, slots, CANDIDATE),
                },
            }
        },
    }


def _server(port: int, routes: Sequence[RouteSpec], slots: Slots, link: str) -> dict[str, Any]:
    handled = [
        _route(route, slots[route.service], link)
        for route in sorted(routes, key=lambda r: len(r.path), reverse=True)
        if slots.get(route.service)
    ]
    unavailable = {
        "handle": [{"handler": "static_response", "status_code": 503, "body": "no release\n"}]
    }
    return {
        "listen": [f":{port}"],
        "automatic_https": {"disable": True},  # TLS in front is not this proxy's job (yet)
        "routes": [*handled, unavailable],
    }


def _route(route: RouteSpec, slots: int, link: str) -> dict:
    match: dict[str, Any] = {}
    if route.path != "/":
        prefix = route.path.rstrip("/")
        match["path"] = [prefix, f"{prefix}/*"]
    if link == LIVE and route.host:  # the private route ignores hosts (probed by port)
        match["host"] = [route.host]
    directory = f"{ROUTES_DIR}/{link}"
    proxy = {
        "handler": "reverse_proxy",
        "upstreams": [{"dial": f"{{file.{directory}/{route.service}.{i}}}"} for i in range(slots)],
        "headers": {"response": {"set": {RELEASE_HEADER: [f"{{file.{directory}/release}}"]}}},
        **RETRY,
    }
    return {
        "@id": f"{link}/{route.service}",
        **({"match": [match]} if match else {}),
        "handle": [proxy],
        "terminal": True,
    }


def release_files(release: Release, slots: Slots, ports: Mapping[str, int]) -> dict[str, str]:
    """A release directory's files: name, release.json, and one `ip:port` per slot."""
    files = {
        "release": release.name,
        "release.json": json.dumps({"name": release.name, "upstreams": release.containers}),
    }
    for service, addresses in release.containers.items():
        for i in range(slots.get(service, 0)):
            files[f"{service}.{i}"] = f"{addresses[i % len(addresses)]}:{ports[service]}"
    return files


def read_release(text: str) -> Release | None:
    """A release.json's release (None for an empty text: no such link yet)."""
    if not text.strip():
        return None
    data = json.loads(text)
    return Release(data["name"], data["upstreams"])


@dataclass
class CaddyAdmin:
    """Caddy's admin API: `url` is `unix:<socket path>` (the proxy's admin socket, as the
    service sees it) or an `http://` address."""

    url: str
    timeout: float = 10.0

    @contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        if not self.url.startswith("unix:"):
            with httpx.Client(base_url=self.url) as client:
                yield client
            return
        socket = Path(self.url.removeprefix("unix:"))
        # A socket path is limited to 107 bytes; a long binds root is reached through the
        # folder's descriptor (/proc/self/fd/N/<socket>), which is short.
        folder = os.open(socket.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            transport = httpx.HTTPTransport(uds=f"/proc/self/fd/{folder}/{socket.name}")
            # Caddy accepts the Host 127.0.0.1 on a unix socket (its origin check).
            with httpx.Client(transport=transport, base_url="http://127.0.0.1") as client:
                yield client
        finally:
            os.close(folder)

    def config(self, wait_seconds: float = 15.0) -> dict[str, Any] | None:
        """The loaded config; waits up to `wait_seconds` for a proxy that is just starting."""
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                with self._client() as client:
                    answer = client.get("/config/", timeout=self.timeout)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        answer.raise_for_status()
        return answer.json()

    def ensure(self, config: Mapping[str, Any]) -> bool:
        """Load `config` unless it is the one loaded already; True when it loaded."""
        if self.config() == config:
            return False
        self.load(config)
        return True

    def load(self, config: Mapping[str, Any]) -> None:
        with self._client() as client:
            answer = client.post("/load", json=dict(config), timeout=self.timeout)
        if answer.status_code != 200:
            raise RuntimeError(f"caddy refused the config ({answer.status_code}): {answer.text}")
