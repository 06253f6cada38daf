"""Which `SLIPWAY_*` names exist: the settings, and the variables other programs read.

`SETTINGS` maps each variable to its (group, field); `unknown_setting_problem` turns a name
that is neither into the error the service stops with, naming the closest valid one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from webhook.settings.groups import (
    DeploySettings,
    GitHubSettings,
    Group,
    HttpSettings,
    OrchestratorSettings,
)

PREFIX = "SLIPWAY_"
DOC = "docs/settings.md"

# Attribute of `Settings` → its group, in the order docs/settings.md shows them.
GROUPS: dict[str, type[Group]] = {
    "http": HttpSettings,
    "deploy": DeploySettings,
    "github": GitHubSettings,
    "orchestrator": OrchestratorSettings,
}

# `SLIPWAY_*` variables that are not the service's settings: other Slipway programs read them.
# They may be in the service's environment (a developer's shell, CI), so they are not refused.
OTHER_PROGRAMS: dict[str, str] = {
    "SLIPWAY_URL": "deploy client (deploy_client/): the service's base URL",
    "SLIPWAY_TOKEN": "deploy client: the service's API token",
    "SLIPWAY_HEALTH_URLS": "deploy client `health`: URLs to check",
    "SLIPWAY_DOCKER_COMPOSE": "stack program: the docker-compose binary to run",
    "SLIPWAY_BINDS_DIR": "stack program: set by the service for each `up` (binds folder)",
    "SLIPWAY_COMPOSE_RENDER": "stack program: set by the service for each `up` (Compose render)",
    "SLIPWAY_GIT_USERNAME": "git's askpass helper: set by the service for each git run",
    "SLIPWAY_GIT_PASSWORD": "git's askpass helper: set by the service for each git run",
    "SLIPWAY_CACHE_DIR": "scripts and tests: the toolchain and engine cache",
    "SLIPWAY_DEBIAN_MIRROR": "scripts/debian-base-image.sh: the Debian mirror",
    "SLIPWAY_VPS_LAB_PORT": "scripts/vps-lab.sh",
    "SLIPWAY_VPS_SSH_KEY": "scripts/vps-lab.sh",
    "SLIPWAY_VPS_SSH_CONFIG": "scripts/vps-lab.sh",
    "SLIPWAY_VPS_KNOWN_HOSTS": "scripts/vps-lab.sh",
    "SLIPWAY_OBJECT_STORE_PORT": "scripts/object-store.sh",
    "SLIPWAY_OBJECT_STORE_BUCKET": "scripts/object-store.sh",
    "SLIPWAY_MOTO_SERVER": "scripts/object-store.sh",
    "SLIPWAY_SWARM_LAB_DIR": "scripts/swarm-lab.sh: the lab's folder",
    "SLIPWAY_SWARM_LAB_IMAGES": "scripts/swarm-lab.sh: images loaded into every node",
    "SLIPWAY_SWARM_LAB_NAME": "scripts/swarm-lab.sh: the lab's name (two labs side by side)",
    "SLIPWAY_SWARM_LAB_NET": "scripts/swarm-lab.sh: the lab's bridge network",
    "SLIPWAY_BENCH_NO_WRITE": "bench/: print the tables, leave docs/performance.md alone",
    "SLIPWAY_TRIAL_HOST": "scripts/control.sh (make control-up): the trial's host name",
    "SLIPWAY_TRIAL_APP_STACK": "scripts/control.sh: the app stack the trial's service deploys",
    "SLIPWAY_TRIAL_APP_PORT": "scripts/control.sh: the trial app's web port",
    "SLIPWAY_TRIAL_GIT_PORT": "scripts/control.sh: the trial's git daemon port",
    "SLIPWAY_TRIAL_STORE_PORT": "scripts/control.sh: the trial's object store port",
    "SLIPWAY_TRIAL_HOOK_RATE_LIMIT": "scripts/control.sh: the trial service's hook rate limit",
    "SLIPWAY_REQUIRE_REAL": "tests: a missing CLI, engine or browser fails instead of skipping",
    "SLIPWAY_REQUIRE_CORPUS": "tests: the Compose corpus is required",
    "SLIPWAY_SHARED_DIR": "tests: where the Compose corpus is",
    "SLIPWAY_CHROMIUM": "tests: the browser to drive",
    "SLIPWAY_SCREENSHOT_DIR": "tests: where browser screenshots go",
    "SLIPWAY_PROPERTY_EXAMPLES": "tests: examples per property-based test",
    "SLIPWAY_TEST_TOKEN": "tests: a token for the GitHub program's tests",
}


def variable(field: str) -> str:
    """The environment variable of a settings field: `port` → `SLIPWAY_PORT`."""
    return PREFIX + field.upper()


def setting(field: str) -> str:
    """The variable of the settings field `field`; KeyError when no group has that field."""
    name = variable(field)
    if name not in SETTINGS:
        raise KeyError(f"{field!r} is not a settings field ({DOC} lists them)")
    return name


def _index() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for group, model in GROUPS.items():
        for field in model.model_fields:
            name = variable(field)
            if name in found or name in OTHER_PROGRAMS:
                raise RuntimeError(f"{name} is defined twice (group {group} and elsewhere)")
            found[name] = (group, field)
    return found


SETTINGS: dict[str, tuple[str, str]] = _index()
"""Every setting's variable → (group attribute of `Settings`, field name)."""


def closest(name: str, candidates: Iterable[str] = SETTINGS) -> str | None:
    """The valid name `name` most likely misspells, if any is close enough."""
    found = difflib.get_close_matches(name.upper(), list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_setting_problem(name: str) -> str:
    """The message for a `SLIPWAY_` name that is not a setting."""
    guess = closest(name)
    hint = f"did you mean {guess}? " if guess else ""
    return f"{name} is not a setting; {hint}({DOC} lists them)"


def unknown_names(names: Iterable[str]) -> list[str]:
    """The `SLIPWAY_` names (any case) among `names` that neither the service nor another
    Slipway program reads, in the order given."""
    return [
        name
        for name in names
        if name.upper().startswith(PREFIX)
        and name.upper() not in SETTINGS
        and name.upper() not in OTHER_PROGRAMS
    ]
