"""A database that cannot take a write (full disk, read-only file or disk, I/O error) is a
503 with the reason and the fix, not a bare 500: nothing is wrong with the request, and the
same request succeeds once the operator has freed space or fixed the mount."""

from __future__ import annotations

import sqlite3

from fastapi import Request
from fastapi.responses import JSONResponse

RETRY_AFTER_SECONDS = 30

_REASONS = {
    "SQLITE_FULL": "the disk holding the database is full",
    "SQLITE_READONLY": "the database file or its disk is read-only",
    "SQLITE_IOERR": "the disk holding the database reported an I/O error",
    "SQLITE_CANTOPEN": "the database file cannot be opened",
    "SQLITE_BUSY": "the database is locked by another process",
}
FIX = (
    "free space on, or make writable, the disk of the state directory (SLIPWAY_STATE_DIR); "
    "no restart is needed (docs/webhook.md, 'Troubleshooting')"
)


def unwritable_reason(error: BaseException) -> str | None:
    """Why the database took no write, when `error` says so; None for any other error."""
    if not isinstance(error, sqlite3.Error):
        return None
    name = getattr(error, "sqlite_errorname", "") or ""
    for prefix, reason in _REASONS.items():
        if name == prefix or name.startswith(f"{prefix}_"):
            return f"{reason} ({error})"
    return None


def unwritable_message(reason: str) -> str:
    return f"the service cannot record this now: {reason}; {FIX}"


async def answer_unwritable(request: Request, error: Exception) -> JSONResponse:
    """The app's handler for `sqlite3.Error`: 503 with the reason, or re-raise (a 500)."""
    reason = unwritable_reason(error)
    if reason is None:
        raise error
    message = unwritable_message(reason)
    return JSONResponse(
        {"error": message, "detail": message},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
