"""The `healthChecks` format: one model for the stack config and the service.

`slipway:healthChecks` (read by components/config.py) and the stack output of the same name
(read by the service, webhook/health.py) are a list of `{url, status, timeoutSeconds}`; both
are read here, with the same defaults and the same messages. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DEFAULT_STATUS = 200
DEFAULT_TIMEOUT_SECONDS = 10.0
FIELDS = ("url", "status", "timeoutSeconds")
SHAPE = "{url, status, timeoutSeconds}"


@dataclass(frozen=True)
class HealthCheck:
    """One URL to GET: it passes when it answers `status` within `timeout_seconds`."""

    url: str
    status: int = DEFAULT_STATUS
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def as_output(self) -> dict[str, Any]:
        """The form exported in the `healthChecks` stack output (config key spelling)."""
        return {"url": self.url, "status": self.status, "timeoutSeconds": self.timeout_seconds}


@dataclass(frozen=True)
class Problem:
    """What is wrong (`message`) with which part of the list (`key`, e.g. healthChecks[0].url)."""

    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key} {self.message}"


def read_health_checks(raw: Any) -> tuple[list[HealthCheck], list[Problem]]:
    """The checks of a `healthChecks` value (None: none), and every problem found; an entry
    with a problem is left out."""
    if raw is None:
        return [], []
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        return [], [Problem("healthChecks", f"must be a list of {SHAPE}, got {_kind(raw)}")]
    checks, problems = [], []
    for index, item in enumerate(raw):
        found = _entry(f"healthChecks[{index}]", item)
        if isinstance(found, HealthCheck):
            checks.append(found)
        else:
            problems += found
    return checks, problems


def _entry(key: str, item: Any) -> HealthCheck | list[Problem]:
    if not isinstance(item, Mapping):
        return [Problem(key, f"must be an object with url, status, timeoutSeconds, got {item!r}")]
    problems = []
    unknown = sorted(set(item) - set(FIELDS))
    if unknown:
        problems.append(
            Problem(key, f"has unknown field(s) {', '.join(map(str, unknown))}: only "
                    "url, status, timeoutSeconds are read")
        )  # fmt: skip
    url = item.get("url")
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(Problem(f"{key}.url", f"must be an http(s) URL, got {url!r}"))
    status = item.get("status", DEFAULT_STATUS)
    if not _number(status, int) or not 100 <= status <= 599:
        problems.append(
            Problem(f"{key}.status", f"must be an HTTP status code (100-599), got {status!r}")
        )
    timeout = item.get("timeoutSeconds", DEFAULT_TIMEOUT_SECONDS)
    if not _number(timeout, int | float) or timeout <= 0:
        problems.append(
            Problem(f"{key}.timeoutSeconds", f"must be a positive number, got {timeout!r}")
        )
    if problems:
        return problems
    return HealthCheck(url=url, status=status, timeout_seconds=float(timeout))


def _number(value: Any, kind: Any) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    return type(value).__name__
