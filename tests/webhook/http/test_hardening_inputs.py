"""Findings 3, 5, 6, 7 and 8 of issue 32: every input validated, no 500 for any input.

3: shas and refs of signed deliveries, pusher names, PR numbers; path segments quoted in
   the GitHub client. 5: delivery ids cannot take the internal `api:`/`poll:` namespaces.
6: malformed session cookies and Last-Event-ID. 7: ids beyond SQLite's integer range.
8: signed requests that crashed the hook.
"""

from __future__ import annotations

import copy
import socket
from typing import Any

import httpx
import pytest

from tests.support.service import Service, signed_delivery
from webhook.feedback.github_api import GitHubClient
from webhook.http import auth

# ---- 3: shas, refs, names, numbers ------------------------------------------------------

BAD_SHAS = ["../../../../user/keys", "abc", "g" * 40, "A" * 41, "", "0" * 39 + "/", None, 7]


@pytest.mark.parametrize("sha", BAD_SHAS)
def test_push_with_a_bad_after_sha_is_400(
    service: Service, push_example: dict[str, Any], sha: object
) -> None:
    payload = copy.deepcopy(push_example)
    payload["after"] = sha
    response = service.deliver("push", payload)
    assert response.status_code == 400, response.text
    assert "after" in response.json()["error"]
    assert service.store.list_deployments() == []


@pytest.mark.parametrize("sha", BAD_SHAS)
def test_pull_request_with_a_bad_head_sha_is_400(
    service: Service, pr_examples: dict[str, dict[str, Any]], sha: object
) -> None:
    payload = copy.deepcopy(pr_examples["opened"])
    payload["pull_request"]["head"]["sha"] = sha
    response = service.deliver("pull_request", payload)
    assert response.status_code == 400, response.text
    assert service.store.list_deployments() == []


BAD_REFS = [
    "refs/heads/a..b",
    "refs/heads/a b",
    "refs/heads/x.lock",
    "refs/heads/" + "a" * 300,
    "refs/heads/a\x00",
    "refs/heads/@{x}",
    "refs/heads/a//b",
    "refs/heads/.x",
    "-x",
]


@pytest.mark.parametrize("ref", BAD_REFS)
def test_bad_refs_are_400(
    service: Service, push_example: dict[str, Any], pr_examples: dict[str, Any], ref: str
) -> None:
    push = copy.deepcopy(push_example)
    push["ref"] = ref
    assert service.deliver("push", push).status_code == 400
    pr = copy.deepcopy(pr_examples["opened"])
    pr["pull_request"]["head"]["ref"] = ref.removeprefix("refs/heads/")
    assert service.deliver("pull_request", pr).status_code == 400
    assert service.store.count_deliveries() == 0


def test_pusher_name_is_bounded(service: Service, push_example: dict[str, Any]) -> None:
    payload = copy.deepcopy(push_example)
    payload["pusher"]["name"] = "m\u202e" + "x" * 10000
    response = service.deliver("push", payload)
    assert response.status_code == 202, response.text
    reason = service.store.get_deployment(response.json()["id"]).reason
    assert len(reason) < 200 and "\u202e" not in reason


@pytest.mark.parametrize("number", [True, 3.7, -5, 0, [], None, {}, "7", 10**30])
def test_pull_request_number_must_be_a_positive_int(
    service: Service, pr_examples: dict[str, dict[str, Any]], number: object
) -> None:
    payload = copy.deepcopy(pr_examples["opened"])
    payload["pull_request"]["number"] = number
    response = service.deliver("pull_request", payload)
    assert response.status_code == 400, response.text
    assert "number" in response.json()["error"]


def test_github_client_quotes_every_path_segment() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.raw_path.decode())
        return httpx.Response(201, json={})

    client = GitHubClient("t", base_url="https://github.invalid")
    client._http = httpx.Client(
        base_url="https://github.invalid", transport=httpx.MockTransport(answer)
    )
    client.create_commit_status("o/r", "../../../../user/keys", state="pending")
    client.create_issue_comment("o/r", "1/../../x", "hi")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        client.create_commit_status("../../user", "a" * 40, state="pending")
    assert seen[0] == "/repos/o/r/statuses/..%2F..%2F..%2F..%2Fuser%2Fkeys", seen
    assert seen[1] == "/repos/o/r/issues/1%2F..%2F..%2Fx/comments", seen


