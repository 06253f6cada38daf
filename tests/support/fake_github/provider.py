"""A loopback fake of the GitHub REST API, as the real github Pulumi provider calls it.

Served GitHub-Enterprise-style under `/api/v3/` (the provider appends it to `baseUrl`). It
answers with GitHub's documented shapes for what our components create: the repository and
its branches, Actions secrets (sealed with a Curve25519 key pair the fake holds, so tests can
decrypt what arrived), environments and their secrets, file contents with commits, and
repository webhooks. State is in memory; every request is recorded, and a request no route
knows is answered 404 and listed in `unhandled`.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.fake_github.answers import Answer
from tests.support.fake_github.repo_state import RepoState

PREFIX = "/api/v3"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Request:
    method: str
    path: str  # without PREFIX, not unquoted
    query: dict[str, list[str]]
    body: Any
    status: int = 0


# (method, pattern) -> RepoState method name; `{o}`/`{r}` are the owner and repository.
_R = r"/repos/(?P<o>[^/]+)/(?P<r>[^/]+)"
_ENV = r"/repositories/(?P<rid>\d+)/environments/(?P<env>[^/]+)/secrets"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (method, re.compile(pattern), handler)
    for method, pattern, handler in [
        ("GET", r"/orgs/(?P<o>[^/]+)", "get_org"),
        ("GET", _R, "get_repo"),
        ("GET", _R + r"/branches/(?P<branch>.+)", "get_branch"),
        ("GET", _R + r"/contents/(?P<path>.+)", "get_contents"),
        ("PUT", _R + r"/contents/(?P<path>.+)", "put_contents"),
        ("DELETE", _R + r"/contents/(?P<path>.+)", "delete_contents"),
        ("GET", _R + r"/commits/(?P<sha>[0-9a-f]{40})", "get_commit"),
        ("GET", _R + r"/actions/secrets/public-key", "get_public_key"),
        ("GET", _R + r"/actions/secrets/(?P<name>[^/]+)", "get_secret"),
        ("PUT", _R + r"/actions/secrets/(?P<name>[^/]+)", "put_secret"),
        ("DELETE", _R + r"/actions/secrets/(?P<name>[^/]+)", "delete_secret"),
        ("GET", _R + r"/environments/(?P<env>[^/]+)", "get_environment"),
        ("PUT", _R + r"/environments/(?P<env>[^/]+)", "put_environment"),
        ("DELETE", _R + r"/environments/(?P<env>[^/]+)", "delete_environment"),
        ("GET", _ENV + r"/public-key", "get_env_public_key"),
        ("GET", _ENV + r"/(?P<name>[^/]+)", "get_env_secret"),
        ("PUT", _ENV + r"/(?P<name>[^/]+)", "put_env_secret"),
        ("DELETE", _ENV + r"/(?P<name>[^/]+)", "delete_env_secret"),
        ("POST", _R + r"/hooks", "create_hook"),
        ("GET", _R + r"/hooks/(?P<id>\d+)", "get_hook"),
        ("PATCH", _R + r"/hooks/(?P<id>\d+)", "edit_hook"),
        ("DELETE", _R + r"/hooks/(?P<id>\d+)", "delete_hook"),
    ]
]


@dataclass
class FakeGitHubApi:
    """`with FakeGitHubApi(owner, repo, branches=...) as api:`; `api.base_url` is the provider's
    `baseUrl`, `api.state` the repository, `api.requests` every call in order."""

    owner: str
    repo: str
    branches: tuple[str, ...] = ("main",)
    token: str = "ghp_fake_provider_token"
    owner_is_org: bool = True
    requests: list[Request] = field(default_factory=list)
    unhandled: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = RepoState(self.owner, self.repo, self.branches, self.owner_is_org)
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.state.api_url = f"{self.base_url}api/v3"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> FakeGitHubApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def writes(self) -> list[Request]:
        """The requests that could change something (POST, PUT, PATCH, DELETE)."""
        with self._lock:
            return [r for r in self.requests if r.method in WRITES]

    def endpoints(self) -> list[str]:
        """Each distinct `METHOD route` called, in first-call order (ids and names kept)."""
        with self._lock:
            seen = dict.fromkeys(f"{r.method} {r.path}" for r in self.requests)
        return list(seen)

    def answer(self, method: str, raw_path: str, headers: Any, body: Any) -> Answer:
        split = urlsplit(raw_path)
        path = split.path.removeprefix(PREFIX) if split.path.startswith(PREFIX + "/") else ""
        request = Request(method, path or split.path, parse_qs(split.query), body)
        with self._lock:
            self.requests.append(request)
            answer = self._route(request, path, headers)
            request.status = answer.status
            if answer.status == 404 and answer.unrouted:
                self.unhandled.append(f"{method} {split.path}")
        return answer

    def _route(self, request: Request, path: str, headers: Any) -> Answer:
        if not path:
            return Answer(404, {"message": "Not Found (outside /api/v3/)"}, unrouted=True)
        auth = headers.get("Authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return Answer(401, {"message": "Bad credentials"})
        for method, pattern, name in ROUTES:
            match = pattern.fullmatch(path)
            if method == request.method and match:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                if params.pop("o", self.owner) != self.owner:
                    return Answer(404, {"message": "Not Found"})
                if params.pop("r", self.repo) != self.repo:
                    return Answer(404, {"message": "Not Found"})
                if params.pop("rid", str(self.state.repo_id)) != str(self.state.repo_id):
                    return Answer(404, {"message": "Not Found"})
                return getattr(self.state, name)(query=request.query, body=request.body, **params)
        return Answer(404, {"message": "Not Found"}, unrouted=True)


class _Handler(BaseHTTPRequestHandler):
    api: FakeGitHubApi
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        answer = self.api.answer(self.command, self.path, self.headers, body)
        data = b"" if answer.body is None else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve
