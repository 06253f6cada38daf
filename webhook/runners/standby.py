"""A stack child started ahead of time: its interpreter and imports are ready when the next
operation of the stack comes (the rollback after a failed `up`, the tag after a healthy one,
the next deployment's `up` after a tag; automation.py `Spares` keeps one per stack).

Each operation is a child process (automation.py); before the Pulumi CLI can start, that
child spends 0.3 s (1-2 s on a loaded machine) starting Python and importing
`webhook.runners.stack_process` (the Automation API, gRPC). A standby does that while the
service does something else (checks health, waits for a push), then waits on its stdin for
one line:
`{"argv": [...], "env": {...}}`, takes that environment as its own and runs
`stack_process.main(argv)` exactly as a fresh child would. It imports nothing of the
commit (the program's modules are imported after the line, from the checkout), so a commit
never runs with another's code. An unused standby ends when its stdin closes (after 10
minutes unused, or when the service stops).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Set by the service for each `up` (a path of this deployment's): not part of the match.
LATE_ENV = ("SLIPWAY_COMPOSE_RENDER",)


def base_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` without the variables a standby may take late (`LATE_ENV`)."""
    return {k: v for k, v in env.items() if k not in LATE_ENV}


@dataclass
class Standby:
    """One waiting child, started with `command` in `cwd` with environment `env`."""

    process: subprocess.Popen
    env: dict[str, str]
    expiry: threading.Timer | None = None  # ends it unused (automation.py `Spares`)

    @classmethod
    def start(cls, command: Sequence[str], cwd: Path, env: Mapping[str, str]) -> Standby:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=dict(env), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        return cls(process, base_env(env))

    def fits(self, env: Mapping[str, str]) -> bool:
        """Whether this child can run an operation meant for `env` (and is still waiting)."""
        return self.process.poll() is None and self.env == base_env(env)

    def hand(self, argv: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen:
        """Give the waiting child its operation; the process, as if just started."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"argv": list(argv), "env": dict(env)}) + "\n")
        self.process.stdin.flush()
        return self.process

    def close(self) -> None:
        """End an unused standby: it leaves when its stdin closes (reaped in a thread, so
        the caller never waits for its imports to finish)."""
        if self.expiry is not None:
            self.expiry.cancel()
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        threading.Thread(target=self.process.wait, daemon=True).start()


def main() -> None:
    """The child's side: imports, then one operation from stdin (none on EOF)."""
    from webhook.runners import stack_process  # the imports a fresh child pays for

    line = sys.stdin.readline()
    if not line.strip():
        stack_process.exit_now(0)
    order = json.loads(line)
    os.environ.clear()
    os.environ.update(order["env"])
    stack_process.exit_now(stack_process.main(order["argv"]))


if __name__ == "__main__":
    main()
