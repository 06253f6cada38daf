"""The Swarm plan: what SwarmStack declares, as plain data (no Pulumi calls).

`translate.translate_swarm` builds it from Docker Compose's resolved model. `args` hold
ready keyword inputs of the pulumi-docker constructors; networks, secrets and configs
that services use stay symbolic (Compose keys) so that the component wires real outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.compose_stack.routes import Routing


@dataclass(frozen=True)
class SwarmNetwork:
    key: str  # Compose key (`default`)
    name: str  # Docker name (`<project>_default`, or the external name)
    external: bool
    args: dict[str, Any] = field(default_factory=dict)  # docker.Network keywords


@dataclass(frozen=True)
class SwarmFile:
    """A Swarm secret or config. `name` carries a digest of the content: Swarm never changes
    one in place, so new content is a new object, created before the services switch."""

    key: str
    name: str
    content: bytes
    external: bool = False


@dataclass(frozen=True)
class FileUse:
    """A service's use of a secret or config: which (`key`) and where in the container."""

    key: str
    file_name: str
    uid: str = "0"
    gid: str = "0"
    mode: int = 0o444


@dataclass(frozen=True)
class SwarmBuild:
    """A service's `build:`, pushed to the stack's registry (images.py)."""

    repository: str  # `<registry host>/<name>`, without a tag
    args: dict[str, Any]  # the build settings, as components/compose_stack plans them


@dataclass
class SwarmService:
    name: str  # Compose service name
    service_name: str  # Swarm's (`<project>_<service>`, as docker stack deploy names it)
    args: dict[str, Any]  # docker.Service keywords; task_spec without networks/secrets/configs
    networks: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (key, aliases)
    secrets: list[FileUse] = field(default_factory=list)
    configs: list[FileUse] = field(default_factory=list)
    build: SwarmBuild | None = None  # built and pushed; the image is then its digest


@dataclass
class SwarmPlan:
    project: str
    networks: list[SwarmNetwork]
    secrets: list[SwarmFile]
    configs: list[SwarmFile]
    services: list[SwarmService]
    warnings: list[str] = field(default_factory=list)
    routing: Routing | None = None  # x-slipway: routed services (routed.py)

    def service(self, name: str) -> SwarmService:
        return next(s for s in self.services if s.name == name)

    def routed_services(self) -> list[SwarmService]:
        routes = self.routing.routes if self.routing else {}
        return [s for s in self.services if s.name in routes]
