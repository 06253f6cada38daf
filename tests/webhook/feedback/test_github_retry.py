"""The pure retry rules: what is waited out, for how long, and what is final."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from webhook.feedback.github_retry import DEFAULT_RATE_LIMIT_WAIT, decide
from webhook.retry_policy import RetryPolicy

POLICY = RetryPolicy(attempts=5, backoff_first=1.0, backoff_max=8.0, retry_after_max=120.0)


def test_primary_rate_limit_waits_until_the_reset_second() -> None:
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1000"}
    decision = decide(POLICY, 1, status=403, headers=headers, now=990.0)
    assert decision.wait == 11.0


def test_secondary_rate_limit_waits_retry_after() -> None:
    decision = decide(POLICY, 1, status=403, headers={"retry-after": "30"}, now=0)
    assert decision.wait == 30.0


def test_429_without_headers_waits_githubs_default_minute() -> None:
    assert decide(POLICY, 1, status=429, headers={}).wait == DEFAULT_RATE_LIMIT_WAIT


def test_a_403_that_says_rate_limit_without_headers_waits_a_minute() -> None:
    message = "You have exceeded a secondary rate limit. Please wait a few minutes."
    decision = decide(POLICY, 1, status=403, headers={}, message=message)
    assert decision.wait == DEFAULT_RATE_LIMIT_WAIT
    assert not decide(POLICY, 1, status=403, headers={}, message="Resource not accessible").retry


def test_plain_403_and_4xx_are_final() -> None:
    assert not decide(POLICY, 1, status=403, headers={"X-RateLimit-Remaining": "12"}).retry
    assert not decide(POLICY, 1, status=422, headers={}).retry
    assert not decide(POLICY, 1, status=404, headers={}).retry


def test_server_errors_and_network_errors_back_off_exponentially_with_a_cap() -> None:
    waits = [decide(POLICY, attempt, status=502).wait for attempt in range(1, 5)]
    assert waits == [1.0, 2.0, 4.0, 8.0]
    assert decide(POLICY, 2, status=None).wait == 2.0


def test_a_rate_limit_longer_than_the_bound_is_not_waited_out() -> None:
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "5000"}
    decision = decide(POLICY, 1, status=403, headers=headers, now=1000.0)
    assert not decision.retry
    assert "longer than" in decision.reason


@settings(max_examples=200, deadline=None)
@given(
    attempt=st.integers(min_value=1, max_value=20),
    status=st.one_of(st.none(), st.integers(min_value=400, max_value=599)),
    retry_after=st.one_of(st.none(), st.integers(min_value=0, max_value=10_000)),
)
def test_never_more_attempts_or_longer_waits_than_the_policy(
    attempt: int, status: int | None, retry_after: int | None
) -> None:
    headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
    decision = decide(POLICY, attempt, status=status, headers=headers, now=0)
    if attempt >= POLICY.attempts:
        assert not decision.retry
    if decision.retry:
        assert 0 <= decision.wait <= POLICY.retry_after_max
