"""The fixed-window rate limiter (webhook/http/ratelimit.py), on an injected clock."""

from __future__ import annotations

from limits import parse

from webhook.http.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_window_allows_its_amount_then_refuses_until_it_ends() -> None:
    clock = Clock()
    limiter = RateLimiter(parse("3/minute"), "hook", clock=clock)
    assert [limiter.retry_after("a") for _ in range(3)] == [None, None, None]
    clock.now += 20
    assert limiter.retry_after("a") == 40  # the window opened at the first hit
    assert limiter.retry_after("b") is None  # another key, its own window
    clock.now += 39.5
    assert limiter.retry_after("a") == 1  # never less than a second
    clock.now += 0.5
    assert limiter.retry_after("a") is None  # a new window


def test_expired_windows_are_swept() -> None:
    clock = Clock()
    limiter = RateLimiter(parse("1/second"), "hook", clock=clock)
    for number in range(100):
        limiter.retry_after(f"client-{number}")
    assert len(limiter) == 100
    clock.now += 2
    assert limiter.retry_after("another") is None
    assert len(limiter) == 1
