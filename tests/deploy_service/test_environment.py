"""The service's environment: what Slipway sets, what the operator adds, what is refused."""

from __future__ import annotations

import dataclasses
import os

import pytest

from components.deploy_service.config import parse_service, service_args
from components.deploy_service.environment import (
    REPO_URL,
    SHUTDOWN_GRACE_SECONDS,
    SPEC_SETTINGS,
    WEBHOOK_SECRET,
    EnvironmentSpec,
    ServiceEnvironmentError,
    build_environment,
)
from webhook.settings import SETTINGS, Settings, setting

SPEC = EnvironmentSpec(
    app_stack="prod",
    repo_url="https://github.com/example/shop.git",
    branch="release",
    trusted_proxies=("172.30.77.0/24",),
    backend_url="s3://slipway-state",
    extra_plain={"AWS_REGION": "eu-west-1"},
    secret_names=("SLIPWAY_API_TOKEN", "AWS_SECRET_ACCESS_KEY"),
)


def test_the_service_reads_the_environment_built_here(monkeypatch: pytest.MonkeyPatch) -> None:
    env = build_environment(SPEC)
    lines = env.lines(
        {
            "SLIPWAY_WEBHOOK_SECRET": "s" * 32,
            "SLIPWAY_API_TOKEN": "t" * 32,
            "AWS_SECRET_ACCESS_KEY": "k" * 40,
        }
    )
    assert lines == sorted(lines)
    environ = dict(line.split("=", 1) for line in lines)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    # The service's own Settings class reads exactly what the container will get.
    settings = Settings(_env_file=None)
    assert settings.deploy.stack == "prod"
    assert settings.deploy.branch == "release"
    assert settings.deploy.repo_url == "https://github.com/example/shop.git"
    assert str(settings.deploy.state_dir) == "/var/lib/slipway"
    assert settings.http.host == "0.0.0.0"
    assert settings.http.port == 8000
    assert settings.http.trusted_proxies == ["172.30.77.0/24"]
    assert settings.http.webhook_secret.get_secret_value() == "s" * 32
    assert settings.http.api_token.get_secret_value() == "t" * 32
    assert environ["PULUMI_BACKEND_URL"] == "s3://slipway-state"
    assert environ["AWS_REGION"] == "eu-west-1"


def test_secret_values_are_required_for_every_secret_name() -> None:
    env = build_environment(SPEC)
    with pytest.raises(ServiceEnvironmentError, match="AWS_SECRET_ACCESS_KEY"):
        env.lines({"SLIPWAY_WEBHOOK_SECRET": "s", "SLIPWAY_API_TOKEN": "t"})


def test_repo_url_may_come_as_a_secret_instead() -> None:
    spec = dataclasses.replace(SPEC, repo_url=None, secret_names=("SLIPWAY_REPO_URL",))
    env = build_environment(spec)
    assert "SLIPWAY_REPO_URL" not in env.plain
    assert "SLIPWAY_REPO_URL" in env.secret_names


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"extra_plain": {"SLIPWAY_STACK": "dev"}}, "SLIPWAY_STACK is set by Slipway itself"),
        ({"extra_plain": {"PULUMI_ACCESS_TOKEN": "x"}}, "looks like a secret"),
        ({"extra_plain": {"lower": "x"}}, "'lower' is not an environment variable name"),
        ({"secret_names": ("SLIPWAY_STACK",)}, "set both as plain config and as a secret"),
        ({"secret_names": ("SLIPWAY_WEBHOOK_SECRET",)}, "comes from slipway:webhookSecret"),
        ({"repo_url": None}, "slipway:service.repoUrl"),
        ({"backend_url": None, "secret_names": ()}, "PULUMI_ACCESS_TOKEN"),
    ],
)
def test_refused_with_the_fix(changes: dict, message: str) -> None:
    with pytest.raises(ServiceEnvironmentError, match=message):
        build_environment(dataclasses.replace(SPEC, **changes))


def test_pulumi_cloud_needs_only_its_token() -> None:
    spec = dataclasses.replace(SPEC, backend_url=None, secret_names=("PULUMI_ACCESS_TOKEN",))
    env = build_environment(spec)
    assert "PULUMI_BACKEND_URL" not in env.plain


def test_every_control_stack_setting_maps_to_a_valid_setting() -> None:
    not_settings = {"docker_host", "backend_url", "extra_plain", "secret_names"}
    spec_fields = {f.name for f in dataclasses.fields(EnvironmentSpec)}
    assert spec_fields == set(SPEC_SETTINGS) | not_settings
    for name in SPEC_SETTINGS.values():
        assert setting(name) in SETTINGS
    assert {WEBHOOK_SECRET, REPO_URL} <= set(SETTINGS)
    plain = build_environment(SPEC).plain
    assert [n for n in plain if n.startswith("SLIPWAY_") and n not in SETTINGS] == []


def test_the_control_stack_config_reaches_the_service_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """slipway:service → DeployServiceArgs → the container's environment → Settings."""
    raw = {
        "stack": "prod",
        "repoUrl": "https://github.com/example/shop.git",
        "branch": "release",
        "backendUrl": "s3://slipway-state",
        "dockerGroupId": 988,
        "logLevel": "debug",
        "proxySubnet": "172.30.99.0/24",
        "env": {"SLIPWAY_HOOK_RATE_LIMIT": "10/second"},
    }
    service, secrets, problems = parse_service(raw, {"SLIPWAY_API_TOKEN": "t" * 32})
    assert problems == [] and service is not None
    args = service_args(
        service,
        webhook_url="https://deploy.example.com/hooks/github",
        webhook_secret="s" * 32,
        service_secrets=secrets,
    )
    lines = args.environment().lines({**secrets, WEBHOOK_SECRET: "s" * 32})
    for name in [n for n in os.environ if n.upper().startswith("SLIPWAY_")]:
        monkeypatch.delenv(name)
    for name, value in (line.split("=", 1) for line in lines):
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)
    assert settings.deploy.stack == "prod"
    assert settings.deploy.repo_url == "https://github.com/example/shop.git"
    assert settings.deploy.branch == "release"
    assert settings.http.log_level == "debug"
    assert settings.http.trusted_proxies == ["172.30.99.2/32"]
    assert settings.http.public_url == "https://deploy.example.com"
    assert settings.http.hook_rate_limit == "10/second"
    assert settings.http.api_token.get_secret_value() == "t" * 32
    assert settings.orchestrator.shutdown_grace_seconds == SHUTDOWN_GRACE_SECONDS


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"extra_plain": {"SLIPWAY_HOOK_RATE_LIMT": "5/second"}},
            "SLIPWAY_HOOK_RATE_LIMT is not a setting; did you mean SLIPWAY_HOOK_RATE_LIMIT?",
        ),
        (
            {"secret_names": ("SLIPWAY_API_TOKNE",)},
            "SLIPWAY_API_TOKNE is not a setting; did you mean SLIPWAY_API_TOKEN?",
        ),
    ],
)
def test_a_misspelled_setting_is_refused_before_the_service_gets_it(
    changes: dict, message: str
) -> None:
    with pytest.raises(ServiceEnvironmentError) as raised:
        build_environment(dataclasses.replace(SPEC, **changes))
    assert message in str(raised.value)
