"""The one dedupe of pushed commits, shared by the webhook delivery path and the poll.

Both paths decide inside a store write, and the store runs one write transaction at a
time, so a commit found by the poll and a late delivery of the same push never both queue
it. The poll records what it queued as a delivery with the key `poll:<stack>:<sha>`. This
module holds the names (pure); the queries that decide are in webhook/store/sql.py
(`queued_deploy`, `found_by_poll`).
"""

from __future__ import annotations

POLL_EVENT = "poll"
MISSED_REASON = "missed webhook: found by polling"


def poll_key(stack: str, sha: str) -> str:
    """The delivery id under which the poll records the commit it queued."""
    return f"{POLL_EVENT}:{stack}:{sha}"
