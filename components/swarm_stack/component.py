"""SwarmStack: a SwarmPlan declared as pulumi-docker resources on a Swarm manager."""

from __future__ import annotations

import asyncio
import base64

import pulumi
import pulumi_docker as docker

from components.swarm_stack import converge, images, routed
from components.swarm_stack.plan import FileUse, SwarmPlan, SwarmService
from components.swarm_stack.service import STACK_LABEL

TYPE_TOKEN = "slipway:swarm:Stack"


class SwarmStack(pulumi.ComponentResource):
    """Overlay networks, secrets, configs and one `docker.Service` per Compose service.

    Each service has a converge wait (converge.py): the `up` fails when a
    service does not reach all tasks running and healthy in time, or Swarm rolls it back.
    Output `services`: Compose service → Swarm service name.
    """

    services: pulumi.Output[dict[str, str]]
    converged: pulumi.Output[dict[str, str]]

    def __init__(
        self,
        name: str,
        plan: SwarmPlan,
        docker_host: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
        registry: str | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        for warning in plan.warnings:
            pulumi.log.warn(warning, resource=self)
        self._name = name
        self._plan = plan
        self._labels = [{"label": STACK_LABEL, "value": plan.project}]
        self._networks = {n.key: self._network(n) for n in plan.networks}
        self._secrets = {f.key: self._secret(f) for f in plan.secrets}
        self._configs = {f.key: self._config(f) for f in plan.configs}
        self._registry = registry  # `build:` images are pushed there (images.py)
        self._images: dict[str, pulumi.Input[str]] = {}
        declared = [self._service(s) for s in plan.services]
        self.services = pulumi.Output.all(*[d.name for d in declared]).apply(
            lambda names: {s.name: n for s, n in zip(plan.services, names, strict=True)}
        )
        waits = [  # a routed release is gated by the service's cutover instead (routed.py)
            pulumi.Output.from_input("gated by the cutover")
            if routed.is_release(plan, s)
            else self._converged(d, self._images[s.name], docker_host)
            for s, d in zip(plan.services, declared, strict=True)
        ]
        self.converged = pulumi.Output.all(*waits).apply(
            lambda details: dict(zip([s.name for s in plan.services], details, strict=True))
        )
        self.register_outputs({"services": self.services, "converged": self.converged})

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _network(self, network) -> pulumi.Output[str]:
        if network.external:
            found = docker.get_network_output(
                name=network.name, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            return found.id
        # Swarm keeps a network's id in the service; giving the id avoids a diff every up.
        return docker.Network(
            f"{self._name}-net-{network.key}", **network.args, opts=self._child()
        ).id

    def _secret(self, file) -> docker.Secret:
        return docker.Secret(
            f"{self._name}-secret-{file.key}",
            name=file.name,
            data=pulumi.Output.secret(base64.b64encode(file.content).decode()),
            labels=self._labels,
            opts=self._child(),
        )

    def _config(self, file) -> docker.ServiceConfig:
        return docker.ServiceConfig(
            f"{self._name}-config-{file.key}",
            name=file.name,
            data=base64.b64encode(file.content).decode(),
            labels=self._labels,
            opts=self._child(),
        )

    def _service(self, service: SwarmService) -> docker.Service:
        args = dict(service.args)
        task = dict(args.pop("task_spec"))
        container = dict(task.pop("container_spec"))
        if service.secrets:
            container["secrets"] = [
                self._use(u, self._secrets[u.key], "secret") for u in service.secrets
            ]
        if service.configs:
            container["configs"] = [
                self._use(u, self._configs[u.key], "config") for u in service.configs
            ]
        if service.build is not None and self._registry is not None:
            container["image"] = images.pushed_image(
                self, f"{self._name}-{service.name}", service.build, self._registry
            )
        self._images[service.name] = container["image"]
        task["container_spec"] = container
        if service.networks:
            task["networks_advanceds"] = [
                {"id": self._networks[key], "aliases": list(aliases)}
                for key, aliases in service.networks
            ]
        release = routed.is_release(self._plan, service)  # kept running until the cutover
        return docker.Service(
            f"{self._name}-{service.name}" + (f"-{self._plan.routing.release}" if release else ""),
            name=service.service_name,
            task_spec=task,
            **args,
            opts=self._child(retain_on_delete=release),
        )

    @staticmethod
    def _converged(
        declared: docker.Service, image: pulumi.Input[str], docker_host: str | None
    ) -> pulumi.Output[str]:
        """After the service's create or update (never in a preview): its converge wait."""

        def wait(values: list):
            if pulumi.runtime.is_dry_run() or _under_mocks():
                return "not checked (preview)"
            # In a thread: a blocking wait would stall every other registration of the program.
            return asyncio.to_thread(converge.wait_converged, values[0], values[2], docker_host)

        return pulumi.Output.all(declared.name, declared.id, image).apply(wait)

    @staticmethod
    def _use(use: FileUse, resource, kind: str) -> dict:
        return {
            f"{kind}_id": resource.id,
            f"{kind}_name": resource.name,
            "file_name": use.file_name,
            "file_uid": use.uid,
            "file_gid": use.gid,
            "file_mode": use.mode,
        }


def _under_mocks() -> bool:
    from components.compose_stack.engine import under_mocks

    return under_mocks()
