"""What keeps the service from deploying, as `/readyz` and the deploy client show it.

A `Problem` names what is wrong and the fix. The queue reports its problems (no repository
configured, a missing command, a recovery that failed); nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from components.atomic_write import make_writable_command

RUNBOOK = "docs/runbook.md"


@dataclass(frozen=True)
class Problem:
    """One degraded part: `check` is a stable name, `problem` and `fix` are for people."""

    check: str
    problem: str
    fix: str
    blocks_deploys: bool = True

    def message(self) -> str:
        return f"{self.problem}; {self.fix}"

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


NO_REPOSITORY = Problem(
    "repository",
    "SLIPWAY_REPO_URL is not set, so nothing deploys: requests are recorded and stay queued",
    "set SLIPWAY_REPO_URL to the repository to deploy and restart the service; the queued "
    f"requests run then ({RUNBOOK})",
)

COMMANDS = {
    "pulumi": Problem(
        "pulumi_cli",
        "the Pulumi CLI (`pulumi`) is not on the service's PATH",
        "install it (https://www.pulumi.com/docs/install/) into a directory on the service's "
        "PATH, or add its directory to PATH (docs/install.md), then deploy again",
    ),
    "git": Problem(
        "git",
        "`git` is not on the service's PATH",
        "install git (Debian: apt-get install git), then deploy again",
    ),
}


def unwritable_binds_folder(folder: str, uid: int) -> Problem:
    """The stacks' binds folder exists but this service may not write it."""
    return Problem(
        "binds_folder",
        f"the binds folder {folder} is not writable by this service (uid {uid}): a stack whose "
        "Compose files bind paths of the repository, or that routes services through the "
        "proxy, fails to deploy; others deploy",
        f"on the Docker host, {make_writable_command(folder, uid)} (docs/compose-support.md, "
        "'Binds of the project folder under the deploy service')",
        blocks_deploys=False,
    )


def missing_commands(
    commands: Sequence[str], path: str | None, which: Callable[..., str | None]
) -> list[Problem]:
    """A Problem for each of `commands` that `which(name, path=path)` does not find."""
    return [COMMANDS[name] for name in commands if which(name, path=path) is None]


@dataclass(frozen=True)
class Recovered:
    """What the recovery at start did for one deployment, e.g. `interrupted; lock released;
    cleared 1 pending operation`."""

    deployment: int
    stack: str
    recovery: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def readiness_json(
    problems: Sequence[Problem], checked_at: str, recovered: Sequence[Recovered] = ()
) -> dict[str, Any]:
    """The body of a 200 `/readyz`: `ready`, or `degraded` with each problem and its fix;
    `recovered`: what the recovery at this start did (until the next start)."""
    return {
        "status": "degraded" if problems else "ready",
        "checked_at": checked_at,
        "degraded": [problem.as_json() for problem in problems],
        "recovered": [item.as_json() for item in recovered],
    }
