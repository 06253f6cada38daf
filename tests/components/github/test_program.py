"""The Pulumi program's GitHub side under Pulumi's mocks (the real `__main__.py`).

Prod-like config: Pulumi.prod.yaml plus the secret values `pulumi config set --secret`
would add. What is checked is what the engine would receive: types, inputs, parents, and
which values are marked secret.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.github.workflow import (
    WORKFLOW_PATH,
    WorkflowSpec,
    WorkflowSpecError,
    render_workflow,
)
from tests.support.program_run import ProgramRun, run_program, stack_config

SECRET_VALUES = {
    "slipway:repoSecrets": {
        "VPS_HOST": "vps.example.com",
        "DEPLOY_URL": "https://deploy.example.com:8443",
        "DEPLOY_TOKEN": "tok-0123456789abcdef0123456789abcdef",
    },
    "slipway:webhookSecret": "hook-secret-0123456789abcdef0123",
}
SECRET_KEYS = tuple(SECRET_VALUES)
GITHUB_TYPES = {
    "slipway:github:RepoSecrets",
    "slipway:github:DeployWorkflow",
    "slipway:github:DeployHook",
    "github:index/actionsSecret:ActionsSecret",
    "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
    "github:index/repositoryEnvironment:RepositoryEnvironment",
    "github:index/repositoryFile:RepositoryFile",
    "github:index/repositoryWebhook:RepositoryWebhook",
    "pulumi:providers:github",
}


def _prod_config(**changes: Any) -> dict[str, Any]:
    config = {**stack_config("prod"), **SECRET_VALUES}
    for key, value in changes.items():
        full = f"slipway:{key}"
        if value is None:
            config.pop(full, None)
        else:
            config[full] = value
    return config


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return run_program("prod", _prod_config(), secret_keys=SECRET_KEYS)


def _child_of(run: ProgramRun, child_type: str, component_type: str) -> list:
    parents = {r.urn for r in run.of_type(component_type)}
    children = run.of_type(child_type)
    assert children, f"no {child_type} declared"
    assert all(c.parent in parents for c in children), f"{child_type} not parented to component"
    return children


def test_environment_secrets_one_per_configured_name_values_secret(prod: ProgramRun) -> None:
    secrets = _child_of(
        prod,
        "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
        "slipway:github:RepoSecrets",
    )
    by_name = {s.inputs["secretName"]: s for s in secrets}
    configured = SECRET_VALUES["slipway:repoSecrets"]
    health_urls = " ".join(c["url"] for c in stack_config("prod")["slipway:healthChecks"])
    assert set(by_name) == {*configured, "HEALTH_URLS"}
    for name, declared in by_name.items():
        assert declared.inputs["repository"] == "shop"
        assert declared.inputs["environment"] == "production"
        assert "value" in declared.secret_inputs, f"{name} value is not marked secret"
        assert declared.inputs["value"] == configured.get(name, health_urls)
    assert prod.of_type("github:index/actionsSecret:ActionsSecret") == []
    (environment,) = prod.of_type("github:index/repositoryEnvironment:RepositoryEnvironment")
    assert environment.inputs == {"repository": "shop", "environment": "production"}


def test_workflow_file_is_the_rendered_workflow_on_the_branch(prod: ProgramRun) -> None:
    (file,) = _child_of(
        prod, "github:index/repositoryFile:RepositoryFile", "slipway:github:DeployWorkflow"
    )
    assert file.inputs["file"] == WORKFLOW_PATH
    assert file.inputs["branch"] == "main"
    assert file.inputs["repository"] == "shop"
    assert file.inputs["content"] == render_workflow(
        WorkflowSpec(branch="main", environment="production")
    )


def test_webhook_points_at_the_service_with_a_secret(prod: ProgramRun) -> None:
    (hook,) = _child_of(
        prod, "github:index/repositoryWebhook:RepositoryWebhook", "slipway:github:DeployHook"
    )
    assert hook.inputs["events"] == ["push", "pull_request", "ping"]
    assert hook.inputs["active"] is True
    assert "configuration" in hook.secret_inputs, "the hook secret must be marked secret"
    assert hook.inputs["configuration"] == {
        "url": "https://deploy.example.com/hooks/github",
        "contentType": "json",
        "insecureSsl": False,
        "secret": SECRET_VALUES["slipway:webhookSecret"],
    }


def test_provider_owner_comes_from_the_repository(prod: ProgramRun) -> None:
    (provider,) = prod.of_type("pulumi:providers:github")
    assert provider.inputs["owner"] == "example"
    for resource in prod.resources:
        if resource.type.startswith("github:index/"):
            assert resource.provider.startswith(provider.urn), resource.name


def test_outputs_name_the_secrets_but_never_hold_their_values(prod: ProgramRun) -> None:
    outputs = prod.outputs
    assert outputs["githubWorkflowPath"] == WORKFLOW_PATH
    assert outputs["githubWebhookUrl"] == "https://deploy.example.com/hooks/github"
    assert outputs["githubSecretNames"] == sorted(
        {*SECRET_VALUES["slipway:repoSecrets"], "HEALTH_URLS"}
    )
    text = repr(outputs)
    for value in (
        *SECRET_VALUES["slipway:repoSecrets"].values(),
        SECRET_VALUES["slipway:webhookSecret"],
    ):
        assert value not in text


def test_repository_secrets_without_an_environment(tmp_path) -> None:
    github = {"repository": "example/shop", "branch": "trunk"}
    run = run_program("prod", _prod_config(github=github), secret_keys=SECRET_KEYS)
    secrets = run.of_type("github:index/actionsSecret:ActionsSecret")
    assert {s.inputs["secretName"] for s in secrets} >= set(SECRET_VALUES["slipway:repoSecrets"])
    assert all("value" in s.secret_inputs for s in secrets)
    assert run.of_type("github:index/repositoryEnvironment:RepositoryEnvironment") == []
    (file,) = run.of_type("github:index/repositoryFile:RepositoryFile")
    assert file.inputs["branch"] == "trunk"
    assert file.inputs["content"] == render_workflow(WorkflowSpec(branch="trunk", environment=""))


def test_a_missing_workflow_secret_is_warned_about() -> None:
    secrets = {"DEPLOY_URL": "https://deploy.example.com"}
    run = run_program(
        "prod",
        _prod_config(repoSecrets=secrets, healthChecks=None),
        secret_keys=SECRET_KEYS,
    )
    assert any("DEPLOY_TOKEN, HEALTH_URLS" in w for w in run.warnings), run.warnings


def test_nothing_on_github_without_slipway_github() -> None:
    run = run_program(
        "prod",
        _prod_config(github=None, webhook=None, webhookSecret=None, repoSecrets=None),
        secret_keys=(),
    )
    assert run.resources, "the program declared nothing at all?"
    assert not [r for r in run.resources if r.type in GITHUB_TYPES]
    assert not {k for k in run.outputs if k.startswith("github")}


def test_a_bad_branch_fails_the_program_naming_the_key() -> None:
    github = {"repository": "example/shop", "branch": "main' || true", "environment": "prod"}
    with pytest.raises(WorkflowSpecError, match=r"slipway:github\.branch"):
        run_program("prod", _prod_config(github=github), secret_keys=SECRET_KEYS)