# ---- 5: namespaces ----------------------------------------------------------------------


@pytest.mark.parametrize("delivery", ["api:key-1", "poll:dev:" + "a" * 40, "x:y"])
def test_delivery_ids_cannot_use_internal_namespaces(
    service: Service, push_example: dict[str, Any], delivery: str
) -> None:
    response = service.deliver("push", push_example, delivery=delivery)
    assert response.status_code == 400, response.text
    assert "X-GitHub-Delivery" in response.json()["error"]
    assert service.store.count_deliveries() == 0
    deploy = service.api(
        "POST",
        "/deployments",
        json={"sha": push_example["after"]},
        headers={"Idempotency-Key": "key-1"},
    )
    assert deploy.status_code == 202, deploy.text
    assert service.store.get_delivery("api:key-1").event == "api"


# ---- 6: cookies and Last-Event-ID -------------------------------------------------------


def _raw(text: str) -> bytes:
    """A header value as raw bytes: one byte per character where it fits (as a client that
    sends "\xb2" does), else UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode()


BAD_COOKIES = ["\xb2.abc", "9" * 5000 + ".abc", "1.2.3", ".", "", "\u0663\u0663.x"]


@pytest.mark.parametrize("cookie", BAD_COOKIES)
def test_malformed_session_cookie_is_signed_out_not_500(service: Service, cookie: str) -> None:
    assert auth.session_valid("token", cookie, 0) is False
    jar = {"Cookie": _raw(f"{auth.SESSION_COOKIE}={cookie}")}
    assert service.client.get("/ui", headers=jar).status_code == 303
    assert service.client.get("/deployments", headers=jar).status_code == 401
    assert service.client.post("/deployments/1/rollback", headers=jar).status_code == 401


@pytest.mark.parametrize("last_id", ["\xb2", "9" * 5000, "9" * 25, "-1", "1e3"])
def test_malformed_last_event_id_is_ignored(service: Service, last_id: str) -> None:
    deployment = service.api("POST", "/deployments", json={"sha": "a" * 40}).json()["id"]
    # the deployment stays queued (a FakeQueue runs nothing): the stream stays open
    with service.client.stream(
        "GET",
        f"/ui/deployments/{deployment}/events",
        headers={
            "Authorization": "Bearer test-api-token-abcdef",
            "Last-Event-ID": _raw(last_id),
        },
    ) as response:
        assert response.status_code == 200
        first = next(response.iter_text())
        assert first.startswith("retry:")


# ---- 7: integers beyond SQLite's range --------------------------------------------------

HUGE = str(2**63)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/deployments/{HUGE}"),
        ("GET", f"/deployments/{HUGE}/log"),
        ("POST", f"/deployments/{HUGE}/rollback"),
        ("GET", f"/deployments?before={HUGE}"),
        ("GET", f"/deployments/1/log?after={HUGE}"),
        ("GET", f"/ui/deployments/{HUGE}"),
        ("GET", f"/ui/deployments/{HUGE}/events"),
        ("GET", f"/ui?before={HUGE}"),
        ("GET", f"/ui/deployments/1/events?after={HUGE}"),
    ],
)
def test_integers_beyond_sqlite_range_are_422(service: Service, method: str, path: str) -> None:
    response = service.api(method, path)
    assert response.status_code == 422, (path, response.status_code, response.text[:200])


# ---- 8: signed requests that crashed the hook -------------------------------------------


def test_non_utf8_content_type_is_415(service: Service, push_example: dict[str, Any]) -> None:
    request = signed_delivery("push", push_example)
    head = "".join(f"{k}: {v}\r\n" for k, v in request["headers"].items() if k != "Content-Type")
    port = httpx.URL(service.url).port
    raw = (
        b"POST /hooks/github HTTP/1.1\r\nHost: x\r\nContent-Type: application/\xffjson\r\n"
        + head.encode()
        + f"Content-Length: {len(request['content'])}\r\n\r\n".encode()
        + request["content"]
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(raw)
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 415"), answer[:200]
