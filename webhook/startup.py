"""What `serve` does before the app exists: lock the state directory, bind the port, check
that the database can be opened. A start that cannot work stops here and touches nothing.

Each way this can fail becomes a `StartupError`: one message naming the problem and the fix,
and the exit code documented in docs/webhook.md ("Run it").
"""

from __future__ import annotations

import socket
import sqlite3
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from webhook.http.unwritable import unwritable_reason
from webhook.settings import Settings
from webhook.statelock import StateDirBusy, StateDirLock
from webhook.store import SchemaTooNew, Store

EXIT_NOT_LISTENING = 3  # also uvicorn's code for a startup that failed
EXIT_STATE_DIR_BUSY = 4
EXIT_STATE_DIR_UNUSABLE = 5


class StartupError(Exception):
    """The service cannot start; `str()` is the whole message for the operator."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Prepared:
    """The locked state directory and the bound socket, for the life of the service."""

    lock: StateDirLock
    listener: socket.socket

    def close(self) -> None:
        self.listener.close()
        self.lock.release()


def prepare(settings: Settings) -> Prepared:
    """Lock the state directory, bind the address, check the database; in this order, so
    that a second service or a taken port stops before anything else happens."""
    with ExitStack() as undo:
        lock = lock_state_dir(settings.deploy.state_dir)
        undo.callback(lock.release)
        listener = listen_socket(settings.http.host, settings.http.port)
        undo.callback(listener.close)
        check_database(settings.database_path)
        undo.pop_all()
    return Prepared(lock, listener)


def lock_state_dir(state_dir: Path) -> StateDirLock:
    try:
        return StateDirLock.acquire(state_dir)
    except StateDirBusy as error:
        raise StartupError(str(error), EXIT_STATE_DIR_BUSY) from None
    except OSError as error:
        raise StartupError(unusable(state_dir, error), EXIT_STATE_DIR_UNUSABLE) from None


def listen_socket(host: str, port: int) -> socket.socket:
    """The service's listening socket, bound now (uvicorn serves on it)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise StartupError(
            f"cannot listen on {host}:{port}: {error.strerror or error}. Stop the process that "
            "uses it, or choose another address or port (--host/--port, SLIPWAY_HOST/"
            "SLIPWAY_PORT).",
            EXIT_NOT_LISTENING,
        ) from None
    return sock


def check_database(path: Path) -> None:
    """Open (creating or migrating) the database, commit one tiny write (a read-only file
    opens fine and fails only at its first write), close it; the app opens it again."""
    try:
        with Store.open(path) as store:
            store.check_writable()
    except SchemaTooNew as error:
        raise StartupError(
            f"cannot open {path}: {error}. The database was used by a newer Slipway: run that "
            "version, or restore a backup made with this one (docs/webhook.md, "
            "'Troubleshooting').",
            EXIT_STATE_DIR_UNUSABLE,
        ) from None
    except (OSError, sqlite3.Error, RuntimeError) as error:  # e.g. WAL refused
        reason = unwritable_reason(error)
        if reason is not None:  # full disk, read-only file or disk
            raise StartupError(
                f"cannot write the database {path}: {reason}. Free space on its disk, or make "
                "the file, its directory and its disk writable for the user running the "
                "service, or set SLIPWAY_STATE_DIR.",
                EXIT_STATE_DIR_UNUSABLE,
            ) from None
        raise StartupError(unusable(path.parent, error), EXIT_STATE_DIR_UNUSABLE) from None


def unusable(state_dir: object, error: BaseException) -> str:
    return (
        f"cannot use the state directory {state_dir}: {error}. Make it a writable directory "
        "on a local disk for the user running the service, or set SLIPWAY_STATE_DIR."
    )
