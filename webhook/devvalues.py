"""`serve --dev` (`make serve`): a webhook secret and an API token for local use.

A value set in the environment or in `.env` is used as it is (read the way `Settings` reads
them). Only a value set in neither is taken from `<state dir>/dev-…`, generated there once
(mode 600). One line per value says where it comes from; the values themselves are never
printed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from webhook.settings import DeploySettings, raw_variables


@dataclass(frozen=True)
class DevValue:
    variable: str
    field: str
    file_name: str
    what: str


DEV_VALUES = (
    DevValue("SLIPWAY_WEBHOOK_SECRET", "webhook_secret", "dev-webhook-secret", "webhook secret"),
    DevValue("SLIPWAY_API_TOKEN", "api_token", "dev-api-token", "API token"),
)


def source(variable: str, environ: Mapping[str, str]) -> str:
    """Where a value that is set comes from: the environment wins over `.env`."""
    names = {name.upper() for name, value in environ.items() if value.strip()}
    return "the environment" if variable in names else ".env"


def provide(environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """The values to add to the environment, and one line per value for the operator."""
    environ = os.environ if environ is None else environ
    given = raw_variables(environ)  # by the same rules as `Settings`
    state_dir = Path(given.get("SLIPWAY_STATE_DIR", DeploySettings().state_dir))
    values: dict[str, str] = {}
    lines = []
    for dev in DEV_VALUES:
        if given.get(dev.variable, "").strip():
            lines.append(f"make serve: {dev.variable} from {source(dev.variable, environ)}")
            continue
        path = state_dir / dev.file_name
        created = _create_once(path)
        values[dev.variable] = path.read_text().strip()
        verb = "generated" if created else "using the one generated earlier,"
        lines.append(
            f"make serve: {dev.variable} is set neither in the environment nor in .env: "
            f"{verb} a development {dev.what} kept in {path} (read it with `cat {path}`)"
        )
    return values, lines


def _create_once(path: Path) -> bool:
    """Write a fresh random value to `path` (mode 600) unless it has one; True if written."""
    if path.is_file() and path.read_text().strip():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # an empty file left by an interrupted run
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another `make serve` wrote it just now
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return True
