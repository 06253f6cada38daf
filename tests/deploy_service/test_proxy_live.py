"""The rendered proxy config in front of the real service: Caddy and `python -m webhook serve`
on loopback ports, real HTTP (see tests/support/proxy.py for what is changed for that)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.support.proxy import HOST, running_proxy, running_service, signed_ping


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_service(tmp_path_factory.mktemp("state")) as address:
        yield address


@pytest.fixture(scope="module")
def proxy(service: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_proxy(service, tmp_path_factory.mktemp("caddy")) as base:
        yield base


def get(base: str, path: str) -> httpx.Response:
    return httpx.get(f"{base}{path}", headers={"Host": HOST}, timeout=10)


def ping(base: str, body: bytes) -> httpx.Response:
    headers = signed_ping(body, f"proxy-test-{len(body)}")
    return httpx.post(f"{base}/hooks/github", content=body, headers=headers, timeout=30)


def test_health_reaches_the_service_through_the_proxy(proxy: str) -> None:
    response = get(proxy, "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_signed_delivery_passes_the_proxy_intact(proxy: str) -> None:
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    response = ping(proxy, body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pong"


def test_metrics_are_served_directly_but_not_published(proxy: str, service: str) -> None:
    assert httpx.get(f"http://{service}/metrics", timeout=10).status_code == 200
    assert get(proxy, "/metrics").status_code == 404


def test_other_hosts_never_reach_the_service(proxy: str) -> None:
    response = httpx.get(f"{proxy}/healthz", headers={"Host": "other.example.com"}, timeout=10)
    assert response.content == b""  # Caddy's empty answer for a site it does not serve


def test_oversized_bodies_are_refused_through_the_proxy(proxy: str) -> None:
    # Under the proxy's 2 MB limit, above the service's 1 MiB: the service's JSON error.
    by_service = ping(proxy, b"x" * (1024 * 1024 + 1))
    assert by_service.status_code == 413
    assert by_service.headers["content-type"].startswith("application/json")
    # Above both: refused by whichever stops reading first (the service checks the declared
    # length at once, the proxy while it streams). An early 413 may also close the connection
    # while the client is still sending (HTTP/1.1), which the client sees as a reset.
    try:
        status = ping(proxy, b"x" * (3 * 1000 * 1000)).status_code
    except httpx.ReadError:
        status = "reset"
    assert status in (413, "reset")
