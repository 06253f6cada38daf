"""Lock files of a self-managed (file://) Pulumi backend, and whether their holder lives."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LockFile:
    path: Path
    pid: int | None
    username: str
    hostname: str

    @property
    def holder(self) -> str:
        return f"{self.username}@{self.hostname} (pid {self.pid})"


def read_lock(path: Path) -> LockFile:
    """A lock file of a self-managed backend (`{pid, username, hostname, timestamp}`)."""
    try:
        info = json.loads(path.read_text())
        pid = int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return LockFile(path, None, "unknown", "unknown")
    return LockFile(path, pid, str(info.get("username", "?")), str(info.get("hostname", "?")))


def process_alive(pid: int) -> bool:
    """Whether `pid` runs. A zombie (killed, not yet reaped by its new parent) holds nothing:
    after `kill -9` of a service and its children, the Pulumi CLI stays one for a while."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc (not Linux) or gone meanwhile: os.kill said it exists
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"
