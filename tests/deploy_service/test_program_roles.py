"""The whole program under mocks: the control stack declares the deploy service and nothing
else; app stacks never declare it; configs that mix the roles fail with the documented error."""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.runtime import settings

from components.config import ConfigError
from tests.support import program_run as harness
from tests.support.program_run import ProgramRun, stack_config

REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
CONTAINER = "docker:index/container:Container"
COMPONENT = "slipway:deploy:DeployService"
ROLE_DOC = "docs/install.md#stack-roles"
CONTROL_SECRETS = {
    "slipway:webhookSecret": "control-webhook-secret-0123456789",
    "slipway:serviceSecrets": {
        "SLIPWAY_API_TOKEN": "api-token-0123456789abcdef",
        "PULUMI_CONFIG_PASSPHRASE": "prod-passphrase",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-access-key-example",
    },
}
PROD_SECRETS = {
    "slipway:webhookSecret": "test-webhook-secret",
    "slipway:repoSecrets": {"VPS_HOST": "vps.example.com", "DEPLOY_TOKEN": "t0ken"},
}


def run_program(stack: str, config: dict, secret_keys: tuple[str, ...] = ()) -> ProgramRun:
    """harness.run_program with a fresh root stack: `set_mocks` keeps the previous run's
    root resource, whose exports would otherwise leak into this run's outputs."""
    settings.ROOT.set(None)
    return harness.run_program(stack, config, secret_keys=secret_keys)


def control_config(**changes) -> dict:
    return {**stack_config("control"), **CONTROL_SECRETS, **changes}


def run_control(config: dict) -> ProgramRun:
    secret_keys = tuple(k for k in CONTROL_SECRETS if k in config)
    return run_program("control", config, secret_keys=secret_keys)


@pytest.fixture(scope="module")
def control() -> ProgramRun:
    return run_control(control_config())


@pytest.fixture(scope="module")
def app_runs() -> dict[str, ProgramRun]:
    return {
        "dev": run_program("dev", stack_config("dev")),
        "prod": run_program(
            "prod", {**stack_config("prod"), **PROD_SECRETS}, secret_keys=tuple(PROD_SECRETS)
        ),
    }


def test_control_stack_declares_only_the_deploy_service(control: ProgramRun) -> None:
    assert control.count_by_type() == {
        "pulumi:providers:docker": 1,
        COMPONENT: 1,
        "docker:index/network:Network": 1,
        "docker:index/volume:Volume": 3,
        "docker:index/remoteImage:RemoteImage": 2,  # the service's build, the proxy's
        CONTAINER: 2,
    }
    (component,) = control.of_type(COMPONENT)
    (provider,) = control.of_type("pulumi:providers:docker")
    assert provider.inputs["host"] == "ssh://deploy@vps.example.com"
    for resource in control.resources:
        if resource.type.startswith("docker:index/"):
            assert resource.parent == component.urn
            assert resource.provider.startswith(provider.urn)


def test_control_service_gets_its_settings_and_secrets_secret(control: ProgramRun) -> None:
    service = control.container("slipway-webhook")
    assert "envs" in service.secret_inputs
    env = dict(line.split("=", 1) for line in service.inputs["envs"])
    assert env["SLIPWAY_WEBHOOK_SECRET"] == CONTROL_SECRETS["slipway:webhookSecret"]
    assert env["SLIPWAY_API_TOKEN"] == "api-token-0123456789abcdef"
    assert env["AWS_SECRET_ACCESS_KEY"] == "aws-secret-access-key-example"
    assert env["SLIPWAY_STACK"] == "prod"
    assert env["SLIPWAY_REPO_URL"] == "https://github.com/example/shop.git"
    assert env["PULUMI_BACKEND_URL"] == "s3://example-pulumi-state?region=eu-west-1"
    assert env["AWS_REGION"] == "eu-west-1"
    assert service.inputs["groupAdds"] == ["999"]
    assert service.inputs["restart"] == "unless-stopped"
    assert service.inputs["healthcheck"]["tests"][-1] == "/app/deploy/healthcheck.py"
    assert {"hostPath": "/var/run/docker.sock", "containerPath": "/var/run/docker.sock"} in (
        service.inputs["volumes"]
    )
    secrets = [CONTROL_SECRETS["slipway:webhookSecret"], "aws-secret-access-key-example"]
    for resource in control.resources:
        if resource is not service:
            assert not any(s in str(resource.inputs) for s in secrets), resource.name


