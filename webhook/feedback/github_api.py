"""A small GitHub REST client on httpx: token auth, rate limits waited out, 5xx retried.

Every value put into a path is %-encoded as one segment and a repository must be
`owner/name`, so no payload value (a sha, a number) can make the client call another route.

Every call is bounded (`RetryPolicy`): a rate limit longer than `retry_after_max` or more
than `attempts` tries ends in `GitHubError`; callers that must never fail (the feedback
service) catch it and log it.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import httpx

from webhook.feedback.github_retry import decide
from webhook.retry_policy import RetryPolicy

log = logging.getLogger(__name__)

REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
API_VERSION = "2022-11-28"
DEFAULT_API_URL = "https://api.github.com"


class GitHubError(Exception):
    """A GitHub call that did not succeed, after any retries."""

    def __init__(self, method: str, path: str, status: int | None, message: str) -> None:
        where = f"{method} {path}"
        super().__init__(f"{where}: {status or 'no answer'}: {message}")
        self.method = method
        self.path = path
        self.status = status


def _repo(repo: str) -> str:
    """`owner/name` as two path segments; ValueError for anything else (`..`, more slashes)."""
    owner, _, name = repo.partition("/")
    if not REPOSITORY.fullmatch(repo) or owner in (".", "..") or name in (".", ".."):
        raise ValueError(f"{repo!r} is not a repository name like owner/name")
    return f"{quote(owner, safe='')}/{quote(name, safe='')}"


def _seg(value: object) -> str:
    """One path segment: every character that could change the path is %-encoded."""
    return quote(str(value), safe="")


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        errors = body.get("errors")
        return f"{body.get('message', '')}{f' {errors}' if errors else ''}"
    return str(body)[:200]


class GitHubClient:
    """Synchronous REST calls against `base_url` (api.github.com or GitHub Enterprise)."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = DEFAULT_API_URL,
        policy: RetryPolicy | None = None,
        timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "slipway",
            },
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        """Send one call, waiting out rate limits and retrying 5xx; return the 2xx answer."""
        attempt = 0
        while True:
            attempt += 1
            status: int | None = None
            headers: httpx.Headers | dict[str, str] = {}
            message = ""
            try:
                response = self._http.request(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                message = f"{type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return response
                status, headers = response.status_code, response.headers
                message = _error_message(response)
            decision = decide(
                self.policy,
                attempt,
                status=status,
                headers=headers,
                now=self._clock(),
                message=message,
            )
            if not decision.retry:
                raise GitHubError(method, path, status, f"{message} ({decision.reason})")
            log.warning(
                "GitHub %s %s: %s; retrying in %.1f s (attempt %d of %d)",
                method,
                path,
                decision.reason,
                decision.wait,
                attempt,
                self.policy.attempts,
            )
            self._sleep(decision.wait or 0.0)

    def paginate(self, path: str, params: dict[str, Any] | None = None) -> Iterator[Any]:
        """Yield the items of a list endpoint, following `Link: rel="next"` pages."""
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        while url:
            response = self.request("GET", url, params=query)
            yield from response.json()
            url = response.links.get("next", {}).get("url")
            query = None  # the next link carries the query already

    # -- the endpoints Slipway uses ---------------------------------------------------------

    def create_deployment(self, repo: str, **fields: Any) -> dict[str, Any]:
        """POST /repos/{repo}/deployments (fields: ref, environment, description, payload...)."""
        return self.request("POST", f"/repos/{_repo(repo)}/deployments", json=fields).json()

    def list_deployments(self, repo: str, **query: Any) -> list[dict[str, Any]]:
        return list(self.paginate(f"/repos/{_repo(repo)}/deployments", query))

    def create_deployment_status(
        self, repo: str, deployment_id: int, **fields: Any
    ) -> dict[str, Any]:
        """POST /repos/{repo}/deployments/{id}/statuses (state, description, log_url...)."""
        path = f"/repos/{_repo(repo)}/deployments/{_seg(deployment_id)}/statuses"
        return self.request("POST", path, json=fields).json()

    def list_issue_comments(self, repo: str, number: int) -> Iterator[dict[str, Any]]:
        return self.paginate(f"/repos/{_repo(repo)}/issues/{_seg(number)}/comments")

    def create_issue_comment(self, repo: str, number: int, body: str) -> dict[str, Any]:
        path = f"/repos/{_repo(repo)}/issues/{_seg(number)}/comments"
        return self.request("POST", path, json={"body": body}).json()

    def update_issue_comment(self, repo: str, comment_id: int, body: str) -> dict[str, Any]:
        path = f"/repos/{_repo(repo)}/issues/comments/{_seg(comment_id)}"
        return self.request("PATCH", path, json={"body": body}).json()

    def create_commit_status(self, repo: str, sha: str, **fields: Any) -> dict[str, Any]:
        """POST /repos/{repo}/statuses/{sha} (state, context, description, target_url)."""
        path = f"/repos/{_repo(repo)}/statuses/{_seg(sha)}"
        return self.request("POST", path, json=fields).json()
