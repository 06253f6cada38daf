"""The Slipway Pulumi program: typed config first, then one `build_*` function per concern."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pulumi
import pulumi_docker as docker

from components.compose_stack import ComposeStack, ComposeStackArgs, StackPlan, load_stack_plan
from components.compose_stack.project_binds import (
    BINDS_DIR_ENV,
    ProjectBindsError,
    copy_commit_files,
)
from components.compose_stack.routes import release_in_checkout, routing_output, with_release
from components.config import ConfigError, StackConfig, load_config
from components.deploy_service.guard import deploy_service_problems
from components.github.workflow import plan_github

if TYPE_CHECKING:
    from components.deploy_service.component import DeployService


def plan_compose(config: StackConfig) -> StackPlan | None:
    """Resolve and check the stack's Compose files (fails before any resource exists)."""
    if not config.compose_files:
        return None
    plan = load_stack_plan(
        config.compose_files,
        project=config.compose_project,
        profiles=config.profiles,
        remote_docker_host=config.remote_docker_host,
        binds_dir=os.environ.get(BINDS_DIR_ENV) or None,
    )
    return with_release(plan, config.release or release_in_checkout(Path.cwd()))


def build_swarm(config: StackConfig, provider: docker.Provider) -> None:
    """`slipway:target: swarm`: the Compose services as Swarm services through the manager
    at `slipway:dockerHost` (components/swarm_stack, docs/swarm.md); exports `services` and
    `converged` (an `up` fails when a service does not converge in time)."""
    from components.swarm_stack.component import SwarmStack
    from components.swarm_stack.reader import load_swarm_plan
    from components.swarm_stack.routed import routing_output as swarm_routing
    from components.swarm_stack.routed import with_release as swarm_with_release

    plan = load_swarm_plan(
        config.compose_files,
        project=config.compose_project,
        profiles=config.profiles,
        registry=config.registry,
    )
    plan = swarm_with_release(plan, config.release or release_in_checkout(Path.cwd()))
    stack = SwarmStack(
        plan.project,
        plan,
        config.docker_host,
        opts=pulumi.ResourceOptions(providers={"docker": provider}),
        registry=config.registry,  # `build:` images: built, pushed, deployed by digest
    )
    pulumi.export("services", stack.services)
    pulumi.export("converged", stack.converged)  # each service's converge wait (swarm.md)
    routing = swarm_routing(plan, config.docker_host)
    if routing is not None:  # read by the service's cutover (webhook/cutover/swarm_engine.py)
        pulumi.export("routing", routing)


def refuse_deploy_service(plan: StackPlan) -> None:
    """App stacks never run the deploy service (it would replace itself during an `up`)."""
    problems = deploy_service_problems(plan)
    if problems:
        raise ConfigError(problems)


def build_deploy_service(config: StackConfig, provider: docker.Provider) -> DeployService:
    """Control stack only: the webhook service behind its HTTPS proxy; exports
    `deployService` (url, container names)."""
    # Imported here: an app stack's program never loads the component and its settings model.
    from components.deploy_service.component import DeployService
    from components.deploy_service.config import service_args

    assert config.service is not None and config.webhook is not None  # checked by load_config
    args = service_args(
        config.service,
        webhook_url=config.webhook.url,
        webhook_secret=pulumi.Output.secret(config.webhook_secret),
        service_secrets={k: pulumi.Output.secret(v) for k, v in config.service_secrets.items()},
    )
    service = DeployService(
        "slipway", args, opts=pulumi.ResourceOptions(providers={"docker": provider})
    )
    pulumi.export(
        "deployService",
        {"url": service.url, "container": service.service.name, "proxy": service.proxy.name},
    )
    return service


def build_docker_provider(config: StackConfig) -> docker.Provider:
    """The Docker endpoint of this stack (`slipway:dockerHost`, else the local socket)."""
    return docker.Provider("docker", host=config.docker_host)


def copy_project_binds(plan: StackPlan) -> None:
    """Under the deploy service, an `up` first copies the commit's files of bound checkout
    paths into the stack's binds folder (a preview changes nothing)."""
    if pulumi.runtime.is_dry_run():
        return
    copies = [copy for service in plan.services for copy in service.project_copies]
    try:
        lines = copy_commit_files(copies)
    except (ProjectBindsError, OSError) as error:
        raise ConfigError([f"binds folder: {error}"]) from error
    for line in lines:
        pulumi.log.info(line)


def build_compose(
    plan: StackPlan, provider: docker.Provider, docker_host: str | None = None
) -> ComposeStack:
    """The Compose services on `docker_host`; exports `services` (service → container name)."""
    stack = ComposeStack(
        plan.project,
        ComposeStackArgs(plan=plan, docker_host=docker_host),
        opts=pulumi.ResourceOptions(providers={"docker": provider}),
    )
    pulumi.export("services", stack.services)
    routing = routing_output(plan)
    if routing is not None:  # read by the service's cutover (webhook/cutover/)
        pulumi.export("routing", routing)
    return stack


def main() -> None:
    config = load_config()
    if config.role == "control":
        build_deploy_service(config, build_docker_provider(config))
        return
    swarm = config.target == "swarm"
    compose_plan = None if swarm else plan_compose(config)
    if compose_plan is not None:
        refuse_deploy_service(compose_plan)
    github_spec = plan_github(config)
    provider = build_docker_provider(config)
    if swarm:
        build_swarm(config, provider)
    elif compose_plan is not None:
        copy_project_binds(compose_plan)
        build_compose(compose_plan, provider, config.docker_host)
    if github_spec is not None:
        # Imported here: the GitHub provider's SDK takes ~0.3 s to load, which a stack
        # without GitHub resources (every app deploy) need not pay.
        from components.github.program import build_github

        build_github(config, github_spec)
    pulumi.export("healthChecks", [check.as_output() for check in config.health_checks])


class ConfigRefused(ConfigError, pulumi.RunError):
    """A ConfigError that Pulumi reports as its message, without a traceback."""


def run() -> None:
    """`main`, with a refused config reported as its problems (a RunError), not as an
    unhandled exception whose traceback repeats them."""
    try:
        main()
    except ConfigError as error:
        raise ConfigRefused(error.problems) from None


run()
