"""Refuse app stacks whose Compose files would run the deploy service itself.

The webhook service runs `pulumi up` on app stacks. If an app stack's Compose files also
defined the service, that `up` would replace the container running it, half-way. The service
belongs to the control stack (DeployService); this finds Compose services that look like it.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from components.deploy_service.roles import PROXY_ROLE, ROLE_LABEL, SERVICE_ROLE

if TYPE_CHECKING:
    from components.compose_stack import StackPlan

IMAGE_REPOSITORY = "slipway-webhook"  # DeployServiceArgs.image_name's repository


def deploy_service_signs(
    *, image: str, container_names: list[str], args: dict[str, Any], prefix: str = "slipway"
) -> list[str]:
    """Why a Compose service looks like the Slipway webhook service or its proxy (empty: it
    does not). `image`, `container_names` and `args` come from its ServicePlan; `prefix` is
    DeployServiceArgs.name_prefix."""
    signs = []
    envs = [str(line).split("=", 1)[0] for line in args.get("envs") or []]
    if "SLIPWAY_WEBHOOK_SECRET" in envs:
        signs.append("sets SLIPWAY_WEBHOOK_SECRET")
    for key in ("entrypoints", "command"):
        words = [str(w) for w in args.get(key) or []]
        if any(a == "webhook" and b == "serve" for a, b in itertools.pairwise(words)):
            signs.append(f"runs `{' '.join(words)}`")
    for label in args.get("labels") or []:
        if label.get("label") == ROLE_LABEL and label.get("value") in (SERVICE_ROLE, PROXY_ROLE):
            signs.append(f"carries the label {ROLE_LABEL}={label['value']}")
    repository = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    if repository == IMAGE_REPOSITORY:
        signs.append(f"uses the image {image}")
    taken = {f"{prefix}-webhook", f"{prefix}-caddy"} & set(container_names)
    if taken:
        signs.append(f"takes the container name {', '.join(sorted(taken))}")
    return signs


def deploy_service_problems(plan: StackPlan) -> list[str]:
    """One problem per Compose service of `plan` that would run the deploy service."""
    problems = []
    for service in plan.services:
        signs = deploy_service_signs(
            image=service.image.name,
            container_names=list(service.container_names),
            args=service.args,
        )
        if signs:
            problems.append(
                f"slipway:composeFiles: Compose service `{service.name}` runs the Slipway deploy "
                f"service ({'; '.join(signs)}). The service updates app stacks and must not "
                "be part of one (an `up` it runs would replace it mid-way): remove it from the "
                "Compose files and run it from the control stack, `pulumi up -s control` "
                "(see docs/install.md#stack-roles)"
            )
    return problems
