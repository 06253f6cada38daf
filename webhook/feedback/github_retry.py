"""When to retry a GitHub API answer, and how long to wait first (pure, no I/O).

GitHub's rules (docs.github.com, "Rate limits for the REST API"):
- primary rate limit: 403 or 429 with `x-ratelimit-remaining: 0`; wait until the epoch
  second in `x-ratelimit-reset`;
- secondary rate limit: 403 or 429 with `retry-after` (seconds); wait that long; a 403
  whose message says "rate limit" without either header: wait a minute;
- 5xx and network errors are transient; retry with exponential backoff.
Any other answer is final and is not retried. The bounds are webhook/retry_policy.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from webhook.retry_policy import RetryPolicy

#: Waited when GitHub says "rate limited" (429) without saying for how long (GitHub's advice).
DEFAULT_RATE_LIMIT_WAIT = 60.0


@dataclass(frozen=True)
class RetryDecision:
    """What to do with an answer: retry after `wait` seconds, or stop (`wait is None`)."""

    wait: float | None
    reason: str

    @property
    def retry(self) -> bool:
        return self.wait is not None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (works for plain dicts and httpx.Headers)."""
    for key, value in headers.items():
        if key.lower() == name:
            return value.strip()
    return None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def rate_limit_wait(
    status: int, headers: Mapping[str, str], now: float, message: str = ""
) -> float | None:
    """Seconds GitHub asks us to wait, or None when the answer is not a rate limit."""
    if status not in (403, 429):
        return None
    retry_after = _number(_header(headers, "retry-after"))
    if retry_after is not None:
        return max(0.0, retry_after)
    if _header(headers, "x-ratelimit-remaining") == "0":
        reset = _number(_header(headers, "x-ratelimit-reset"))
        if reset is not None:
            # +1 s: the reset second is inclusive on GitHub's side.
            return max(0.0, reset - now + 1.0)
        return DEFAULT_RATE_LIMIT_WAIT
    if status == 429 or "rate limit" in message.lower():
        return DEFAULT_RATE_LIMIT_WAIT
    return None  # a plain 403: missing permission, not worth retrying


def decide(
    policy: RetryPolicy,
    attempt: int,
    *,
    status: int | None,
    headers: Mapping[str, str] | None = None,
    now: float = 0.0,
    message: str = "",
) -> RetryDecision:
    """Decide about the answer to the attempt-th try; `status=None` means a network error.

    `message` is GitHub's error message, for rate limits announced only in words."""
    if attempt >= policy.attempts:
        return RetryDecision(None, f"gave up after {attempt} attempts")
    if status is None:
        return RetryDecision(policy.backoff(attempt), "network error")
    if status >= 500:
        return RetryDecision(policy.backoff(attempt), f"server error {status}")
    wait = rate_limit_wait(status, headers or {}, now, message)
    if wait is None:
        return RetryDecision(None, f"final answer {status}")
    if wait > policy.retry_after_max:
        bound = policy.retry_after_max
        return RetryDecision(
            None, f"rate limited for {wait:.0f} s, longer than the {bound:.0f} s bound"
        )
    return RetryDecision(wait, f"rate limited ({status})")
