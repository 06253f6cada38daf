"""Images on many nodes: a `build:` is built once on the manager, pushed to the stack's
registry (`slipway:registry`) and deployed by digest, so every node pulls the same bits.

`service_image` is pure (what the plan holds); `pushed_image` declares the build
(`docker.RemoteImage`, as on one engine, components/compose_stack/images.py) and the push
(`docker.RegistryImage`, whose `sha256_digest` is the manifest digest the registry keeps).
The tag is a digest of the build context: an unchanged context keeps its tag and digest,
and a rollback to an earlier commit finds its image (and digest) in the registry again.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from components.compose_stack import images as engine_images
from components.compose_stack.report import Report
from components.compose_stack.translate import _image as compose_image_plan
from components.swarm_stack.plan import SwarmBuild


def registry_host(registry: str) -> str:
    """`host[:port]` of a `slipway:registry` value (`http://10.0.0.1:5000` → `10.0.0.1:5000`)."""
    return urlparse(registry if "://" in registry else f"https://{registry}").netloc


def service_image(
    name: str,
    spec: Mapping[str, Any],
    project: str,
    registry: str | None,
    problems: list[str],
    warnings: list[str],
) -> tuple[str, SwarmBuild | None]:
    """The service's image reference and, when it builds and a registry is set, its build."""
    image = spec.get("image") or ""
    if "build" not in spec:
        if not image:
            problems.append(f"service `{name}`: neither `image` nor `build`: add one of them")
        return image, None
    if registry is None:
        if not image:  # with an image, `build` is ignored as docker stack deploy does
            problems.append(
                f"service `{name}`: `build` and no `image`: Swarm nodes pull images, so a "
                "build needs a registry every node pulls from: set `slipway:registry` "
                "(docs/swarm.md), or build and push it yourself and set `image:`"
            )
        return image, None
    report = Report()
    plan = compose_image_plan(name, spec, project, f"service `{name}`", report)
    problems.extend(report.problems)
    warnings.extend(report.warnings)
    repository = _repository(plan.name)
    return "", SwarmBuild(repository=f"{registry_host(registry)}/{repository}", args=plan.build)


def _repository(name: str) -> str:
    """`name` without its tag and without a registry host of its own."""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name = name[: len(name) - len(last)] + last.split(":", 1)[0]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return rest
    return name


def pushed_image(parent, resource_name: str, build: SwarmBuild, registry: str):
    """Build on the manager, push, and return `repository:ctx-<12 hex>@sha256:...`."""
    import pulumi
    import pulumi_docker as docker

    dockerfile = Path(build.args["dockerfile"]) if build.args.get("dockerfile") else None
    digest = engine_images.context_digest(Path(build.args["context"]), dockerfile)
    name = engine_images.tagged_name(build.repository, digest)
    built = docker.RemoteImage(
        f"{resource_name}-image",
        name=name,
        # The classic builder, on the manager (engine_images.builds_elsewhere says why).
        build=docker.RemoteImageBuildArgs(**engine_images.build_arguments(build.args, legacy=True)),
        triggers={"context": digest},
        keep_locally=True,  # a rollback rebuilds nothing: the manager still has it
        opts=pulumi.ResourceOptions(parent=parent),
    )
    pushed = docker.RegistryImage(
        f"{resource_name}-push",
        name=name,
        # A new build of the same context (say, a new base image) is pushed again.
        triggers={"context": digest, "image": built.image_id},
        keep_remotely=True,  # the last healthy commit's digest must stay pullable
        auth_config={"address": registry},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[built]),
    )
    return pulumi.Output.concat(name, "@", pushed.sha256_digest)
