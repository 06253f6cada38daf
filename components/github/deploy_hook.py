"""DeployHook: the repository webhook that sends pushes and pull requests to the service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_github as github

TYPE_TOKEN = "slipway:github:DeployHook"
REQUIRED_EVENTS = ("push", "pull_request", "ping")


def hook_events(configured: Sequence[str]) -> list[str]:
    """The configured events plus the ones the service relies on, each once, in order."""
    events: list[str] = []
    for event in (*configured, *REQUIRED_EVENTS):
        if event not in events:
            events.append(event)
    return events


@dataclass
class DeployHookArgs:
    repository: str
    url: str
    secret: pulumi.Input[str] = field(repr=False)
    events: Sequence[str] = REQUIRED_EVENTS


class DeployHook(pulumi.ComponentResource):
    """Outputs: `url` (where GitHub delivers) and `events`. The secret is never an output."""

    url: pulumi.Output[str]
    events: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: DeployHookArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        events = hook_events(args.events)
        hook = github.RepositoryWebhook(
            f"{name}-webhook",
            repository=args.repository,
            active=True,
            events=events,
            configuration=github.RepositoryWebhookConfigurationArgs(
                url=args.url,
                content_type="json",
                insecure_ssl=False,
                secret=pulumi.Output.secret(args.secret),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = pulumi.Output.from_input(args.url)
        self.events = hook.events
        self.register_outputs({"url": self.url, "events": self.events})
