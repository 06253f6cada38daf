"""The GitHub side of the stack, from the typed config: provider, secrets, workflow, webhook.

Called by `__main__.py`; declares nothing when `slipway:github` is not set. Exports the
workflow path, the webhook URL and the secret names (never the values).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_github as github

from components.github.deploy_hook import DeployHook, DeployHookArgs
from components.github.deploy_workflow import DeployWorkflow, DeployWorkflowArgs
from components.github.repo_secrets import RepoSecrets, RepoSecretsArgs
from components.github.workflow import WorkflowSpec

if TYPE_CHECKING:
    from components.config import StackConfig


@dataclass
class GitHubResources:
    workflow: DeployWorkflow
    secrets: RepoSecrets | None
    hook: DeployHook | None


def secrets_to_declare(config: StackConfig, spec: WorkflowSpec) -> dict[str, str]:
    """`slipway:repoSecrets`, plus the health URLs secret derived from `slipway:healthChecks`
    unless the config sets it (the deploy job checks those URLs from outside)."""
    secrets = dict(config.repo_secrets)
    urls = " ".join(check.url for check in config.health_checks)
    if urls and spec.health_urls_secret not in secrets:
        secrets[spec.health_urls_secret] = urls
    return secrets


def missing_workflow_secrets(spec: WorkflowSpec, declared: set[str]) -> list[str]:
    """Secrets the workflow reads that `slipway:repoSecrets` does not declare."""
    return [name for name in spec.secret_names() if name not in declared]


def build_github(config: StackConfig, spec: WorkflowSpec) -> GitHubResources:
    """Declare the GitHub resources of `config` (which has `slipway:github`); `spec` is
    `components.github.workflow.plan_github`'s."""
    assert config.github is not None, "build_github needs slipway:github (see plan_github)"
    repo = config.github
    declared = secrets_to_declare(config, spec)
    provider = github.Provider("github", owner=repo.owner)
    opts = pulumi.ResourceOptions(providers={"github": provider})

    secrets = None
    if declared:
        secrets = RepoSecrets(
            "repo-secrets",
            RepoSecretsArgs(
                repository=repo.name,
                secrets=declared,
                environment=repo.environment,
            ),
            opts=opts,
        )
    missing = missing_workflow_secrets(spec, set(declared))
    if missing:
        pulumi.log.warn(
            f"the deploy workflow reads secrets that slipway:repoSecrets does not set: "
            f"{', '.join(missing)}; set them with `pulumi config set --secret --path "
            f"'slipway:repoSecrets.{missing[0]}' ...` or on GitHub (see docs/secrets.md)"
        )
    workflow = DeployWorkflow(
        "deploy-workflow", DeployWorkflowArgs(repository=repo.name, spec=spec), opts=opts
    )
    hook = None
    if config.webhook is not None:
        hook = DeployHook(
            "deploy-hook",
            DeployHookArgs(
                repository=repo.name,
                url=config.webhook.url,
                secret=config.webhook_secret or "",
                events=config.webhook.events,
            ),
            opts=opts,
        )

    pulumi.export("githubWorkflowPath", workflow.path)
    pulumi.export("githubSecretNames", secrets.names if secrets else [])
    pulumi.export("githubWebhookUrl", hook.url if hook else "")
    return GitHubResources(workflow=workflow, secrets=secrets, hook=hook)
