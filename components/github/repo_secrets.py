"""RepoSecrets: one GitHub Actions secret per entry of `slipway:repoSecrets`.

Values are wrapped in `pulumi.Output.secret`, so they stay encrypted in the state and never
appear in outputs; only the names are exported. With an environment, the component also
declares the environment and puts the secrets there (only jobs in it can read them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_github as github

TYPE_TOKEN = "slipway:github:RepoSecrets"


@dataclass
class RepoSecretsArgs:
    """`repository` is the repository's name (the owner is the GitHub provider's)."""

    repository: str
    secrets: Mapping[str, pulumi.Input[str]] = field(repr=False)
    environment: str | None = None


class RepoSecrets(pulumi.ComponentResource):
    """Outputs: `names` (the secret names, sorted) and `environment` ("" for repository-wide)."""

    names: pulumi.Output[list[str]]
    environment: pulumi.Output[str]

    def __init__(
        self, name: str, args: RepoSecretsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        names = sorted(args.secrets)
        if args.environment:
            environment = github.RepositoryEnvironment(
                f"{name}-environment",
                repository=args.repository,
                environment=args.environment,
                opts=pulumi.ResourceOptions(parent=self),
            )
            for secret in names:
                github.ActionsEnvironmentSecret(
                    f"{name}-{secret}",
                    repository=args.repository,
                    environment=environment.environment,
                    secret_name=secret,
                    value=pulumi.Output.secret(args.secrets[secret]),
                    opts=pulumi.ResourceOptions(parent=self),
                )
        else:
            for secret in names:
                github.ActionsSecret(
                    f"{name}-{secret}",
                    repository=args.repository,
                    secret_name=secret,
                    value=pulumi.Output.secret(args.secrets[secret]),
                    opts=pulumi.ResourceOptions(parent=self),
                )
        self.names = pulumi.Output.from_input(names)
        self.environment = pulumi.Output.from_input(args.environment or "")
        self.register_outputs({"names": self.names, "environment": self.environment})
