"""One service per state directory: an exclusive `flock` on `<state dir>/slipway.lock`.

The kernel releases the lock when its process ends, however it ends, so a lock left by a
dead process is simply taken over. The file's content (pid, host, start time) only names
the holder in the message a second process prints.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

LOCK_NAME = "slipway.lock"


class StateDirBusy(RuntimeError):
    """Another live process holds the state directory; the message names it and the fix."""


@dataclass(frozen=True)
class Holder:
    pid: int | None
    host: str
    since: str

    def describe(self) -> str:
        pid = f"pid {self.pid}" if self.pid is not None else "unknown pid"
        return f"{pid} on {self.host or 'an unknown host'}, since {self.since or 'unknown'}"


def parse_holder(text: str) -> Holder:
    """The holder named in a lock file; unknown fields when it is empty or damaged."""
    try:
        data = json.loads(text)
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    pid = data.get("pid")
    return Holder(
        pid=pid if isinstance(pid, int) else None,
        host=str(data.get("host", "")),
        since=str(data.get("since", "")),
    )


def busy_message(state_dir: Path, holder: Holder) -> str:
    return (
        f"the state directory {state_dir} is in use by another Slipway service "
        f"({holder.describe()}). Run one service per state directory: stop that one "
        "first, or give this one its own SLIPWAY_STATE_DIR."
    )


@dataclass
class StateDirLock:
    """Held for the life of the process (or until `release`)."""

    path: Path
    handle: IO[str]

    @classmethod
    def acquire(cls, state_dir: Path) -> StateDirLock:
        """Take the lock or raise StateDirBusy at once (never waits). OSError when the
        directory cannot be created or written."""
        state_dir.mkdir(parents=True, exist_ok=True)
        path = state_dir / LOCK_NAME
        handle = path.open("a+", encoding="utf-8")  # a+: never truncates the holder's info
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = parse_holder(handle.read())
            handle.close()
            raise StateDirBusy(busy_message(state_dir, holder)) from None
        except BaseException:
            handle.close()
            raise
        since = datetime.now(UTC).isoformat(timespec="seconds")
        handle.seek(0)
        handle.truncate()
        json.dump({"pid": os.getpid(), "host": socket.gethostname(), "since": since}, handle)
        handle.flush()
        return cls(path, handle)

    def release(self) -> None:
        """Unlock (the file stays: unlinking it would race with a process opening it)."""
        if not self.handle.closed:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
