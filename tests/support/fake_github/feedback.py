"""The part of the fake GitHub that Slipway's feedback client calls: deployments and their
statuses, commit statuses and issue comments (webhook/feedback/github_api.py).

Answers like GitHub: status codes, bodies, `Link` pagination of comments, 422 validation
errors for a missing field or an over-long description or comment. Served by server.py.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_github.answers import Answer, Refused, not_found, validation_failed

COMMENT_LIMIT = 65_536
DESCRIPTION_LIMIT = 140
DEPLOYMENT_STATES = {"error", "failure", "inactive", "in_progress", "queued", "pending", "success"}
COMMIT_STATES = {"error", "failure", "pending", "success"}
_R = r"/repos/[^/]+/[^/]+"


@dataclass
class FeedbackState:
    """Deployments (by id), their statuses, comments (by id) and commit statuses, in memory."""

    url: str = ""  # the server's address with the request's prefix: set per request
    deployments: dict[int, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    comments: dict[int, dict[str, Any]] = field(default_factory=dict)
    commit_statuses: list[dict[str, Any]] = field(default_factory=list)
    page_size: int = 30
    ids: itertools.count = field(default_factory=lambda: itertools.count(1001))

    def route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> Answer | None:
        """The answer of the route matching `method path`, or None when none does."""
        routes: list[tuple[str, str, Callable[..., Answer]]] = [
            ("POST", _R + r"/deployments", self._create_deployment),
            ("GET", _R + r"/deployments", self._list_deployments),
            ("POST", _R + r"/deployments/(\d+)/statuses", self._create_status),
            ("GET", _R + r"/issues/(\d+)/comments", self._list_comments),
            ("POST", _R + r"/issues/(\d+)/comments", self._create_comment),
            ("PATCH", _R + r"/issues/comments/(\d+)", self._update_comment),
            ("POST", _R + r"/statuses/([0-9a-f]{40})", self._commit_status),
        ]
        for route_method, pattern, handle in routes:
            match = re.fullmatch(pattern, path)
            if match and route_method == method:
                try:
                    fields = body if isinstance(body, dict) else {}
                    return handle(path, query, fields, *match.groups())
                except Refused as refused:
                    return refused.answer
        return None

    def _create_deployment(self, _path: str, _query: Any, body: dict[str, Any]) -> Answer:
        if not body.get("ref"):
            raise Refused(validation_failed("Deployment", "ref", "ref is missing"))
        _check_description(body, "Deployment")
        deployment_id = next(self.ids)
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
        self.deployments[deployment_id] = deployment
        self.statuses[deployment_id] = []
        return Answer(201, deployment)

    def _list_deployments(self, _path: str, query: dict[str, list[str]], _body: Any) -> Answer:
        wanted = {k: v[0] for k, v in query.items() if k in ("sha", "ref", "environment")}
        found = [
            d
            for d in sorted(self.deployments.values(), key=lambda d: -d["id"])
            if all(d.get(k) == v for k, v in wanted.items())
        ]
        return Answer(200, found)

    def _create_status(self, _path: str, _query: Any, body: dict, deployment_id: str) -> Answer:
        if int(deployment_id) not in self.deployments:
            raise Refused(not_found())
        if body.get("state") not in DEPLOYMENT_STATES:
            raise Refused(validation_failed("DeploymentStatus", "state", "state is not included"))
        _check_description(body, "DeploymentStatus")
        status = {"id": next(self.ids), **body}
        self.statuses[int(deployment_id)].append(status)
        return Answer(201, status)

    def _list_comments(self, path: str, query: dict[str, list[str]], _body: Any, number: str):
        found = [c for c in self.comments.values() if c["issue"] == int(number)]
        size = int(query.get("per_page", [self.page_size])[0])
        size = min(size, self.page_size)  # a small page size exercises pagination
        page = int(query.get("page", ["1"])[0])
        chunk = found[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(found):
            headers["Link"] = f'<{self.url}{path}?per_page={size}&page={page + 1}>; rel="next"'
        return Answer(200, chunk, headers)

    def _create_comment(self, _path: str, _query: Any, body: dict, number: str) -> Answer:
        comment = {
            "id": next(self.ids),
            "issue": int(number),
            "body": _comment_body(body),
            "user": {"login": "slipway[bot]"},
        }
        self.comments[comment["id"]] = comment
        return Answer(201, comment)

    def _update_comment(self, _path: str, _query: Any, body: dict, comment_id: str) -> Answer:
        comment = self.comments.get(int(comment_id))
        if comment is None:
            raise Refused(not_found())
        comment["body"] = _comment_body(body)
        return Answer(200, comment)

    def _commit_status(self, _path: str, _query: Any, body: dict, sha: str) -> Answer:
        if body.get("state") not in COMMIT_STATES:
            raise Refused(validation_failed("Status", "state", "state is not included"))
        _check_description(body, "Status")
        status = {"id": next(self.ids), "sha": sha, **body}
        self.commit_statuses.append(status)
        return Answer(201, status)


def _check_description(body: dict[str, Any], resource: str) -> None:
    if len(body.get("description") or "") > DESCRIPTION_LIMIT:
        raise Refused(validation_failed(resource, "description", "description is too long"))


def _comment_body(body: dict[str, Any]) -> str:
    text = body.get("body")
    if not text:
        raise Refused(validation_failed("IssueComment", "body", "body is missing"))
    if len(text) > COMMENT_LIMIT:
        message = f"body is too long (maximum is {COMMENT_LIMIT} characters)"
        raise Refused(validation_failed("IssueComment", "body", message))
    return text
