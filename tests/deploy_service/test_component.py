"""DeployService under Pulumi's mocks: what it declares, with what inputs, secrets kept."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pulumi
import pytest

from components.deploy_service import DeployService, DeployServiceArgs, render_caddyfile
from components.deploy_service.environment import ServiceEnvironmentError
from components.deploy_service.image_context import context_digest
from tests.deploy_service.recording import IMAGE_DIGEST, Recording, declare
from webhook.orchestrator.config import OrchestratorSettings

CONTAINER = "docker:index/container:Container"
VOLUME = "docker:index/volume:Volume"
WEBHOOK_SECRET = "whsec-" + "x" * 32
API_TOKEN = "api-token-" + "y" * 24
PASSPHRASE = "passphrase-" + "z" * 16


def args(**changes) -> DeployServiceArgs:
    base = DeployServiceArgs(
        public_url="https://deploy.example.com/hooks/github",
        webhook_secret=pulumi.Output.secret(WEBHOOK_SECRET),
        app_stack="prod",
        repo_url="https://github.com/example/shop.git",
        backend_url="file:///var/lib/slipway/pulumi-state",
        secret_env={
            "SLIPWAY_API_TOKEN": pulumi.Output.secret(API_TOKEN),
            "PULUMI_CONFIG_PASSPHRASE": pulumi.Output.secret(PASSPHRASE),
        },
        docker_group_id=998,
        acme_email="ops@example.com",
    )
    return dataclasses.replace(base, **changes)


def build(service_args: DeployServiceArgs) -> Recording:
    return declare(lambda: DeployService("deploy", service_args))


def declared_image(recording: Recording):
    (image,) = [
        r for r in recording.of_type("docker:index/remoteImage:RemoteImage") if r.plain("build")
    ]
    return image


def envs_of(recording: Recording) -> dict[str, str]:
    service = recording.one(CONTAINER, name="slipway-webhook")
    return dict(line.split("=", 1) for line in service.plain("envs"))


@pytest.fixture(scope="module")
def declared() -> Recording:
    return build(args())


def test_declares_the_image_the_service_and_the_proxy(declared: Recording) -> None:
    types = sorted(r.type for r in declared.registrations)
    assert types == sorted(
        [
            "slipway:deploy:DeployService",
            "docker:index/remoteImage:RemoteImage",
            "docker:index/network:Network",
            VOLUME,
            CONTAINER,
            "docker:index/remoteImage:RemoteImage",
            VOLUME,
            VOLUME,
            CONTAINER,
        ]
    )
    (component,) = declared.of_type("slipway:deploy:DeployService")
    children = [r for r in declared.registrations if r is not component]
    assert all(r.parent == component.urn for r in children)


def test_image_is_built_from_the_repository_dockerfile(declared: Recording) -> None:
    image = declared.one(
        "docker:index/remoteImage:RemoteImage",
        # The legacy builder: on the engine of slipway:dockerHost, not the laptop's DOCKER_HOST.
        build={"context": ".", "dockerfile": "Dockerfile", "useLegacyBuilder": True},
    )
    digest = context_digest(Path("."), "Dockerfile", {})
    assert image.plain("name") == f"slipway-webhook:ctx-{digest[:12]}"
    assert image.plain("triggers") == {"context": digest}
    assert image.plain("keepLocally") is True


def test_build_arguments_reach_the_build_and_its_tag() -> None:
    recording = build(args(build_args={"BASE_IMAGE": "slipway/base:bookworm"}))
    image = declared_image(recording)
    assert image.plain("build")["buildArgs"] == {"BASE_IMAGE": "slipway/base:bookworm"}
    # Another base is another image: a new tag, so the container is replaced.
    assert image.plain("name") != declared_image(build(args())).plain("name")


def test_service_container_runs_the_built_image_with_state_and_socket(
    declared: Recording,
) -> None:
    service = declared.one(CONTAINER, name="slipway-webhook")
    assert service.plain("image") == IMAGE_DIGEST  # a new build replaces the container
    volumes = service.plain("volumes")
    assert {"volumeName": "slipway-state", "containerPath": "/var/lib/slipway"} in volumes
    assert {"hostPath": "/var/run/docker.sock", "containerPath": "/var/run/docker.sock"} in (
        volumes
    )
    # The app stacks' binds of checkout paths: the same folder on the host and in the service.
    binds = "/var/lib/slipway/binds"
    assert {"hostPath": binds, "containerPath": binds} in volumes
    assert service.plain("groupAdds") == ["998"]
    assert service.plain("restart") == "unless-stopped"
    assert service.plain("healthcheck")["tests"] == [
        "CMD",
        "python",
        "/app/deploy/healthcheck.py",
    ]
    assert service.plain("healthcheck")["retries"] == 3
    assert service.plain("wait") is True
    grace = int(envs_of(declared)["SLIPWAY_SHUTDOWN_GRACE_SECONDS"])
    assert grace == OrchestratorSettings.model_fields["shutdown_grace_seconds"].default
    assert service.plain("stopTimeout") > grace  # a running `up` is not killed half-way
    assert service.plain("destroyGraceSeconds") > grace
    assert "ports" not in service.inputs  # only the proxy is reachable from outside
    # The host's network (its health checks reach apps' ports on 127.0.0.1), listening
    # only on the proxy network's gateway.
    assert service.plain("networkMode") == "host"
    assert "networksAdvanced" not in service.inputs
    network = declared.one("docker:index/network:Network", name="slipway-deploy")
    assert network.urn in service.dependencies
    assert network.plain("ipamConfigs") == [{"subnet": "172.30.77.0/24", "gateway": "172.30.77.1"}]
    assert {"label": "io.slipway.role", "value": "deploy-service"} in service.plain("labels")


def test_settings_reach_the_service_as_slipway_environment(declared: Recording) -> None:
    env = envs_of(declared)
    assert env["SLIPWAY_WEBHOOK_SECRET"] == WEBHOOK_SECRET
    assert env["SLIPWAY_API_TOKEN"] == API_TOKEN
    assert env["PULUMI_CONFIG_PASSPHRASE"] == PASSPHRASE
    assert env["SLIPWAY_STACK"] == "prod"
    assert env["SLIPWAY_REPO_URL"] == "https://github.com/example/shop.git"
    assert env["SLIPWAY_STATE_DIR"] == "/var/lib/slipway"
    assert env["SLIPWAY_HOST"] == "172.30.77.1"  # the proxy network's gateway
    assert env["PULUMI_BACKEND_URL"] == "file:///var/lib/slipway/pulumi-state"
    assert env["SLIPWAY_PUBLIC_URL"] == "https://deploy.example.com"
    assert json.loads(env["SLIPWAY_TRUSTED_PROXIES"]) == ["172.30.77.2/32"]  # Caddy only
    assert "DOCKER_HOST" not in env  # the mounted socket is the default


def test_environment_is_secret_in_the_engine_and_the_state(declared: Recording) -> None:
    service = declared.one(CONTAINER, name="slipway-webhook")
    assert service.is_secret("envs")
    assert "envs" in service.additional_secret_outputs
    for registration in declared.registrations:
        if registration is service:
            continue
        text = json.dumps(registration.inputs, default=str)
        assert WEBHOOK_SECRET not in text and API_TOKEN not in text, registration.name


def test_plain_string_secrets_are_still_marked_secret() -> None:
    recording = build(args(webhook_secret=WEBHOOK_SECRET, secret_env={}))
    service = recording.one(CONTAINER, name="slipway-webhook")
    assert service.is_secret("envs")
    assert envs_of(recording)["SLIPWAY_WEBHOOK_SECRET"] == WEBHOOK_SECRET


def test_docker_host_replaces_the_socket_mount() -> None:
    recording = build(args(docker_host="tcp://docker-proxy:2375", docker_group_id=None))
    service = recording.one(CONTAINER, name="slipway-webhook")
    assert all(v["containerPath"] != "/var/run/docker.sock" for v in service.plain("volumes"))
    assert "groupAdds" not in service.inputs
    assert envs_of(recording)["DOCKER_HOST"] == "tcp://docker-proxy:2375"


def test_proxy_serves_the_public_host_with_automatic_certificates(declared: Recording) -> None:
    proxy_image = declared.one("docker:index/remoteImage:RemoteImage", name="caddy:2.11.7")
    assert "build" not in proxy_image.inputs
    proxy = declared.one(CONTAINER, name="slipway-caddy")
    assert proxy.plain("image") == "sha256:" + "2" * 64
    # The command and data folders of the official image, given so any caddy image serves.
    assert proxy.plain("command")[:2] == ["/usr/bin/caddy", "run"]
    assert "XDG_DATA_HOME=/data" in proxy.plain("envs")
    ports = {(p["internal"], p["external"], p.get("protocol", "tcp")) for p in proxy.plain("ports")}
    assert ports == {(80, 80, "tcp"), (443, 443, "tcp"), (443, 443, "udp")}
    (upload,) = proxy.plain("uploads")
    assert upload["file"] == "/etc/caddy/Caddyfile"
    assert upload["content"] == render_caddyfile(args().caddy_site())
    assert "deploy.example.com {" in upload["content"]
    assert "reverse_proxy 172.30.77.1:8000" in upload["content"]
    mounts = {v["containerPath"]: v["volumeName"] for v in proxy.plain("volumes")}
    assert mounts == {"/data": "slipway-caddy-data", "/config": "slipway-caddy-config"}
    assert proxy.plain("restart") == "unless-stopped"
    assert proxy.plain("networksAdvanced") == [
        {"name": "slipway-deploy", "ipv4Address": "172.30.77.2"}
    ]
    service = declared.one(CONTAINER, name="slipway-webhook")
    assert service.urn in proxy.dependencies


def test_volumes_survive_destroy(declared: Recording) -> None:
    volumes = {v.plain("name"): v.retain_on_delete for v in declared.of_type(VOLUME)}
    assert volumes == {
        "slipway-state": True,
        "slipway-caddy-data": True,
        "slipway-caddy-config": True,
    }
    containers = [c.retain_on_delete for c in declared.of_type(CONTAINER)]
    assert containers == [False, False]


def test_containers_with_fixed_names_are_replaced_delete_first(declared: Recording) -> None:
    assert [c.delete_before_replace for c in declared.of_type(CONTAINER)] == [True, True]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"docker_group_id": None}, "slipway:service.dockerGroupId is missing"),
        ({"public_url": "http://deploy.example.com/hooks"}, "must start with https://"),
        ({"public_url": "https://203.0.113.7/hooks"}, "uses an IP address"),
        ({"repo_url": None}, "the repository to deploy is missing"),
        ({"backend_url": None}, "cannot reach the app stack's state"),
        ({"plain_env": {"GITHUB_TOKEN": "ghp_x"}}, "GITHUB_TOKEN looks like a secret"),
        ({"proxy_subnet": "172.30.77.1/24"}, "proxySubnet '172.30.77.1/24' is not a network"),
    ],
)
def test_bad_settings_fail_before_anything_is_declared(changes: dict, message: str) -> None:
    recording = Recording()
    with pytest.raises((ValueError, ServiceEnvironmentError), match=message):
        declare(lambda: DeployService("deploy", args(**changes)), recording=recording)
    assert recording.registrations == []
