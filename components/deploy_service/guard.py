"""Refuse app stacks whose Compose files would run the deploy service itself.

The webhook service runs `pulumi up` on app stacks. If an app stack's Compose files also
defined the service, that `up` would replace the container running it, half-way. The service
belongs to the control stack (DeployService); this finds Compose services that look like it.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components.deploy_service.component import PROXY_ROLE, ROLE_LABEL, SERVICE_ROLE

if TYPE_CHECKING:
    from components.compose_stack import StackPlan

IMAGE_REPOSITORY = "slipway-webhook"  # DeployServiceArgs.image_name's repository


def deploy_service_signs(
    *,
    image: str,
    build: dict[str, Any] | None,
    args: dict[str, Any],
    dockerfile: Path,
) -> list[str]:
    """Why a Compose service looks like the Slipway webhook service (empty: it does not).

    `dockerfile` is the repository's service Dockerfile; `image`, `build` and `args` are the
    service's image reference, build arguments and container arguments (ServicePlan).
    """
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
    if build is not None:
        context = Path(str(build.get("context", ".")))
        built = Path(str(build.get("dockerfile") or context / "Dockerfile"))
        if built.resolve() == dockerfile.resolve():
            signs.append(f"builds {dockerfile.name} of this repository")
    return signs


def deploy_service_problems(plan: StackPlan, repo_root: Path) -> list[str]:
    """One problem per Compose service of `plan` that would run the deploy service."""
    problems = []
    for service in plan.services:
        signs = deploy_service_signs(
            image=service.image.name,
            build=service.image.build,
            args=service.args,
            dockerfile=repo_root / "Dockerfile",
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
