"""What a handler of the fake GitHub REST API returns, and GitHub's common answers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

DOCS = "https://docs.github.com/rest"


@dataclass
class Answer:
    status: int
    body: Any = None  # None: no body (204)
    unrouted: bool = False  # no route matched: the fake does not know this endpoint


def not_found(message: str = "Not Found") -> Answer:
    return Answer(404, {"message": message, "documentation_url": DOCS})


def invalid(message: str) -> Answer:
    """GitHub's 422 for a request body it refuses."""
    return Answer(422, {"message": message, "documentation_url": DOCS})


def now() -> str:
    """A timestamp as GitHub writes them (UTC, seconds)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
