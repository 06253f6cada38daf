"""Docker Compose's resolved model as a SwarmPlan (pure: I/O comes in through `SwarmFacts`).

Input is `docker compose config --format json` (the same model the single-engine target
reads, components/compose_stack/reader.py). Every problem is collected and raised together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.compose_stack.report import ComposeTranslationError
from components.compose_stack.values import unescape
from components.swarm_stack import routed
from components.swarm_stack.plan import SwarmFile, SwarmNetwork, SwarmPlan
from components.swarm_stack.rules import TOP_LEVEL_KEYS
from components.swarm_stack.service import STACK_LABEL, swarm_service


@dataclass(frozen=True)
class SwarmFacts:
    """What translation reads from this machine: secret and config files, the environment."""

    read_file: Callable[[str], bytes] = lambda path: b""
    environ: Mapping[str, str] = field(default_factory=dict)


def translate_swarm(
    model: Mapping[str, Any], project: str, facts: SwarmFacts, registry: str | None = None
) -> SwarmPlan:
    """The SwarmPlan of `project`; raises ComposeTranslationError listing every problem.
    `registry` (`slipway:registry`): where `build:` images are pushed."""
    problems: list[str] = []
    warnings: list[str] = []
    top = unescape(model)
    for key in sorted(k for k in top if k not in TOP_LEVEL_KEYS and not k.startswith("x-")):
        problems.append(f"top-level `{key}` is not supported on Swarm by Slipway")
    networks = [
        _network(k, v or {}, project, problems) for k, v in (top.get("networks") or {}).items()
    ]
    secrets = [
        _file("secret", k, v or {}, facts, problems) for k, v in (top.get("secrets") or {}).items()
    ]
    configs = [
        _file("config", k, v or {}, facts, problems) for k, v in (top.get("configs") or {}).items()
    ]
    volumes = top.get("volumes") or {}
    services = [
        swarm_service(name, spec or {}, project, volumes, problems, warnings, registry)
        for name, spec in (top.get("services") or {}).items()
    ]
    routing = routed.parse(top, top.get("services") or {}, problems)
    if problems:
        raise ComposeTranslationError(problems)
    plan = SwarmPlan(project, networks, secrets, configs, services, warnings, routing)
    routed.attach_proxy(plan)
    return plan


def _network(key: str, spec: Mapping[str, Any], project: str, problems: list[str]) -> SwarmNetwork:
    name = spec.get("name") or f"{project}_{key}"
    if spec.get("external"):
        return SwarmNetwork(key, name, external=True)
    driver = spec.get("driver") or "overlay"
    if driver != "overlay":
        problems.append(
            f"network `{key}`: driver `{driver}` does not span Swarm nodes; use `overlay` "
            "(the default on Swarm), or an external network"
        )
    args: dict[str, Any] = {
        "name": name,
        "driver": "overlay",
        "labels": [{"label": STACK_LABEL, "value": project}]
        + [{"label": k, "value": str(v)} for k, v in sorted((spec.get("labels") or {}).items())],
    }
    for source, target in (("attachable", "attachable"), ("internal", "internal"),
                           ("enable_ipv6", "ipv6")):  # fmt: skip
        if spec.get(source):
            args[target] = True
    if spec.get("driver_opts"):
        args["options"] = {k: str(v) for k, v in spec["driver_opts"].items()}
    pools = (spec.get("ipam") or {}).get("config") or []
    if pools:
        args["ipam_configs"] = [
            {k: v for k, v in pool.items() if k in ("subnet", "gateway", "ip_range")}
            for pool in pools
        ]
    return SwarmNetwork(key, name, external=False, args=args)


def _file(kind: str, key: str, spec: Mapping[str, Any], facts: SwarmFacts, problems) -> SwarmFile:
    name = spec.get("name") or key
    if spec.get("external"):
        problems.append(
            f"{kind} `{key}`: external {kind}s are not supported on Swarm by Slipway yet "
            f"(the provider needs its id); declare it with `file:` or `environment:`"
        )
        return SwarmFile(key, name, b"", external=True)
    if spec.get("file"):
        content = facts.read_file(spec["file"])
    elif spec.get("environment"):
        value = facts.environ.get(spec["environment"])
        if value is None:
            problems.append(
                f"{kind} `{key}`: the variable {spec['environment']} is not set where the "
                "program runs; set it, or use `file:`"
            )
        content = (value or "").encode()
    elif spec.get("content") is not None:
        content = str(spec["content"]).encode()
    else:
        problems.append(f"{kind} `{key}`: give `file:`, `environment:` or `content:`")
        content = b""
    # Swarm never updates a secret's or config's data: new content gets a new name.
    digest = hashlib.sha256(content).hexdigest()[:10]
    return SwarmFile(key, f"{name}-{digest}", content)
