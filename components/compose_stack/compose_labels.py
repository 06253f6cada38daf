"""Docker Compose's bookkeeping labels, so `docker compose ps/logs -p <project>` see the stack.

Compose finds a project's containers, networks and volumes by these labels. Slipway sets
the ones that say what a resource is (project, service, number, network or volume key,
where the files are, the Compose version), and `com.docker.compose.config-hash` as Compose
itself computes it (`docker compose config --hash`): Compose 2.x and later list only
containers that carry it (`ps`, `logs`, `top`, `ls`), and compare it with their own hash to
decide what `docker compose up` would recreate.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PREFIX = "com.docker.compose"


def project_labels(working_dir: str, config_files: list[str], version: str) -> dict[str, str]:
    """Labels every container of the project carries (values Slipway's I/O side knows)."""
    out = {
        f"{PREFIX}.project.working_dir": working_dir,
        f"{PREFIX}.project.config_files": ",".join(config_files),
    }
    if version:
        out[f"{PREFIX}.version"] = version
    return out


def container_labels(
    project: str,
    service: str,
    number: int,
    depends_on: Mapping[str, Any],
    base: Mapping[str, str],
    config_hash: str | None = None,
) -> dict[str, str]:
    """Labels of container `number` (from 1) of `service`, as `docker compose up` sets them
    (`config_hash`: Compose's hash of the service, None when unknown)."""
    dependencies = [
        f"{name}:{(dep or {}).get('condition', 'service_started')}:"
        f"{str(bool((dep or {}).get('restart'))).lower()}"
        for name, dep in sorted(depends_on.items())
    ]
    hashed = {f"{PREFIX}.config-hash": config_hash} if config_hash else {}
    return {
        **base,
        **hashed,
        f"{PREFIX}.project": project,
        f"{PREFIX}.service": service,
        f"{PREFIX}.container-number": str(number),
        f"{PREFIX}.oneoff": "False",
        f"{PREFIX}.depends_on": ",".join(dependencies),
    }


def resource_labels(project: str, kind: str, key: str | None, version: str) -> dict[str, str]:
    """Labels of a network (`kind` network) or volume (`kind` volume) of the project; an
    anonymous volume has no `key`."""
    out = {f"{PREFIX}.project": project}
    if key is not None:
        out[f"{PREFIX}.{kind}"] = key
    if version:
        out[f"{PREFIX}.version"] = version
    return out


def merged(entries: list[dict[str, str]] | None, labels: Mapping[str, str]) -> list[dict]:
    """Provider label entries: the Compose file's `entries`, then `labels` (which win)."""
    values = {e["label"]: e["value"] for e in entries or []}
    values.update(labels)
    return [{"label": k, "value": v} for k, v in sorted(values.items())]
