"""The plan: what the ComposeStack component declares, as plain data (no Pulumi calls).

`translate.translate_model` builds it from Docker Compose's resolved model; the component
turns it into pulumi-docker resources. Keyword dictionaries (`args`) hold ready inputs for
the pulumi-docker constructors; references to other resources (networks, volumes,
containers) stay symbolic so that the component can wire real resource outputs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class NetworkPlan:
    key: str  # the Compose key (`backend`)
    name: str  # the Docker name (`<project>_backend`, or the external name)
    external: bool
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VolumePlan:
    key: str
    name: str
    external: bool
    args: dict[str, Any] = field(default_factory=dict)


def anonymous_volume_name(container: str, target: str) -> str:
    """The Docker volume that holds `container`'s anonymous volume at `target`.

    Deterministic, so a replacement container mounts the same volume again (Compose re-attaches
    anonymous volumes when it recreates a container); readable, with a hash for uniqueness.
    """
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", target).strip("-") or "root"
    digest = hashlib.sha256(target.encode()).hexdigest()[:8]
    return f"{container}_{slug}-{digest}"


@dataclass(frozen=True)
class ImagePlan:
    name: str  # image reference (`postgres:16-alpine`, or `<project>-<service>` for builds)
    build: dict[str, Any] | None = None  # DockerBuildArgs keywords when the service builds
    platform: str | None = None


@dataclass(frozen=True)
class NetworkAttachment:
    network: str  # Compose network key
    aliases: tuple[str, ...]
    args: dict[str, Any] = field(default_factory=dict)  # ipv4_address, mac_address, ...


@dataclass(frozen=True)
class Mount:
    """A `volumes` entry: named volume (`volume`), anonymous, host bind or `volumes_from`."""

    kind: Literal["volume", "anonymous", "bind", "from_service", "from_container"]
    container_path: str | None = None
    source: str | None = None  # volume key, host path, service or container name
    read_only: bool = False
    selinux_relabel: str | None = None
    no_copy: bool = False  # `volume.nocopy`: do not copy the image's files into the volume
    subpath: str | None = None  # `volume.subpath`: mount a folder of the volume
    propagation: str | None = None  # `bind.propagation`

    @property
    def needs_mount_api(self) -> bool:
        """Options only the provider's `mounts` input has (its `volumes` input lacks them)."""
        return self.no_copy or bool(self.subpath or self.propagation)


@dataclass(frozen=True)
class Upload:
    """A file copied into the container before it starts (read-only project files,
    secrets, configs). Exactly one of `source` (a local path) and `content` is set."""

    target: str
    source: str | None = None
    content: str | None = None
    secret: bool = False
    owner: str | None = None
    group: str | None = None
    permissions: str | None = None


@dataclass(frozen=True)
class ProjectCopy:
    """A bind of a project folder path kept in the stack's binds folder (under the deploy
    service, whose checkouts are removed after each job): the commit's files at `checkout`
    are copied to `kept` at each `up` (components/compose_stack/project_binds.py)."""

    checkout: str  # the path in this job's checkout
    kept: str  # the same relative path in the binds folder: the bind's source


@dataclass(frozen=True)
class Dependency:
    service: str
    condition: Literal["started", "healthy", "completed"]


@dataclass
class ServicePlan:
    name: str
    image: ImagePlan
    container_names: list[str]
    args: dict[str, Any]  # docker.Container keywords except image/networks/volumes/uploads
    networks: list[NetworkAttachment] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    project_copies: list[ProjectCopy] = field(default_factory=list)
    depends_on: list[Dependency] = field(default_factory=list)
    network_mode_service: str | None = None  # `service:<name>` network mode
    wait_healthy: bool = False  # a dependant waits for this service to be healthy
    run_to_completion: bool = False  # a dependant waits for this service to exit
    wait_timeout: int | None = None
    replica_args: list[dict[str, Any]] = field(default_factory=list)  # per container (labels)


@dataclass
class StackPlan:
    project: str
    networks: list[NetworkPlan]
    volumes: list[VolumePlan]
    services: list[ServicePlan]  # dependencies before dependants
    warnings: list[str] = field(default_factory=list)
    routing: Any = None  # routes.Routing: services behind Slipway's proxy (`x-slipway`)

    def service(self, name: str) -> ServicePlan:
        return next(s for s in self.services if s.name == name)
