"""HTTP requests that survive a restarting service: retries with backoff, jitter, Retry-After.

Retried: connection errors (refused, reset, timeouts), 5xx and 429. Never retried: any other
4xx (a bad token or a bad request does not get better by asking again). The wait is
exponential with full jitter, unless the server said how long with `Retry-After`. The policy
(attempts, backoff, longest `Retry-After`) is webhook/retry_policy.py's, shared by every retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from webhook.retry_policy import RetryPolicy

#: Tries per request unless `--attempts` says otherwise.
ATTEMPTS = 6


class RetryableStatus(Exception):
    """A 5xx or 429 answer, raised so that tenacity retries it."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code} {response.reason_phrase}")
        self.response = response


class GaveUp(Exception):
    """All attempts failed; the message says how many, and the last error."""


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, RetryableStatus | httpx.TransportError)


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """The wait a `Retry-After` header asks for (delta-seconds or an HTTP date), if any."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None  # unreadable: fall back to the backoff
    return max(0.0, when - (time.time() if now is None else now))


class _Wait:
    """Retry-After when the server sent one (capped), else jittered exponential backoff."""

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = wait_random_exponential(
            multiplier=policy.backoff_first, max=policy.backoff_max
        )

    def __call__(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableStatus):
            asked = retry_after_seconds(error.response)
            if asked is not None:
                return min(asked, self.policy.retry_after_max)
        return self.backoff(state)


def describe(error: BaseException) -> str:
    """A short, token-free description of what went wrong with one attempt."""
    if isinstance(error, RetryableStatus):
        return str(error)
    if isinstance(error, httpx.TransportError):
        return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return repr(error)


def send_with_retries(
    send: Callable[[], httpx.Response],
    *,
    what: str,
    policy: RetryPolicy,
    report: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> httpx.Response:
    """Call `send` until it gives a non-retryable answer; raise GaveUp after the last attempt.

    The answer returned may still be a 4xx: the caller decides what that means.
    """

    def attempt() -> httpx.Response:
        response = send()
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryableStatus(response)
        return response

    def before_sleep(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        report(
            f"{what}: attempt {state.attempt_number}/{policy.attempts} failed "
            f"({describe(error)}); retrying in {wait:.1f} s"
        )

    retrying = Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=_Wait(policy),
        retry=retry_if_exception(is_retryable),
        before_sleep=before_sleep,
        sleep=sleep,
        reraise=True,
    )
    try:
        return retrying(attempt)
    except (RetryableStatus, httpx.TransportError) as error:
        raise GaveUp(
            f"{what}: gave up after {policy.attempts} attempts; last error: {describe(error)}"
        ) from error
