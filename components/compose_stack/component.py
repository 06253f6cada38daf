"""ComposeStack: a StackPlan declared as pulumi-docker resources (children of the component)."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from components.compose_stack import engine, engine_requirements, health_wait, images, lifecycle
from components.compose_stack.networking import as_engine_publishes
from components.compose_stack.plan import (
    Mount,
    ServicePlan,
    StackPlan,
    Upload,
    anonymous_volume_name,
)

TYPE_TOKEN = "slipway:compose:Stack"
# A label change would replace a network (its containers are attached) or a volume (its data
# with it): labels are set when they are created and not changed afterwards.
_LABELS_AT_CREATION = ["labels"]


@dataclass
class ComposeStackArgs:
    """What ComposeStack declares: the translated Compose model (see `load_stack_plan`),
    on the engine at `docker_host` (None: the local socket). `engine` is what that engine
    said (None: ask it, except under Pulumi's mocks)."""

    plan: StackPlan
    docker_host: str | None = None
    engine: engine.EngineFacts | None = None


class ComposeStack(pulumi.ComponentResource):
    """Networks, volumes, images and containers of one Compose project on one Docker host.

    Outputs: `services` (service → first container name) and `containers` (service → all
    container names, one per replica).
    """

    services: pulumi.Output[dict[str, str]]
    containers: pulumi.Output[dict[str, list[str]]]

    def __init__(
        self, name: str, args: ComposeStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        plan = args.plan
        for warning in plan.warnings:
            pulumi.log.warn(warning, resource=self)
        self._name = name
        self._docker_host = args.docker_host
        self._engine = args.engine or _ask_engine(plan, args.docker_host)
        self._run_token = uuid.uuid4().hex[:12]  # this `up`'s: see lifecycle.with_rerun
        # Before any resource: an engine too old for a key would fail half-way through.
        engine_requirements.check(plan, self._engine.api_version)
        self._networks = {n.key: self._network(n) for n in plan.networks}
        self._volumes = {v.key: self._volume(v) for v in plan.volumes}
        self._containers: dict[str, list[docker.Container]] = {}
        for service in plan.services:  # dependencies come first
            self._containers[service.name] = self._service(service, plan)
        self.services = pulumi.Output.from_input(
            {s.name: s.container_names[0] for s in plan.services if s.container_names}
        )
        self.containers = pulumi.Output.from_input(
            {s.name: list(s.container_names) for s in plan.services}
        )
        self.register_outputs({"services": self.services, "containers": self.containers})

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _network(self, network) -> pulumi.Output[str]:
        if network.external:
            found = docker.get_network_output(
                name=network.name, opts=pulumi.InvokeOutputOptions(parent=self)
            )
            return found.name
        resource = docker.Network(
            f"{self._name}-net-{network.key}",
            **network.args,
            opts=self._child(ignore_changes=_LABELS_AT_CREATION),
        )
        return resource.name

    def _volume(self, volume) -> pulumi.Input[str]:
        if volume.external:
            return volume.name  # Docker has no volume lookup in pulumi-docker; used by name
        resource = docker.Volume(
            f"{self._name}-vol-{volume.key}",
            **volume.args,
            opts=self._child(ignore_changes=_LABELS_AT_CREATION),
        )
        return resource.name

    def _image(self, service: ServicePlan) -> tuple[pulumi.Resource, pulumi.Output[str]]:
        resource_name = f"{self._name}-{service.name}-image"
        if service.image.build is not None:
            build = service.image.build
            dockerfile = Path(build["dockerfile"]) if build.get("dockerfile") else None
            digest = images.context_digest(Path(build["context"]), dockerfile)
            built = docker.RemoteImage(
                resource_name,
                name=images.tagged_name(service.image.name, digest),
                build=docker.RemoteImageBuildArgs(
                    **images.build_arguments(
                        build, legacy=images.builds_elsewhere(self._docker_host)
                    )
                ),
                triggers={"context": digest},
                keep_locally=True,  # a rollback to an earlier commit finds its image still here
                opts=self._child(),
            )
            return built, built.image_id
        pulled = docker.RemoteImage(
            resource_name,
            name=service.image.name,
            platform=service.image.platform,
            keep_locally=True,  # other stacks or rollbacks may still use it
            opts=self._child(),
        )
        return pulled, pulled.image_id

    def _service(self, service: ServicePlan, plan: StackPlan) -> list[docker.Container]:
        image, image_ref = self._image(service)
        after: list[pulumi.Input[pulumi.Resource]] = [image]
        for dependency in service.depends_on:
            containers = self._containers[dependency.service]
            if dependency.condition == "completed":
                after.extend(_succeeded(c, dependency.service) for c in containers)
            elif dependency.condition == "healthy":
                waited = plan.service(dependency.service)
                after.extend(self._healthy(c, waited) for c in containers)
            else:
                after.extend(containers)
        args = dict(service.args)
        if service.network_mode_service:
            owner = plan.service(service.network_mode_service)
            args["network_mode"] = f"container:{owner.container_names[0]}"
        elif service.networks:
            args["networks_advanced"] = [
                {"name": self._networks[a.network], "aliases": list(a.aliases), **a.args}
                for a in service.networks
            ]
        uploads = [_upload(u) for u in service.uploads]
        if uploads:
            args["uploads"] = uploads
        if service.run_to_completion:
            args["must_run"] = False
            args["attach"] = True  # waits until the container exits, before dependants start
        # A routed service's containers are one release's (webhook/cutover/): a new release is
        # a new resource, created beside the old one, which Pulumi then forgets but does not
        # delete; the cutover stops the old release once traffic has left it.
        release = (
            plan.routing.release if plan.routing and service.name in plan.routing.routes else None
        )
        infix = f"-{release}" if release else ""
        return [
            docker.Container(
                f"{self._name}-{service.name}{infix}-{replica}",
                name=container_name,
                image=image_ref,
                **self._published({**args, **service.replica_args[replica - 1]}, container_name),
                **self._mounts(service, plan, container_name),
                opts=self._child(depends_on=after, retain_on_delete=release is not None),
            )
            for replica, container_name in enumerate(service.container_names, start=1)
        ]

    def _healthy(
        self, container: docker.Container, service: ServicePlan
    ) -> pulumi.Output[docker.Container]:
        """`container`, once the engine reports it healthy (health_wait.py): a dependant
        waits for it. Not asked in a preview, nor of a container this `up` kept that was
        healthy before it (a no-op waits for nothing, as it did with the provider's wait)."""

        def check(values: list) -> object:
            container_id, name = values
            if pulumi.runtime.is_dry_run() or engine.under_mocks() or not container_id:
                return container
            before = self._engine.container(name) or {}
            health = ((before.get("State") or {}).get("Health") or {}).get("Status")
            if before.get("Id") == container_id and health == "healthy":
                return container
            return _then(
                health_wait.wait_healthy(
                    service.name, name, float(service.wait_timeout or 60), self._docker_host
                ),
                container,
            )

        return pulumi.Output.all(container.id, container.name).apply(check)

    def _published(self, args: dict, container: str) -> dict:
        """`args` as the engine runs them: `ports` as it publishes them (networking
        `as_engine_publishes`), and a stopped container run again (lifecycle `with_rerun`)."""
        existing = self._engine.container(container)
        if existing is None:
            return args
        out = {
            **args,
            "labels": lifecycle.with_rerun(args.get("labels") or [], existing, self._run_token),
        }
        if args.get("ports"):
            out["ports"] = as_engine_publishes(args["ports"], existing)
        return out

    def _mounts(self, service: ServicePlan, plan: StackPlan, container: str) -> dict:
        """The `volumes` and `mounts` inputs of one container (anonymous volumes are per
        container); `mounts` for the options that only it has (nocopy, subpath, propagation)."""
        volumes = [self._mount(m, plan, container) for m in service.mounts if not m.needs_mount_api]
        mounts = [self._api_mount(m, container) for m in service.mounts if m.needs_mount_api]
        return {k: v for k, v in (("volumes", volumes), ("mounts", mounts)) if v}

    def _api_mount(self, mount: Mount, container: str) -> dict:
        out: dict = {"target": mount.container_path, "read_only": mount.read_only}
        if mount.kind == "bind":
            return {
                **out,
                "type": "bind",
                "source": mount.source,
                "bind_options": {"propagation": mount.propagation},
            }
        name = mount.source
        if mount.kind == "anonymous":
            name = anonymous_volume_name(container, str(mount.container_path))
        options = {"no_copy": mount.no_copy} if mount.no_copy else {}
        if mount.subpath:
            options["subpath"] = mount.subpath
        return {**out, "type": "volume", "source": self._volumes[name], "volume_options": options}

    def _mount(self, mount: Mount, plan: StackPlan, container: str) -> dict:
        if mount.kind == "volume":
            return {
                "volume_name": self._volumes[mount.source],
                "container_path": mount.container_path,
                "read_only": mount.read_only,
            }
        if mount.kind == "anonymous":
            name = anonymous_volume_name(container, str(mount.container_path))
            return {
                "volume_name": self._volumes[name],
                "container_path": mount.container_path,
                "read_only": mount.read_only,
            }
        if mount.kind == "bind":
            bind = {
                "host_path": mount.source,
                "container_path": mount.container_path,
                "read_only": mount.read_only,
            }
            if mount.selinux_relabel:
                bind["selinux_relabel"] = mount.selinux_relabel
            return bind
        source = mount.source
        if mount.kind == "from_service":
            source = plan.service(mount.source).container_names[0]
        return {"from_container": source, "read_only": mount.read_only}


def _ask_engine(plan: StackPlan, docker_host: str | None) -> engine.EngineFacts:
    """What the engine says of the plan's containers (nothing under mocks or unreachable)."""
    if engine.under_mocks():
        return engine.EngineFacts()
    names = [n for s in plan.services for n in s.container_names]
    return engine.read(names, docker_host) or engine.EngineFacts()


async def _then(waiting, value):
    """`value`, once the awaitable `waiting` has finished."""
    await waiting
    return value


def _succeeded(job: docker.Container, service: str) -> pulumi.Output[docker.Container]:
    """`job`, once it has exited with 0: a dependant waits for it, and fails otherwise."""

    def check(values: list) -> docker.Container:
        name, code = values
        lifecycle.check_job_exit(service, name, code)
        return job

    return pulumi.Output.all(job.name, job.exit_code).apply(check)


def _upload(upload: Upload) -> dict:
    out: dict = {"file": upload.target}
    if upload.source is not None:
        # Content, not the local path: the path differs between checkouts (laptop, deploy
        # worktrees) and would replace the container on every deployment.
        out.update(_file_content(Path(upload.source)))
    else:
        out["content"] = upload.content
    if upload.secret:
        out = {k: pulumi.Output.secret(v) if k.startswith("content") else v for k, v in out.items()}
    for key in ("owner", "group", "permissions"):
        if getattr(upload, key) is not None:
            out[key] = getattr(upload, key)
    return out


def _file_content(path: Path) -> dict[str, str]:
    data = path.read_bytes()
    try:
        return {"content": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"content_base64": base64.b64encode(data).decode("ascii")}
