"""Every rejection with its status code, floods, replays, and what never reaches the logs."""

from __future__ import annotations

import hmac
import json
import logging
import select
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.clocks import run_coroutine
from tests.support.service import SECRET, TOKEN, Service, ServiceFactory, signed_delivery
from webhook.http import signature
from webhook.http.hooks import BodyTooLarge, read_body
from webhook.http.signature import sign, signature_problem
from webhook.logs import json_handler

# ---- signature ---------------------------------------------------------------------------


def _assert_rejected_untouched(service: Service, response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert service.store.count_deliveries() == 0
    assert service.store.list_deployments() == []
    assert service.queue.submitted == []


@pytest.mark.parametrize(
    ("header", "why"),
    [
        (None, "missing"),
        ("", "missing"),
        ("sha256=", "64"),
        ("sha256=zz" + "0" * 62, "64"),
        ("sha256=" + "0" * 63, "64"),
        ("SHA256=" + "0" * 64, "sha256="),
        ("sha1=" + "0" * 40, "SHA-1"),
    ],
)
def test_missing_or_malformed_signature_is_401(
    service: Service, push_example: dict[str, Any], header: str | None, why: str
) -> None:
    request = signed_delivery("push", push_example)
    if header is None:
        del request["headers"]["X-Hub-Signature-256"]
    else:
        request["headers"]["X-Hub-Signature-256"] = header
    response = service.client.post("/hooks/github", **request)
    _assert_rejected_untouched(service, response, 401)
    assert why in response.json()["error"]


def test_sha1_only_signature_is_401(service: Service, push_example: dict[str, Any]) -> None:
    request = signed_delivery("push", push_example)
    body = request["content"]
    del request["headers"]["X-Hub-Signature-256"]
    request["headers"]["X-Hub-Signature"] = (
        "sha1=" + hmac.new(SECRET.encode(), body, "sha1").hexdigest()
    )
    _assert_rejected_untouched(service, service.client.post("/hooks/github", **request), 401)


def test_wrong_secret_is_401(service: Service, push_example: dict[str, Any]) -> None:
    response = service.deliver("push", push_example, secret="another-secret-0123456789")
    _assert_rejected_untouched(service, response, 401)
    assert "does not match" in response.json()["error"]


def test_signature_is_checked_before_anything_else_is_looked_at(service: Service) -> None:
    """Bad signature + bad JSON/content type/missing headers: still 401, nothing parsed."""
    request = signed_delivery("push", b"{not json", secret="another-secret-0123456789")
    request["headers"]["Content-Type"] = "text/plain"
    del request["headers"]["X-GitHub-Event"]
    _assert_rejected_untouched(service, service.client.post("/hooks/github", **request), 401)


def test_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signature.hmac, "compare_digest", spy)
    body = b'{"zen": "x"}'
    assert signature_problem(b"k" * 16, body, sign(b"k" * 16, body)) is None
    assert signature_problem(b"k" * 16, body, sign(b"j" * 16, body)) is not None
    assert len(calls) == 2


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=512), other=st.binary(max_size=512))
def test_property_any_other_body_fails_the_signature(body: bytes, other: bytes) -> None:
    secret = SECRET.encode()
    header = sign(secret, body)
    assert signature_problem(secret, body, header) is None
    if other != body:
        assert signature_problem(secret, other, header) is not None


@st.composite
def tampered(draw: st.DrawFn, body: bytes) -> tuple[bytes, str]:
    """A (body, signature) pair that differs from the genuine one in body or signature."""
    header = sign(SECRET.encode(), body)
    if draw(st.booleans()):
        where = draw(st.integers(0, len(body) - 1))
        flip = draw(st.integers(1, 255))
        kind = draw(st.sampled_from(["flip", "append", "truncate"]))
        if kind == "flip":
            body = body[:where] + bytes([body[where] ^ flip]) + body[where + 1 :]
        elif kind == "append":
            body = body + draw(st.binary(min_size=1, max_size=8))
        else:
            body = body[:where]
    else:
        where = draw(st.integers(len("sha256="), len(header) - 1))
        digit = draw(st.sampled_from("0123456789abcdef").filter(lambda d: d != header[where]))
        header = header[:where] + digit + header[where + 1 :]
    return body, header


