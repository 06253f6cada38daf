"""A stack worker deploys below the service's CPU priority (SLIPWAY_DEPLOY_NICE)."""

from __future__ import annotations

import os
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from webhook.orchestrator import OrchestratorSettings
from webhook.orchestrator.worker import StackWorker
from webhook.states import DeploymentKind
from webhook.store import Deployment, NewDeployment, Store


@dataclass
class NicenessPipeline:
    """Stands in for the pipeline: records the nice value a process it starts runs at."""

    settings: OrchestratorSettings
    seen: list[int] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self, job: Deployment, cancel: threading.Event) -> None:
        self.seen.append(int(subprocess.run(["nice"], capture_output=True, text=True).stdout))
        self.done.set()


def test_processes_a_worker_starts_run_niced_and_the_service_is_not(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "slipway.db")
    try:
        new = NewDeployment(kind=DeploymentKind.DEPLOY, stack="dev", sha="a" * 40)
        store.create_deployment(new)
        pipeline = NicenessPipeline(OrchestratorSettings(deploy_nice=6))
        stopping = threading.Event()
        worker = StackWorker("dev", store, pipeline, lambda _: None, stopping)  # type: ignore[arg-type]
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        worker.start()
        worker.wake.set()
        assert pipeline.done.wait(30)
        stopping.set()
        worker.wake.set()
        assert pipeline.seen == [min(19, ours + 6)]
        assert os.getpriority(os.PRIO_PROCESS, 0) == ours  # only the worker's thread
    finally:
        store.close()
