"""The deploy orchestrator: per-stack workers that deploy, verify and roll back.

`build_orchestrator(settings, store)` gives the service's DeploymentQueue. The package's
names are imported when first used (PEP 562), so that a command importing one light
submodule (`make up`'s webhook/runners/unchanged_up.py uses fingerprint.py) does not pay
for the whole service.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from webhook.orchestrator.config import OrchestratorSettings
    from webhook.orchestrator.observer import DeploymentObserver
    from webhook.orchestrator.service import Orchestrator
    from webhook.queue import DeploymentQueue
    from webhook.runners.base import StackRunner
    from webhook.settings import Settings
    from webhook.store import Store

logger = logging.getLogger("slipway.orchestrator")

_EXPORTS = {
    "DeploymentObserver": "webhook.orchestrator.observer",
    "Orchestrator": "webhook.orchestrator.service",
    "OrchestratorSettings": "webhook.orchestrator.config",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_orchestrator(
    settings: Settings,
    store: Store,
    runner: StackRunner | None = None,
    orchestrator_settings: OrchestratorSettings | None = None,
    observer: DeploymentObserver | None = None,
) -> Orchestrator:
    """The orchestrator for the service: git mirror under the state dir, the Pulumi
    Automation API runner unless another `runner` is given. `observer` (e.g.
    webhook.feedback.wiring.GitHubFeedback) hears every state change; `orchestrator_settings`
    replaces `settings.orchestrator`."""
    from webhook.orchestrator.checkout import GitMirror
    from webhook.orchestrator.pipeline import Pipeline, binds_root
    from webhook.orchestrator.preflight import Preflight
    from webhook.orchestrator.recovery import Recovery
    from webhook.orchestrator.service import Orchestrator

    config = orchestrator_settings or settings.orchestrator
    if runner is None:
        from webhook.runners.automation import AutomationRunner

        runner = AutomationRunner()
    mirror = GitMirror(settings.deploy.repo_url, settings.deploy.state_dir)
    # The commands the runner and the mirror need; the binds folder writable.
    preflight = Preflight.for_runner(runner, binds_root(settings.deploy.state_dir))
    pipeline = Pipeline(store, mirror, runner, config, observer, preflight)
    return Orchestrator(store, pipeline, Recovery(store, mirror, runner, observer, preflight))


def service_queue(
    settings: Settings, store: Store, observer: DeploymentObserver | None = None
) -> DeploymentQueue:
    """The queue `create_app` should use: the orchestrator when SLIPWAY_REPO_URL is set,
    else the RecordingQueue (requests are recorded and stay `queued`), with a warning."""
    from webhook.queue import RecordingQueue

    if settings.deploy.repo_url:
        return build_orchestrator(settings, store, observer=observer)
    logger.warning(
        "SLIPWAY_REPO_URL is not set: deployment requests are recorded but nothing is "
        "deployed. Set it to the repository to deploy (see docs/runbook.md)."
    )
    return RecordingQueue(store)


__all__ = [
    "DeploymentObserver",
    "Orchestrator",
    "OrchestratorSettings",
    "build_orchestrator",
    "service_queue",
]
