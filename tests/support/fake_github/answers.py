"""What a handler of the fake GitHub REST API returns, and GitHub's common answers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

DOCS = "https://docs.github.com/rest"


@dataclass
class Answer:
    status: int
    body: Any = None  # None: no body (204)
    headers: dict[str, str] = field(default_factory=dict)
    unrouted: bool = False  # no route matched: the fake does not know this endpoint


class Refused(Exception):
    """Raised by a handler to answer at once with `answer` (an error)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


def not_found(message: str = "Not Found") -> Answer:
    return Answer(404, {"message": message, "documentation_url": DOCS})


def invalid(message: str) -> Answer:
    """GitHub's 422 for a request body it refuses."""
    return Answer(422, {"message": message, "documentation_url": DOCS})


def validation_failed(resource: str, field_name: str, message: str) -> Answer:
    """GitHub's 422 naming the resource and field it refuses."""
    error = {"resource": resource, "code": "custom", "field": field_name, "message": message}
    return Answer(
        422, {"message": "Validation Failed", "errors": [error], "documentation_url": DOCS}
    )


def fault(kind: str) -> Answer:
    """A scripted failure: rate_limit (primary 403), secondary (403 + Retry-After), 429, 502."""
    if kind == "rate_limit":
        reset = str(int(time.time()) + 2)
        return Answer(
            403,
            {
                "message": "API rate limit exceeded for installation ID 1.",
                "documentation_url": "https://docs.github.com/rest/rate-limit",
            },
            {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset,
                "X-RateLimit-Resource": "core",
            },
        )
    if kind == "secondary":
        message = (
            "You have exceeded a secondary rate limit. Please wait a few minutes "
            "before you try again."
        )
        return Answer(403, {"message": message}, {"Retry-After": "3"})
    if kind == "429":
        return Answer(429, {"message": "Too Many Requests"}, {"Retry-After": "1"})
    if kind == "502":
        return Answer(502, {"message": "Server Error"})
    raise ValueError(f"unknown fault {kind!r}")


def now() -> str:
    """A timestamp as GitHub writes them (UTC, seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
