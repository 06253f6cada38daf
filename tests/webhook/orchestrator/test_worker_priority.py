"""A stack worker deploys below the service's CPU priority: niced (SLIPWAY_DEPLOY_NICE), and
the programs it starts in the idle CPU group (SLIPWAY_DEPLOY_CPU_IDLE)."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from webhook.orchestrator import OrchestratorSettings, worker
from webhook.orchestrator.worker import StackWorker
from webhook.runners.cpu_group import GROUP, command
from webhook.store import Deployment, NewDeployment, Store
from webhook.store.states import DeploymentKind


@dataclass
class ObservingPipeline:
    """Stands in for the pipeline: records what `observe` sees from the worker's thread, then
    stops the worker (the job stays queued: a stand-in records no state)."""

    settings: OrchestratorSettings
    observe: Callable[[], object]
    seen: list[object] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self, job: Deployment, cancel: threading.Event) -> None:
        self.seen.append(self.observe())
        self.stopping.set()


def run_one_deployment(tmp_path: Path, pipeline: ObservingPipeline) -> object:
    """What the pipeline saw while a worker ran one queued deployment."""
    store = Store.open(tmp_path / "slipway.db")
    try:
        new = NewDeployment(kind=DeploymentKind.DEPLOY, stack="dev", sha="a" * 40)
        store.create_deployment(new)
        stack_worker = StackWorker("dev", store, pipeline, lambda _: None, pipeline.stopping)  # type: ignore[arg-type]
        stack_worker.start()
        stack_worker.wake.set()
        assert stack_worker.thread is not None
        stack_worker.thread.join(30)  # done with the store before it closes
        assert not stack_worker.thread.is_alive()
        (seen,) = pipeline.seen
        return seen
    finally:
        store.close()


def nice_of_a_child() -> int:
    return int(subprocess.run(["nice"], capture_output=True, text=True).stdout)


def test_processes_a_worker_starts_run_niced_and_the_service_is_not(tmp_path: Path) -> None:
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    pipeline = ObservingPipeline(OrchestratorSettings(deploy_nice=6), nice_of_a_child)
    assert run_one_deployment(tmp_path, pipeline) == min(19, ours + 6)
    assert os.getpriority(os.PRIO_PROCESS, 0) == ours  # only the worker's thread


@pytest.mark.parametrize("idle", [True, False])
def test_programs_a_worker_starts_join_the_idle_group_only_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, idle: bool
) -> None:
    group = tmp_path / GROUP
    group.mkdir()
    (group / "cgroup.procs").write_text("")  # a fake group: the joining shell writes "0"
    monkeypatch.setattr(worker, "deploy_group", lambda: group)
    settings = OrchestratorSettings(deploy_cpu_idle=idle)
    pipeline = ObservingPipeline(settings, lambda: subprocess.run(command(["true"])).returncode)
    assert run_one_deployment(tmp_path, pipeline) == 0
    assert (group / "cgroup.procs").read_text() == ("0\n" if idle else "")
    assert command(["true"]) == ["true"]  # the service's own threads start programs as is
