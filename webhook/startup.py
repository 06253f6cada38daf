"""What `serve` does before the app exists: lock the state directory, open the database.

Each way this can fail becomes a `StartupError`: one message naming the problem and the fix,
and the exit code documented in docs/webhook.md ("Run it").
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from webhook.settings import Settings
from webhook.statelock import StateDirBusy, StateDirLock
from webhook.store import SchemaTooNew, Store

EXIT_STATE_DIR_BUSY = 4
EXIT_STATE_DIR_UNUSABLE = 5


class StartupError(Exception):
    """The service cannot start; `str()` is the whole message for the operator."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class StateDir:
    """The locked state directory and its open database, for the life of the service."""

    lock: StateDirLock
    store: Store

    def close(self) -> None:
        self.store.close()
        self.lock.release()


def open_state_dir(settings: Settings) -> StateDir:
    """Lock the state directory first (nothing touches it before), then open the store."""
    state_dir = settings.state_dir
    try:
        lock = StateDirLock.acquire(state_dir)
    except StateDirBusy as error:
        raise StartupError(str(error), EXIT_STATE_DIR_BUSY) from None
    except OSError as error:
        raise StartupError(unusable(state_dir, error), EXIT_STATE_DIR_UNUSABLE) from None
    try:
        store = Store.open(settings.database_path)
    except SchemaTooNew as error:
        lock.release()
        raise StartupError(
            f"cannot open {settings.database_path}: {error}. The database was used by a newer "
            "Slipway: run that version, or restore a backup made with this one "
            "(docs/webhook.md, 'Troubleshooting').",
            EXIT_STATE_DIR_UNUSABLE,
        ) from None
    except (OSError, sqlite3.Error) as error:
        lock.release()
        raise StartupError(unusable(state_dir, error), EXIT_STATE_DIR_UNUSABLE) from None
    return StateDir(lock, store)


def unusable(state_dir: object, error: BaseException) -> str:
    return (
        f"cannot use the state directory {state_dir}: {error}. Make it a writable directory "
        "on a local disk for the user running the service, or set SLIPWAY_STATE_DIR."
    )