def test_property_tampered_deliveries_are_refused_over_http(
    service: Service, push_example: dict[str, Any]
) -> None:
    genuine = json.dumps(push_example).encode()

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(pair=tampered(genuine))
    def check(pair: tuple[bytes, str]) -> None:
        body, header = pair
        request = signed_delivery("push", body)
        request["headers"]["X-Hub-Signature-256"] = header
        assert service.client.post("/hooks/github", **request).status_code == 401

    check()
    _assert_rejected_untouched(service, service.client.get("/healthz"), 200)


# ---- size, content type, headers, JSON ---------------------------------------------------


def _raw_request(port: int, head: bytes, body_chunks: list[bytes]) -> tuple[bytes, int]:
    """Send a request over a raw socket, stopping as soon as an answer arrives.
    Returns (the answer's first bytes, how many body bytes were sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        for chunk in body_chunks:
            if select.select([sock], [], [], 0)[0]:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += len(chunk)
        sock.settimeout(10)
        return sock.recv(4096), sent


def _head(extra: str) -> bytes:
    return (
        "POST /hooks/github HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "X-GitHub-Event: push\r\nX-GitHub-Delivery: big-1\r\n"
        f"X-Hub-Signature-256: sha256={'0' * 64}\r\n{extra}\r\n"
    ).encode()


def test_declared_oversized_body_is_413_before_it_is_sent(start_service: ServiceFactory) -> None:
    service = start_service(max_body_bytes=65536)
    port = httpx.URL(service.url).port
    answer, sent = _raw_request(port, _head("Content-Length: 10485760\r\n"), [])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert sent == 0
    assert service.store.count_deliveries() == 0


def test_chunked_body_is_cut_off_at_the_limit(start_service: ServiceFactory) -> None:
    service = start_service(max_body_bytes=65536)
    port = httpx.URL(service.url).port
    piece = b"x" * 16384
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    chunks = [chunk] * 4096  # 64 MiB offered, 64 KiB allowed
    answer, sent = _raw_request(port, _head("Transfer-Encoding: chunked\r\n"), chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert sent < len(chunks) * len(chunk), "the answer came only after the whole body"
    assert service.store.count_deliveries() == 0


def test_read_body_stops_receiving_at_the_limit() -> None:
    calls = 0

    async def receive() -> dict[str, Any]:
        nonlocal calls
        calls += 1
        return {"type": "http.request", "body": b"x" * 1000, "more_body": True}

    with pytest.raises(BodyTooLarge):
        run_coroutine(read_body(receive, 4500))
    assert calls == 5  # 5000 bytes > 4500: the fifth chunk crosses the limit, no sixth read


def test_body_at_the_limit_is_read(start_service: ServiceFactory) -> None:
    service = start_service(max_body_bytes=65536)
    body = json.dumps({"zen": "x" * (65536 - 20)}).encode()[:65536]
    assert len(body) <= 65536
    response = service.deliver("ping", body.ljust(65536, b" "))
    assert response.status_code in (200, 400), response.text  # read and judged, not 413


def test_unsupported_content_type_is_415(service: Service, push_example: dict[str, Any]) -> None:
    response = service.deliver("push", push_example, headers={"Content-Type": "text/plain"})
    _assert_rejected_untouched(service, response, 415)


@pytest.mark.parametrize(
    ("body", "headers", "why"),
    [
        (b"{not json", {}, "malformed"),
        (b"[1, 2]", {}, "JSON object"),
        (b"\xff\xfe", {}, "malformed"),
        (None, {"X-GitHub-Event": ""}, "X-GitHub-Event"),
        (None, {"X-GitHub-Delivery": ""}, "X-GitHub-Delivery"),
        (None, {"X-GitHub-Delivery": "bad id with spaces"}, "X-GitHub-Delivery"),
        (b'{"ref": "refs/heads/master"}', {}, "after"),
    ],
)
def test_malformed_requests_are_400(
    service: Service,
    push_example: dict[str, Any],
    body: bytes | None,
    headers: dict[str, str],
    why: str,
) -> None:
    response = service.deliver("push", body or push_example, headers=headers)
    _assert_rejected_untouched(service, response, 400)
    assert why in response.json()["error"]


def test_form_body_without_payload_field_is_400(service: Service) -> None:
    request = signed_delivery("push", b"other=1")
    request["headers"]["Content-Type"] = "application/x-www-form-urlencoded"
    _assert_rejected_untouched(service, service.client.post("/hooks/github", **request), 400)


# ---- rate limits ---------------------------------------------------------------------------


def test_hook_rate_limit_is_429_with_retry_after(
    start_service: ServiceFactory, github_examples: dict[str, list[dict[str, Any]]]
) -> None:
    service = start_service(hook_rate_limit="3/minute")
    ping = github_examples["ping"][0]
    assert [service.deliver("ping", ping).status_code for _ in range(3)] == [200] * 3
    limited = service.deliver("ping", ping)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    assert service.store.count_deliveries() == 3
    # Bad signatures are refused before the limit is looked at.
    assert service.deliver("ping", ping, secret="another-secret-0123456789").status_code == 401


def test_api_rate_limit_counts_unauthenticated_attempts(start_service: ServiceFactory) -> None:
    service = start_service(api_rate_limit="2/minute")
    wrong = {"Authorization": "Bearer guess"}
    assert service.client.get("/deployments", headers=wrong).status_code == 401
    assert service.client.get("/deployments", headers=wrong).status_code == 401
    limited = service.api("GET", "/deployments")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    start_service: ServiceFactory, github_examples: dict[str, list[dict[str, Any]]]
) -> None:
    ping = github_examples["ping"][0]

    def from_(service: Service, address: str) -> int:
        return service.deliver("ping", ping, headers={"X-Forwarded-For": address}).status_code

    behind_proxy = start_service(hook_rate_limit="2/minute", trusted_proxies=["127.0.0.1"])
    assert [from_(behind_proxy, "203.0.113.5") for _ in range(3)] == [200, 200, 429]
    assert from_(behind_proxy, "203.0.113.6") == 200  # another client, its own allowance
    assert from_(behind_proxy, "198.51.100.1, 203.0.113.7") == 200  # rightmost counts

    direct = start_service(hook_rate_limit="2/minute")
    # Not a trusted proxy: the header is ignored and every request is 127.0.0.1's.
    assert [from_(direct, f"203.0.113.{i}") for i in range(3)] == [200, 200, 429]


# ---- floods and replays ----------------------------------------------------------------------


def test_bad_signature_flood_leaves_the_service_answering_and_records_nothing(
    service: Service, push_example: dict[str, Any]
) -> None:
    request = signed_delivery("push", push_example, secret="attacker-secret-0123456789")
    total = 2000

    def flood(count: int) -> list[int]:
        with httpx.Client(base_url=service.url, timeout=30) as client:
            return [client.post("/hooks/github", **request).status_code for _ in range(count)]

    with ThreadPoolExecutor(max_workers=9) as pool:
        floods = [pool.submit(flood, total // 8) for _ in range(8)]
        health = [service.client.get("/healthz").status_code for _ in range(20)]
        statuses = [status for future in floods for status in future.result()]
    assert statuses == [401] * total
    assert health == [200] * 20
    assert service.client.get("/healthz").json() == {"status": "ok"}
    assert service.store.count_deliveries() == 0
    assert service.store.list_deployments() == []
    assert f"slipway_signature_failures_total {float(total)}" in service.client.get("/metrics").text


def test_replayed_delivery_triggers_nothing(service: Service, push_example: dict[str, Any]) -> None:
    request = signed_delivery("push", push_example, delivery="captured-once")
    first = service.client.post("/hooks/github", **request)
    replays = [service.client.post("/hooks/github", **request) for _ in range(5)]
    assert first.status_code == 202
    assert {r.status_code for r in replays} == {200}
    assert all(r.json()["duplicate"] is True for r in replays)
    assert service.queue.submitted == [first.json()["id"]]
    assert len(service.store.list_deployments()) == 1


# ---- logs --------------------------------------------------------------------------------


def test_logs_never_hold_secret_token_signature_or_payload(
    service: Service, push_example: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    request = signed_delivery("push", push_example, delivery="logged-1")
    service.client.post("/hooks/github", **request)
    service.client.post("/hooks/github", **request)  # duplicate
    bad = signed_delivery("push", push_example, secret="attacker-secret-0123456789")
    service.client.post("/hooks/github", **bad)
    service.api("POST", "/deployments", json={"sha": "c" * 40})
    formatter = json_handler().formatter
    assert formatter is not None
    lines = [formatter.format(record) for record in caplog.records]
    text = "\n".join(lines)
    assert "logged-1" in text, "the delivery id is logged"
    for forbidden in (
        SECRET,
        TOKEN,
        request["headers"]["X-Hub-Signature-256"][7:],
        bad["headers"]["X-Hub-Signature-256"][7:],
        push_example["head_commit"]["message"],
        push_example["compare"],
    ):
        assert forbidden not in text
    for line in lines:
        json.loads(line)  # every line is one JSON object
