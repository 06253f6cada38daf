"""DeployWorkflow: the rendered deploy workflow as a file in the repository, on the branch."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_github as github

from components.github.workflow import WORKFLOW_PATH, WorkflowSpec, render_workflow

TYPE_TOKEN = "slipway:github:DeployWorkflow"


@dataclass
class DeployWorkflowArgs:
    """`spec.branch` is both the branch the file is committed to and the one deployed."""

    repository: str
    spec: WorkflowSpec = field(default_factory=WorkflowSpec)
    commit_message: str = "slipway: update the deploy workflow"


class DeployWorkflow(pulumi.ComponentResource):
    """Outputs: `path` (.github/workflows/deploy.yml), `branch`, and the `content` written."""

    path: pulumi.Output[str]
    branch: pulumi.Output[str]
    content: pulumi.Output[str]

    def __init__(
        self, name: str, args: DeployWorkflowArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        content = render_workflow(args.spec)  # raises WorkflowSpecError before any resource
        file = github.RepositoryFile(
            f"{name}-file",
            repository=args.repository,
            branch=args.spec.branch,
            file=WORKFLOW_PATH,
            content=content,
            commit_message=args.commit_message,
            # Adopting a repository that already has a deploy.yml replaces it (see docs/github.md).
            overwrite_on_create=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.path = file.file
        self.branch = file.branch
        self.content = file.content
        self.register_outputs({"path": self.path, "branch": self.branch})
