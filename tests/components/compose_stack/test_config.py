"""The typed stack config: defaults, every key of the contract, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config import ConfigError, GitHubConfig, HealthCheck, WebhookConfig, parse_config


def _parse(raw: dict, repo_root: Path, secret_keys=frozenset(), stack: str = "dev"):
    return parse_config(raw, stack=stack, root=repo_root, secret_keys=frozenset(secret_keys))


def test_defaults(repo_root: Path) -> None:
    config = _parse({"composeFiles": ["stacks/app.yml"]}, repo_root, stack="Dev")
    assert config.compose_files == (repo_root / "stacks" / "app.yml",)
    assert config.compose_project == "slipway-dev"
    assert config.profiles == ()
    assert config.docker_host is None and not config.remote_docker_host
    assert config.health_checks == ()
    assert config.github is None and config.webhook is None and config.webhook_secret is None
    assert config.repo_secrets == {}
    assert config.role == "app"


def test_the_whole_contract(repo_root: Path) -> None:
    raw = {
        "composeFiles": ["stacks/app.yml", "stacks/monitoring.yml"],
        "composeProject": "shop",
        "profiles": ["debug"],
        "dockerHost": "ssh://deploy@vps.example.com",
        "healthChecks": [
            {"url": "https://shop.example.com/healthz", "status": 204, "timeoutSeconds": 3}
        ],
        "github": {"repository": "example/shop", "environment": "production"},
        "repoSecrets": {"DEPLOY_TOKEN": "t"},
        "webhook": {"url": "https://deploy.example.com/hooks/github"},
        "webhookSecret": "s",
        # control stacks refuse the app keys (tests/deploy_service/test_program_roles.py)
        "role": "app",
    }
    config = _parse(raw, repo_root, secret_keys={"repoSecrets", "webhookSecret"})
    assert config.compose_project == "shop"
    assert config.profiles == ("debug",)
    assert config.remote_docker_host
    assert config.health_checks == (HealthCheck("https://shop.example.com/healthz", 204, 3.0),)
    assert config.github == GitHubConfig("example/shop", "main", "production")
    assert (config.github.owner, config.github.name) == ("example", "shop")
    assert config.repo_secrets == {"DEPLOY_TOKEN": "t"}
    assert config.webhook == WebhookConfig(
        "https://deploy.example.com/hooks/github", ("push", "pull_request")
    )
    assert config.webhook_secret == "s"
    assert config.role == "app"
    assert "repo_secrets" not in repr(config) and "webhook_secret" not in repr(config)


def test_github_test_command_defaults_to_make_test_and_can_be_set(repo_root: Path) -> None:
    base = {"composeFiles": ["stacks/app.yml"]}
    plain = _parse({**base, "github": {"repository": "example/shop"}}, repo_root)
    assert plain.github is not None and plain.github.test_command == "make test"
    own = {"repository": "example/shop", "testCommand": "npm ci && npm test"}
    config = _parse({**base, "github": own}, repo_root)
    assert config.github is not None and config.github.test_command == "npm ci && npm test"


def test_control_role_needs_no_compose_files(repo_root: Path) -> None:
    control = {
        "role": "control",
        "webhook": {"url": "https://deploy.example.com/hooks/github"},
        "webhookSecret": "s",
        "service": {"stack": "prod", "repoUrl": "/srv/repo.git", "dockerGroupId": 998},
        "serviceSecrets": {"PULUMI_ACCESS_TOKEN": "pul-token"},
    }
    secret_keys = {"webhookSecret", "serviceSecrets"}
    assert _parse(control, repo_root, secret_keys=secret_keys).compose_files == ()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "slipway:composeFiles: missing: list the Compose files"),
        ({"composeFiles": ["nope.yml"]}, "slipway:composeFiles: nope.yml does not exist"),
        ({"composeFile": ["stacks/app.yml"]}, "slipway:composeFile: unknown key"),
        (
            {"composeProject": "My Shop"},
            "slipway:composeProject: 'My Shop' is not a Compose project name",
        ),
        (
            {"dockerHost": "vps.example.com"},
            "slipway:dockerHost: 'vps.example.com' is not a Docker endpoint",
        ),
        (
            {"healthChecks": [{"url": "localhost/healthz"}]},
            "slipway:healthChecks[0].url: must be an http(s) URL",
        ),
        (
            {"healthChecks": [{"url": "http://x", "status": 99}]},
            "slipway:healthChecks[0].status: must be an HTTP status code",
        ),
        ({"healthChecks": [{"url": "http://x", "timeout": 3}]}, "unknown field(s) timeout"),
        ({"github": {"repository": "shop"}}, "slipway:github: expected {repository: owner/name"),
        ({"role": "admin"}, "slipway:role: 'admin' is not one of app, control"),
        (
            {"webhook": {"url": "https://x.example/h"}, "github": {"repository": "a/b"}},
            "slipway:webhookSecret: missing while slipway:webhook is set",
        ),
        (
            {
                "webhook": {"url": "http://x.example/h"},
                "webhookSecret": "s",
                "github": {"repository": "a/b"},
            },
            "must use https://",
        ),
        (
            {"repoSecrets": {"GITHUB_TOKEN": "x"}, "github": {"repository": "a/b"}},
            "slipway:repoSecrets.GITHUB_TOKEN: GitHub secret names",
        ),
        (
            {"repoSecrets": {"A": "x"}},
            "slipway:github: missing while webhook or repoSecrets are set",
        ),
        ({"profiles": "debug,web"}, None),
    ],
)
def test_errors_name_the_key_and_the_fix(raw: dict, message: str | None, repo_root: Path) -> None:
    raw = {"composeFiles": ["stacks/app.yml"], **raw} if raw and "composeFiles" not in raw else raw
    secret_keys = {"repoSecrets", "webhookSecret"}
    if message is None:
        assert _parse(raw, repo_root, secret_keys).profiles == ("debug,web",)
        return
    with pytest.raises(ConfigError) as info:
        _parse(raw, repo_root, secret_keys)
    assert any(message in p for p in info.value.problems), info.value.problems


def test_secrets_in_plain_text_are_refused(repo_root: Path) -> None:
    raw = {
        "composeFiles": ["stacks/app.yml"],
        "webhookSecret": "s",
        "repoSecrets": {"A": "b"},
        "github": {"repository": "a/b"},
    }
    with pytest.raises(ConfigError) as info:
        _parse(raw, repo_root)
    assert [p for p in info.value.problems if "plain text" in p] == [
        "slipway:repoSecrets: stored in plain text; set it with "
        "`pulumi config set --secret slipway:repoSecrets ...` (for a map: --path)",
        "slipway:webhookSecret: stored in plain text; set it with "
        "`pulumi config set --secret slipway:webhookSecret ...` (for a map: --path)",
    ]


def test_all_problems_at_once(repo_root: Path) -> None:
    with pytest.raises(ConfigError) as info:
        _parse({"composeFiles": ["a.yml", "b.yml"], "role": "x", "dockerHost": "nope"}, repo_root)
    assert len(info.value.problems) == 4
    assert str(info.value).startswith("the stack config is invalid (4 problem(s)):")


def test_default_project_is_a_valid_compose_name(repo_root: Path) -> None:
    config = _parse({"composeFiles": ["stacks/app.yml"]}, repo_root, stack="Staging.EU")
    assert config.compose_project == "slipway-staging-eu"
