"""The Slipway Pulumi program: typed config first, then one `build_*` function per concern."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.compose_stack import ComposeStack, ComposeStackArgs, StackPlan, load_stack_plan
from components.config import StackConfig, load_config
from components.github.program import build_github, plan_github


def plan_compose(config: StackConfig) -> StackPlan | None:
    """Resolve and check the stack's Compose files (fails before any resource exists)."""
    if not config.compose_files:
        return None
    return load_stack_plan(
        config.compose_files,
        project=config.compose_project,
        profiles=config.profiles,
        remote_docker_host=config.remote_docker_host,
    )


def build_docker_provider(config: StackConfig) -> docker.Provider:
    """The Docker endpoint of this stack (`slipway:dockerHost`, else the local socket)."""
    return docker.Provider("docker", host=config.docker_host)


def build_compose(plan: StackPlan, provider: docker.Provider) -> ComposeStack:
    """The Compose services; exports `services` (service → container name)."""
    stack = ComposeStack(
        plan.project,
        ComposeStackArgs(plan=plan),
        opts=pulumi.ResourceOptions(providers={"docker": provider}),
    )
    pulumi.export("services", stack.services)
    return stack


def main() -> None:
    config = load_config()
    compose_plan = plan_compose(config)
    github_spec = plan_github(config)
    provider = build_docker_provider(config)
    if compose_plan is not None:
        build_compose(compose_plan, provider)
    if github_spec is not None:
        build_github(config, github_spec)
    pulumi.export("healthChecks", [check.as_output() for check in config.health_checks])


main()
