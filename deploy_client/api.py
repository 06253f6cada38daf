"""The webhook service's deployment API as the client sees it (docs/architecture.md,
"HTTP contract").

Every call goes through `send_with_retries`; an answer that is neither retryable nor a
success becomes an `ApiError` naming the route, the status and the server's `detail`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from deploy_client.retrying import send_with_retries
from webhook.retry_policy import RetryPolicy


class ClientConfigError(ValueError):
    """SLIPWAY_URL / SLIPWAY_TOKEN missing or unusable; the message says how to fix it."""


class ApiError(Exception):
    """The service refused a request (a 4xx, or an answer the client cannot read)."""


@dataclass(frozen=True)
class Deployment:
    """What the client needs to know about one deployment."""

    id: int
    state: str
    sha: str = ""
    kind: str = ""
    failure: str = ""  # the note of its `failed` state (what went wrong), from its history


def parse_deployment(body: Any) -> Deployment:
    """Read a deployment from a JSON body: `{"id", "state", ...}` (or nested in `deployment`)."""
    if isinstance(body, dict) and isinstance(body.get("deployment"), dict):
        body = body["deployment"]
    if not isinstance(body, dict):
        raise ApiError(f"expected a JSON object describing a deployment, got {body!r:.200}")
    raw_id = body.get("id", body.get("deployment_id"))
    if isinstance(raw_id, bool) or not isinstance(raw_id, int | str) or not str(raw_id).isdigit():
        raise ApiError(f"the service's answer has no deployment id: {body!r:.200}")
    return Deployment(
        id=int(raw_id),
        state=str(body.get("state", "")),
        sha=str(body.get("sha", "")),
        kind=str(body.get("kind", "")),
        failure=_failure(body.get("history")),
    )


def _failure(history: Any) -> str:
    """The last `failed` note of a `GET /deployments/{id}` history ("" when none)."""
    notes = [
        str(change.get("note") or "")
        for change in (history if isinstance(history, list) else [])
        if isinstance(change, dict) and change.get("state") == "failed"
    ]
    return notes[-1] if notes else ""


def check_base_url(url: str) -> str:
    """The service URL without a trailing slash; ClientConfigError when it is not http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ClientConfigError(
            "SLIPWAY_URL must be the webhook service's base URL, like "
            "https://deploy.example.com (in Actions: the DEPLOY_URL secret)"
        )
    return url.strip().rstrip("/")


class DeployApi:
    """Bearer-authenticated calls to `/deployments` with retries."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        policy: RetryPolicy,
        report: Callable[[str], None],
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
    ) -> None:
        if not token.strip():
            raise ClientConfigError(
                "SLIPWAY_TOKEN is empty: set it to the service's SLIPWAY_API_TOKEN "
                "(in Actions: the DEPLOY_TOKEN secret)"
            )
        self.base_url = check_base_url(base_url)
        self.policy = policy
        self.report = report
        self.sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token.strip()}", "Accept": "application/json"},
            timeout=timeout,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DeployApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(
        self, method: str, path: str, json: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        what = f"{method} {path}"
        response = send_with_retries(
            lambda: self._http.request(method, path, json=json, headers=headers),
            what=what,
            policy=self.policy,
            report=self.report,
            sleep=self.sleep,
        )
        if not response.is_success:
            raise ApiError(f"{what}: HTTP {response.status_code}: {_detail(response)}")
        try:
            return response.json()
        except ValueError:
            raise ApiError(f"{what}: the answer is not JSON: {response.text[:200]!r}") from None

    def create_deployment(self, sha: str, ref: str = "", idempotency_key: str = "") -> Deployment:
        """Queue a deployment. With `idempotency_key`, a retried POST that did reach the
        service (the answer was lost) gives back the same deployment, not a second one."""
        body = {"sha": sha, "ref": ref} if ref else {"sha": sha}
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return parse_deployment(self._call("POST", "/deployments", body, headers))

    def get_deployment(self, deployment_id: int) -> Deployment:
        return parse_deployment(self._call("GET", f"/deployments/{deployment_id}"))

    def list_deployments(self) -> list[Deployment]:
        body = self._call("GET", "/deployments")
        items = body.get("deployments", body.get("items")) if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise ApiError(f"GET /deployments: expected a list, got {body!r:.200}")
        return [parse_deployment(item) for item in items]

    def read_log(self, deployment_id: int, after: int = 0) -> tuple[list[str], int]:
        """Log lines after sequence number `after`, and the last sequence number seen."""
        body = self._call("GET", f"/deployments/{deployment_id}/log?after={after}")
        lines = body.get("lines", []) if isinstance(body, dict) else []
        last = body.get("last_seq", after) if isinstance(body, dict) else after
        text = [
            str(item.get("line", "")) if isinstance(item, dict) else str(item) for item in lines
        ]
        return text, int(last) if isinstance(last, int) else after

    def rollback(self, deployment_id: int) -> Deployment:
        return parse_deployment(self._call("POST", f"/deployments/{deployment_id}/rollback"))

    def blocking_problems(self) -> list[str]:
        """What the service says keeps deployments from running (`GET /readyz`, `degraded`
        entries with `blocks_deploys`), each with its fix; [] when it says nothing (an older
        service, or no answer: this question is never retried)."""
        try:
            body = self._http.get("/readyz").json()
        except (httpx.HTTPError, ValueError):
            return []
        items = body.get("degraded") if isinstance(body, dict) else None
        return [
            f"{item.get('problem')}; {item.get('fix')}"
            for item in items or []
            if isinstance(item, dict) and item.get("blocks_deploys")
        ]


def _detail(response: httpx.Response) -> str:
    """The server's own explanation (`detail` in FastAPI errors), else the start of the body."""
    hint = {401: " (check SLIPWAY_TOKEN / the DEPLOY_TOKEN secret)"}.get(response.status_code, "")
    try:
        body = response.json()
    except ValueError:
        return (response.text[:200] or response.reason_phrase) + hint
    detail = body.get("detail") if isinstance(body, dict) else None
    return (str(detail) if detail is not None else str(body)[:200]) + hint
