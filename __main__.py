"""The Slipway Pulumi program: typed config first, then one `build_*` function per concern."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.compose_stack import ComposeStack, ComposeStackArgs, load_stack_plan
from components.config import StackConfig, load_config


def build_docker_provider(config: StackConfig) -> docker.Provider:
    """The Docker endpoint of this stack (`slipway:dockerHost`, else the local socket)."""
    return docker.Provider("docker", host=config.docker_host)


def build_compose(config: StackConfig, provider: docker.Provider) -> ComposeStack | None:
    """The stack's Compose services; exports `services` (service → container name)."""
    if not config.compose_files:
        return None
    plan = load_stack_plan(
        config.compose_files,
        project=config.compose_project,
        profiles=config.profiles,
        remote_docker_host=config.remote_docker_host,
    )
    stack = ComposeStack(
        config.compose_project,
        ComposeStackArgs(plan=plan),
        opts=pulumi.ResourceOptions(providers={"docker": provider}),
    )
    pulumi.export("services", stack.services)
    return stack


def main() -> None:
    config = load_config()
    provider = build_docker_provider(config)
    build_compose(config, provider)
    pulumi.export("healthChecks", [check.as_output() for check in config.health_checks])


main()
