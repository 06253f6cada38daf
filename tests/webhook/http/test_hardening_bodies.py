"""Finding 1 of issue 32: every route's body is bounded before and while it is read, and
auth and the rate limit come before any parsing."""

from __future__ import annotations

import select
import socket

import httpx
import pytest

from tests.support.routes import HOOK
from tests.support.routes import ROUTES as EVERY_ROUTE
from tests.support.service import TOKEN, Service, ServiceFactory
from webhook.http.limits import SMALL_BODY_BYTES

# Every route that exists but the hook, with the method it answers (the hook has its own,
# larger limit).
ROUTES = [route for route in EVERY_ROUTE if route != HOOK]


def raw_request(port: int, head: bytes, chunks: int = 0, piece: int = 65536) -> tuple[bytes, int]:
    """Send `head`, then up to `chunks` chunked pieces of `piece` bytes, stopping as soon as
    an answer arrives; return (the answer's first bytes, body bytes sent). Waits at most 10 s
    for the answer: a server that reads the whole declared body never answers in time."""
    sent = 0
    frame = f"{piece:x}\r\n".encode() + b"x" * piece + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        for _ in range(chunks):
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += piece
        try:
            return sock.recv(4096), sent
        except (TimeoutError, ConnectionResetError):
            return b"", sent


def head(method: str, path: str, extra: str, auth: bool = False) -> bytes:
    bearer = f"Authorization: Bearer {TOKEN}\r\n" if auth else ""
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{bearer}"
        f"Content-Type: application/x-www-form-urlencoded\r\n{extra}\r\n"
    ).encode()


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("auth", [False, True])
def test_declared_128_mib_body_is_413_before_it_is_sent(
    service: Service, method: str, path: str, auth: bool
) -> None:
    port = httpx.URL(service.url).port
    answer, _ = raw_request(port, head(method, path, "Content-Length: 134217728\r\n", auth))
    assert answer.startswith(b"HTTP/1.1 413"), (method, path, answer[:200])
    assert b"connection: close" in answer.lower()


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_chunked_body_is_cut_off_at_the_route_limit(
    service: Service, method: str, path: str
) -> None:
    port = httpx.URL(service.url).port
    answer, sent = raw_request(
        port, head(method, path, "Transfer-Encoding: chunked\r\n", auth=True), chunks=2048
    )
    assert answer.startswith(b"HTTP/1.1 413"), (method, path, answer[:200])
    assert sent < 2048 * 65536, "the answer came only after the whole body"


def test_small_body_of_a_login_is_still_read(service: Service) -> None:
    response = service.client.post("/ui/login", data={"token": TOKEN, "next": "/ui"})
    assert response.status_code == 303
    padded = {"token": TOKEN, "pad": "x" * (SMALL_BODY_BYTES + 1)}
    assert service.client.post("/ui/login", data=padded).status_code == 413


def test_unauthenticated_malformed_deploy_is_401_not_parsed(service: Service) -> None:
    response = service.client.post(
        "/deployments", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401, response.text


def test_rate_limited_client_is_429_before_its_body_is_parsed(
    start_service: ServiceFactory,
) -> None:
    service = start_service(api_rate_limit="1/minute")
    assert service.api("GET", "/deployments").status_code == 200
    response = service.api(
        "POST", "/deployments", content=b"[" * 4000, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 429, response.text
    rollback = service.api("POST", "/deployments/1/rollback", content=b"{bad")
    assert rollback.status_code == 429, rollback.text


def test_authenticated_malformed_deploy_is_422_with_the_problem(service: Service) -> None:
    response = service.api(
        "POST", "/deployments", content=b"{bad", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert "JSON" in response.text
    wrong = service.api("POST", "/deployments", json={"sha": "xyz"})
    assert wrong.status_code == 422
    assert "sha" in wrong.text
