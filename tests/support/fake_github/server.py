"""One loopback server for the GitHub REST API as Slipway calls it, from both sides.

Slipway's feedback client (deployments, statuses, comments: feedback.py) and the github
Pulumi provider (repository, contents, secrets, environments, hooks: provider.py and
repo_state.py) reach the same fake, at its root or under GitHub Enterprise's `/api/v3/` (the
provider appends it to `baseUrl`). It accepts one token (`Bearer` or `token`), records every
request in order, answers 404 to a route it does not know and lists it in `unhandled`, and
can be told to fail the next N requests (403 rate limits, 429, 502). Stopping it also cuts
open keep-alive connections, so a stopped fake is unreachable for every client.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.fake_github import provider
from tests.support.fake_github.answers import Answer, fault
from tests.support.fake_github.feedback import FeedbackState
from tests.support.fake_github.repo_state import RepoState

TOKEN = "ghs_fake_installation_token"  # what the `fake_github` fixture's server accepts
REPO = "Codertocat/Hello-World"  # the repository of the octokit example payloads
PREFIX = "/api/v3"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Recorded:
    method: str
    path: str  # without PREFIX, not unquoted
    query: dict[str, list[str]]
    headers: dict[str, str]  # names in lower case
    body: Any
    status: int = 0


class FakeGitHub:
    """`with FakeGitHub(token) as gh:`; point a client at `gh.url`. `gh.state` holds what the
    feedback client made, `gh.repository` the repository the provider changes."""

    def __init__(
        self,
        token: str = TOKEN,
        *,
        repository: str = REPO,
        branches: tuple[str, ...] = ("main",),
        owner_is_org: bool = True,
    ) -> None:
        self.token = token
        owner, repo = repository.split("/")
        self.state = FeedbackState()
        self.repository = RepoState(owner, repo, branches, owner_is_org)
        self.requests: list[Recorded] = []
        self.unhandled: list[str] = []
        self._faults: list[str] = []
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.repository.api_url = self.url + PREFIX
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
        """Shut the server down: later requests fail to connect (GitHub unreachable)."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for connection in self._connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)

    # -- scripting and reading -------------------------------------------------------------

    def fail_next(self, count: int, kind: str) -> None:
        """Answer the next `count` requests with `kind`: rate_limit, secondary, 429, 502."""
        fault(kind)  # an unknown kind fails here, not in the server thread
        with self._lock:
            self._faults.extend([kind] * count)

    def calls(self, method: str | None = None, pattern: str = "") -> list[Recorded]:
        """Recorded requests, optionally only those of `method` whose path matches."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and re.search(pattern, r.path)
            ]

    def writes(self) -> list[Recorded]:
        """The requests that could change something (POST, PUT, PATCH, DELETE)."""
        with self._lock:
            return [r for r in self.requests if r.method in WRITES]

    def statuses_of(self, deployment_id: int) -> list[str]:
        return [s["state"] for s in self.state.statuses.get(deployment_id, [])]

    # -- answering -------------------------------------------------------------------------

    def answer(self, method: str, raw_path: str, headers: dict[str, str], body: Any) -> Answer:
        split = urlsplit(raw_path)
        prefixed = split.path.startswith(PREFIX + "/")
        path = split.path.removeprefix(PREFIX) if prefixed else split.path
        record = Recorded(method, path, parse_qs(split.query), headers, body)
        with self._lock:
            self.requests.append(record)
            answer = self._answer(record, prefixed)
            record.status = answer.status
            if answer.unrouted:
                self.unhandled.append(f"{method} {split.path}")
        return answer

    def _answer(self, r: Recorded, prefixed: bool) -> Answer:
        if self._faults:
            return fault(self._faults.pop(0))
        if r.headers.get("authorization") not in (f"Bearer {self.token}", f"token {self.token}"):
            return Answer(401, {"message": "Bad credentials"})
        self.state.url = self.url + (PREFIX if prefixed else "")
        answer = self.state.route(r.method, r.path, r.query, r.body)
        if answer is None:
            answer = provider.route(self.repository, r.method, r.path, r.query, r.body)
        return answer or Answer(404, {"message": "Not Found"}, unrouted=True)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"  # keep-alive, as GitHub; stop() cuts open connections

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def setup(self) -> None:
        super().setup()
        with self.fake._lock:
            self.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.fake._lock:
            self.fake._connections.discard(self.connection)
        super().finish()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.fake.answer(self.command, self.path, headers, body)
        data = b"" if answer.body is None else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
