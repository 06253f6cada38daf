"""The service's environment: what Slipway sets, what the operator adds, what is refused."""

from __future__ import annotations

import dataclasses

import pytest

from components.deploy_service.environment import (
    EnvironmentSpec,
    ServiceEnvironmentError,
    build_environment,
)
from webhook.settings import Settings

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
    assert settings.stack == "prod"
    assert settings.branch == "release"
    assert settings.repo_url == "https://github.com/example/shop.git"
    assert str(settings.state_dir) == "/var/lib/slipway"
    assert settings.host == "0.0.0.0"
    assert settings.port == 8000
    assert settings.trusted_proxies == ["172.30.77.0/24"]
    assert settings.webhook_secret.get_secret_value() == "s" * 32
    assert settings.api_token.get_secret_value() == "t" * 32
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
