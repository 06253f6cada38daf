"""A loopback server that plays the parts of the GitHub REST API Slipway uses.

It records every request, answers like GitHub (status codes, bodies, `Link` pagination,
422 validation errors for over-long fields, 401 without the token) and can be told to answer
403 "rate limited" (primary or secondary), 429 or 502 for the next N requests.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

COMMENT_LIMIT = 65_536
DESCRIPTION_LIMIT = 140
DEPLOYMENT_STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}
COMMIT_STATES = {"error", "failure", "pending", "success"}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class FakeState:
    token: str
    requests: list[Recorded] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)
    deployments: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    commit_statuses: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 30
    ids: itertools.count = field(default_factory=lambda: itertools.count(1001))


class _Answer(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


def _validation_failed(resource: str, field_name: str, message: str) -> _Answer:
    return _Answer(
        422,
        {
            "message": "Validation Failed",
            "errors": [
                {"resource": resource, "code": "custom", "field": field_name, "message": message}
            ],
            "documentation_url": "https://docs.github.com/rest",
        },
    )


class FakeGitHub:
    """Start with `with FakeGitHub(token) as gh:`; point a client at `gh.url`."""

    def __init__(self, token: str = "ghs_test_token") -> None:
        self.state = FakeState(token=token)
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeGitHub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Shut the server down: later connections are refused (GitHub unreachable)."""
        self._server.shutdown()
        self._server.server_close()

    # -- scripting -------------------------------------------------------------------------

    def fail_next(self, count: int, kind: str) -> None:
        """Answer the next `count` requests with `kind`: rate_limit, secondary, 429, 502."""
        with self._lock:
            self.state.faults.extend([kind] * count)

    def calls(self, method: str | None = None, pattern: str = "") -> list[Recorded]:
        """Recorded requests, optionally only those of `method` whose path matches."""
        with self._lock:
            return [
                r
                for r in self.state.requests
                if (method is None or r.method == method) and re.search(pattern, r.path)
            ]

    def statuses_of(self, deployment_id: int) -> list[str]:
        return [s["state"] for s in self.state.statuses.get(deployment_id, [])]

    # -- answering -------------------------------------------------------------------------

    def answer(self, record: Recorded) -> _Answer:
        with self._lock:
            self.state.requests.append(record)
            fault = self.state.faults.pop(0) if self.state.faults else None
            if fault:
                return _fault(fault)
            if record.headers.get("authorization") != f"Bearer {self.state.token}":
                return _Answer(401, {"message": "Bad credentials"})
            try:
                return self._route(record)
            except _Answer as answer:
                return answer

    def _route(self, r: Recorded) -> _Answer:
        routes = [
            ("POST", r"^/repos/[^/]+/[^/]+/deployments$", self._create_deployment),
            ("GET", r"^/repos/[^/]+/[^/]+/deployments$", self._list_deployments),
            ("POST", r"^/repos/[^/]+/[^/]+/deployments/(\d+)/statuses$", self._create_status),
            ("GET", r"^/repos/[^/]+/[^/]+/issues/(\d+)/comments$", self._list_comments),
            ("POST", r"^/repos/[^/]+/[^/]+/issues/(\d+)/comments$", self._create_comment),
            ("PATCH", r"^/repos/[^/]+/[^/]+/issues/comments/(\d+)$", self._update_comment),
            ("POST", r"^/repos/[^/]+/[^/]+/statuses/([0-9a-f]{40})$", self._commit_status),
        ]
        for method, pattern, handle in routes:
            match = re.match(pattern, r.path)
            if match and method == r.method:
                return handle(r, *match.groups())
        raise _Answer(404, {"message": "Not Found"})

    def _create_deployment(self, r: Recorded) -> _Answer:
        body = r.body or {}
        if not body.get("ref"):
            raise _validation_failed("Deployment", "ref", "ref is missing")
        _check_description(body, "Deployment")
        deployment_id = next(self.state.ids)
        deployment = {
            "id": deployment_id,
            "ref": body["ref"],
            "sha": body.get("sha", body["ref"]),
            "environment": body.get("environment", "production"),
            "description": body.get("description"),
            "payload": body.get("payload", {}),
            "task": body.get("task", "deploy"),
            "transient_environment": body.get("transient_environment", False),
            "production_environment": body.get("production_environment", False),
        }
        self.state.deployments[deployment_id] = deployment
        self.state.statuses[deployment_id] = []
        return _Answer(201, deployment)

    def _list_deployments(self, r: Recorded) -> _Answer:
        wanted = {k: v[0] for k, v in r.query.items() if k in ("sha", "ref", "environment")}
        found = [
            d
            for d in sorted(self.state.deployments.values(), key=lambda d: -d["id"])
            if all(d.get(k) == v for k, v in wanted.items())
        ]
        return _Answer(200, found)

    def _create_status(self, r: Recorded, deployment_id: str) -> _Answer:
        if int(deployment_id) not in self.state.deployments:
            raise _Answer(404, {"message": "Not Found"})
        body = r.body or {}
        if body.get("state") not in DEPLOYMENT_STATES:
            raise _validation_failed("DeploymentStatus", "state", "state is not included")
        _check_description(body, "DeploymentStatus")
        status = {"id": next(self.state.ids), **body}
        self.state.statuses[int(deployment_id)].append(status)
        return _Answer(201, status)

    def _list_comments(self, r: Recorded, number: str) -> _Answer:
        found = [c for c in self.state.comments.values() if c["issue"] == int(number)]
        size = int(r.query.get("per_page", [self.state.page_size])[0])
        size = min(size, self.state.page_size)  # a small page size exercises pagination
        page = int(r.query.get("page", ["1"])[0])
        chunk = found[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(found):
            headers["Link"] = f'<{self.url}{r.path}?per_page={size}&page={page + 1}>; rel="next"'
        return _Answer(200, chunk, headers)

    def _create_comment(self, r: Recorded, number: str) -> _Answer:
        body = _comment_body(r)
        comment = {
            "id": next(self.state.ids),
            "issue": int(number),
            "body": body,
            "user": {"login": "slipway[bot]"},
        }
        self.state.comments[comment["id"]] = comment
        return _Answer(201, comment)

    def _update_comment(self, r: Recorded, comment_id: str) -> _Answer:
        comment = self.state.comments.get(int(comment_id))
        if comment is None:
            raise _Answer(404, {"message": "Not Found"})
        comment["body"] = _comment_body(r)
        return _Answer(200, comment)

    def _commit_status(self, r: Recorded, sha: str) -> _Answer:
        body = r.body or {}
        if body.get("state") not in COMMIT_STATES:
            raise _validation_failed("Status", "state", "state is not included")
        _check_description(body, "Status")
        status = {"id": next(self.state.ids), "sha": sha, **body}
        self.state.commit_statuses.append(status)
        return _Answer(201, status)


def _check_description(body: dict[str, Any], resource: str) -> None:
    if len(body.get("description") or "") > DESCRIPTION_LIMIT:
        raise _validation_failed(resource, "description", "description is too long")


def _comment_body(r: Recorded) -> str:
    body = (r.body or {}).get("body")
    if not body:
        raise _validation_failed("IssueComment", "body", "body is missing")
    if len(body) > COMMENT_LIMIT:
        raise _validation_failed(
            "IssueComment", "body", f"body is too long (maximum is {COMMENT_LIMIT} characters)"
        )
    return body


def _fault(kind: str) -> _Answer:
    now = int(time.time())
    if kind == "rate_limit":
        return _Answer(
            403,
            {
                "message": "API rate limit exceeded for installation ID 1.",
                "documentation_url": "https://docs.github.com/rest/rate-limit",
            },
            {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(now + 2),
                "X-RateLimit-Resource": "core",
            },
        )
    if kind == "secondary":
        return _Answer(
            403,
            {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
                "before you try again."
            },
            {"Retry-After": "3"},
        )
    if kind == "429":
        return _Answer(429, {"message": "Too Many Requests"}, {"Retry-After": "1"})
    if kind == "502":
        return _Answer(502, {"message": "Server Error"})
    raise ValueError(f"unknown fault {kind!r}")


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _handle(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        record = Recorded(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=json.loads(raw) if raw else None,
        )
        answer = self.fake.answer(record)
        record.status = answer.status
        data = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = _handle
