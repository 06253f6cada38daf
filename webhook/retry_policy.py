"""How hard to retry: one policy for every retry in Slipway (pure, no I/O).

Used by the GitHub feedback client (webhook/feedback/github_retry.py decides per answer),
the deploy client (deploy_client/retrying.py, with jitter) and the pipeline's wait for a
locked stack (webhook/orchestrator/pipeline.py, from the orchestrator's `lock_retry_*` settings).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts in all; the backoff's first and largest wait; the longest wait a server may
    ask for (`Retry-After`, a rate limit's reset), in seconds."""

    attempts: int = 5
    backoff_first: float = 1.0
    backoff_max: float = 30.0
    retry_after_max: float = 120.0

    def backoff(self, attempt: int) -> float:
        """Exponential backoff after the attempt-th failure (1-based): first, twice that,
        four times ... capped at `backoff_max` (also when the power is too large for a float)."""
        try:
            return min(self.backoff_max, self.backoff_first * 2 ** (attempt - 1))
        except OverflowError:
            return self.backoff_max