def test_control_stack_proxies_the_webhook_host(control: ProgramRun) -> None:
    proxy = control.container("slipway-caddy")
    (upload,) = proxy.inputs["uploads"]
    assert "deploy.example.com {" in upload["content"]
    assert "\temail ops@example.com\n" in upload["content"]
    assert control.outputs["deployService"]["url"] == "https://deploy.example.com"
    assert "healthChecks" not in control.outputs and "services" not in control.outputs


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_app_stacks_never_declare_the_deploy_service(
    app_runs: dict[str, ProgramRun], stack: str
) -> None:
    run = app_runs[stack]
    assert not run.of_type(COMPONENT)
    assert not [r for r in run.of_type(REMOTE_IMAGE) if "slipway-webhook" in r.inputs["name"]]
    names = {r.inputs.get("name") for r in run.of_type(CONTAINER)}
    assert not names & {"slipway-webhook", "slipway-caddy"}
    assert "deployService" not in run.outputs
    for container in run.of_type(CONTAINER):
        labels = {entry["label"] for entry in container.inputs.get("labels", [])}
        assert "io.slipway.role" not in labels


def _refused(run, *messages: str) -> str:
    with pytest.raises(ConfigError) as raised:
        run()
    text = str(raised.value)
    for message in messages:
        assert message in text
    return text


def test_control_stack_with_compose_files_is_refused() -> None:
    config = control_config(**{"slipway:composeFiles": ["stacks/app.yml"]})
    text = _refused(
        lambda: run_control(config),
        "slipway:composeFiles: set on the control stack (slipway:role: control)",
        ROLE_DOC,
    )
    assert "pulumi config rm slipway:composeFiles" in text


def test_control_stack_with_github_resources_is_refused() -> None:
    config = control_config(
        **{
            "slipway:github": {"repository": "example/shop"},
            "slipway:healthChecks": [{"url": "https://shop.example.com/"}],
        }
    )
    _refused(lambda: run_control(config), "slipway:github: set on", "slipway:healthChecks: set on")


def test_control_stack_without_its_service_is_refused() -> None:
    config = {"slipway:role": "control"}
    _refused(
        lambda: run_program("control", config),
        "slipway:service: required on the control stack",
        "slipway:webhook: required on the control stack",
        "slipway:webhookSecret: required on the control stack",
    )


def test_control_stack_secrets_must_be_encrypted() -> None:
    config = control_config()
    _refused(
        lambda: run_program("control", config, secret_keys=("slipway:webhookSecret",)),
        "slipway:serviceSecrets: stored in plain text",
    )


def test_control_stack_service_settings_are_checked_up_front() -> None:
    service = {**stack_config("control")["slipway:service"]}
    del service["dockerGroupId"]
    _refused(
        lambda: run_control(control_config(**{"slipway:service": service})),
        "slipway:service.dockerGroupId is missing",
        "stat -c %g /var/run/docker.sock",
    )


def test_app_stack_with_the_service_config_is_refused() -> None:
    config = {
        **stack_config("dev"),
        "slipway:service": stack_config("control")["slipway:service"],
    }
    _refused(
        lambda: run_program("dev", config),
        "slipway:service: only the control stack (slipway:role: control) runs the deploy service",
        ROLE_DOC,
    )


SELF_DEPLOYING = {
    "image": "services:\n  deployer:\n    image: ghcr.io/example/slipway-webhook:1.2\n",
    "env": "services:\n  deployer:\n    image: python:3.11\n"
    "    environment:\n      SLIPWAY_WEBHOOK_SECRET: x\n",
    "command": "services:\n  deployer:\n    image: example/ops:1\n"
    "    command: [python, -m, webhook, serve]\n",
    "label": "services:\n  deployer:\n    image: caddy:2\n"
    "    labels:\n      io.slipway.role: deploy-proxy\n",
}


@pytest.mark.parametrize("kind", sorted(SELF_DEPLOYING))
def test_app_stack_whose_compose_files_run_the_service_is_refused(
    tmp_path: Path, kind: str
) -> None:
    compose = tmp_path / "deployer.yml"
    compose.write_text(SELF_DEPLOYING[kind])
    config = {**stack_config("dev"), "slipway:composeFiles": ["stacks/app.yml", str(compose)]}
    _refused(
        lambda: run_program("dev", config),
        "slipway:composeFiles: Compose service `deployer` runs the Slipway deploy service",
        "pulumi up -s control",
        ROLE_DOC,
    )


def test_app_stack_taking_the_service_container_name_is_refused(tmp_path: Path) -> None:
    compose = tmp_path / "deployer.yml"
    compose.write_text(
        "services:\n  hooks:\n    image: nginx:1\n    container_name: slipway-webhook\n"
    )
    config = {**stack_config("dev"), "slipway:composeFiles": [str(compose)]}
    _refused(lambda: run_program("dev", config), "takes the container name slipway-webhook")
