"""A loopback stand-in for the webhook service's deploy API, scripted to misbehave.

Each route has a queue of scripted answers consumed one per request: `RESET` closes the
connection with a TCP reset, `(status, headers)` answers with that status; when the queue is
empty the route answers normally. Deployments go through the states listed for them, one
state per `GET /deployments/{id}`.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RESET = "reset"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeService:
    """State shared with the handler threads (guarded by `lock`)."""

    token: str
    # States each new deployment goes through, one per GET (the last one sticks).
    states: list[str] = field(default_factory=lambda: ["queued", "running", "succeeded"])
    script: dict[str, deque] = field(default_factory=lambda: defaultdict(deque))
    requests: list[Recorded] = field(default_factory=list)
    deployments: dict[int, dict[str, Any]] = field(default_factory=dict)
    # The public app the health command checks: GET /app/<name> answers app_status[name].
    app_status: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def fail(self, route: str, *answers: Any) -> None:
        """Script the next answers of `route` ("POST /deployments", "GET /deployments/1")."""
        self.script[route].extend(answers)

    def add_deployment(self, sha: str, states: list[str], kind: str = "deploy") -> dict:
        with self.lock:
            number = len(self.deployments) + 1
            record = {"id": number, "sha": sha, "kind": kind, "states": deque(states)}
            record["state"] = record["states"][0]
            self.deployments[number] = record
            return record

    def calls(self, method: str, path_prefix: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]


def _public(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "states"}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, *args: Any) -> None:  # keep the test output quiet
        pass

    def _answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None):
        data = json.dumps(body if body is not None else {"detail": f"status {status}"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout: close() sends RST instead of FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _handle(self, method: str) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        with fake.lock:
            fake.requests.append(
                Recorded(method, self.path, dict(self.headers), json.loads(raw) if raw else None)
            )
            scripted = fake.script.get(f"{method} {path}")
            answer = scripted.popleft() if scripted else None
        if answer == RESET:
            return self._reset()
        if answer is not None:
            status, headers = answer
            return self._answer(status, headers=headers)
        if path.startswith("/app/"):
            return self._answer(fake.app_status.get(path[len("/app/") :], 404), {})
        if self.headers.get("Authorization") != f"Bearer {fake.token}":
            return self._answer(401, {"detail": "missing or wrong bearer token"})
        self._route(fake, method, path, json.loads(raw) if raw else None)

    def _route(self, fake: FakeService, method: str, path: str, body: Any) -> None:
        if method == "POST" and path == "/deployments":
            record = fake.add_deployment(body["sha"], list(fake.states))
            return self._answer(202, _public(record))
        if method == "GET" and path == "/deployments":
            with fake.lock:
                items = [_public(r) for r in reversed(fake.deployments.values())]
            return self._answer(200, {"items": items, "next": None})
        match = re.fullmatch(r"/deployments/(\d+)(/log|/rollback)?", path)
        record = fake.deployments.get(int(match.group(1))) if match else None
        if record is None:
            return self._answer(404, {"detail": f"no deployment at {path}"})
        if method == "GET" and match.group(2) == "/log":
            return self._answer(200, {"id": record["id"], "lines": [], "last_seq": 0})
        if method == "POST" and match.group(2) == "/rollback":
            new = fake.add_deployment("0" * 40, list(fake.states), kind="rollback")
            return self._answer(202, _public(new))
        if method == "GET" and match.group(2) is None:
            with fake.lock:
                if len(record["states"]) > 1:
                    record["states"].popleft()
                record["state"] = record["states"][0]
                return self._answer(200, _public(record))
        return self._answer(405, {"detail": "method not allowed"})

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeService


def start(fake: FakeService) -> _Server:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = fake
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server
