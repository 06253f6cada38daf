"""A stack of the project whose GitHub side points the real github provider at a fake API.

Built on tests/support/real_stack.py (a copy of the project, its own stack and file backend). The
stack deploys no Compose service (an empty Compose file) and declares the GitHub resources
from `slipway:github`, `slipway:repoSecrets`, `slipway:webhook` and `slipway:webhookSecret`.
The secret values are set the way docs/secrets.md says, with `pulumi config set --secret`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.support.fake_github import FakeGitHub
from tests.support.real_stack import RealStack, make_real_stack

EMPTY_COMPOSE = "github-only-compose.yml"


@dataclass(frozen=True)
class GitHubSide:
    """What the stack config asks for on GitHub."""

    branch: str
    environment: str | None
    secrets: dict[str, str] = field(repr=False)
    webhook_url: str = "https://deploy.example.test/hooks/github"
    events: tuple[str, ...] = ("push", "pull_request", "release")
    webhook_secret: str = field(default="", repr=False)


def stack_config(api: FakeGitHub, side: GitHubSide, project: str) -> dict:
    """The plain part of `Pulumi.<stack>.yaml` (secrets are added through the CLI)."""
    github = {"repository": f"{api.repository.owner}/{api.repository.repo}", "branch": side.branch}
    if side.environment:
        github["environment"] = side.environment
    return {
        "config": {
            "slipway:composeFiles": [EMPTY_COMPOSE],
            "slipway:composeProject": project,
            "slipway:github": github,
            "slipway:webhook": {"url": side.webhook_url, "events": list(side.events)},
        }
    }


def make_github_stack(tmp_path: Path, api: FakeGitHub, side: GitHubSide) -> RealStack:
    """A RealStack whose provider talks to `api`; its secrets set with the Pulumi CLI."""
    stack = make_real_stack(tmp_path)
    (stack.work / EMPTY_COMPOSE).write_text("services: {}\n")
    config = stack_config(api, side, stack.project)
    (stack.work / f"Pulumi.{stack.stack}.yaml").write_text(yaml.safe_dump(config))
    stack.env.update(GITHUB_BASE_URL=f"{api.url}/", GITHUB_TOKEN=api.token)
    stack.env.pop("GITHUB_OWNER", None)  # the program gives the provider its owner
    _check(stack.pulumi("stack", "init"))
    for name, value in side.secrets.items():
        _check(stack.pulumi("config", "set", "--secret", "--path", f"slipway:repoSecrets.{name}",
                            value))  # fmt: skip
    _check(stack.pulumi("config", "set", "--secret", "slipway:webhookSecret", side.webhook_secret))
    return stack


def _check(result) -> None:
    assert result.returncode == 0, result.stderr + result.stdout
