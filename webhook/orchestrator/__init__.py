"""The deploy orchestrator: per-stack workers that deploy, verify and roll back.

`build_orchestrator(settings, store)` gives the service's DeploymentQueue.
"""

from __future__ import annotations

from webhook.checkout import GitMirror
from webhook.orchestrator.config import OrchestratorSettings
from webhook.orchestrator.pipeline import Pipeline
from webhook.orchestrator.recovery import Recovery
from webhook.orchestrator.service import Orchestrator
from webhook.runners.base import StackRunner
from webhook.settings import Settings
from webhook.store import Store


def build_orchestrator(
    settings: Settings,
    store: Store,
    runner: StackRunner | None = None,
    orchestrator_settings: OrchestratorSettings | None = None,
) -> Orchestrator:
    """The orchestrator for the service: git mirror under the state dir, the Pulumi
    Automation API runner unless another `runner` is given."""
    if runner is None:
        from webhook.runners.automation import AutomationRunner

        runner = AutomationRunner()
    mirror = GitMirror(settings.repo_url, settings.state_dir)
    config = orchestrator_settings or OrchestratorSettings()
    pipeline = Pipeline(store, mirror, runner, config)
    return Orchestrator(store, pipeline, Recovery(store, mirror, runner))


__all__ = ["Orchestrator", "OrchestratorSettings", "build_orchestrator"]
