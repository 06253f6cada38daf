"""A worker node lost (its dockerd stopped) while a release rolls out across the lab Swarm.

Swarm's updater then waits for a task it placed on the lost node, for ever: the deployment
must still end, and in a state that tells the truth: `succeeded` only when every service
runs the new release on the nodes left (its tasks rescheduled), else `rolled_back` with
every service on the previous release again, the log naming the lost node. The store keeps
both deployments, their histories and their logs. The node is started again afterwards.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.support import deploy_loop
from tests.support.deploy_loop import REAL, serving
from tests.support.swarm.lab import wait_for
from tests.support.swarm.swarm_repo import SwarmRepo, build_release, image
from webhook.store.states import DeploymentState as S

pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.docker_engine,
    pytest.mark.slow,
    pytest.mark.timeout(1200),
]
LOST = 3  # the lab's node 3: a worker (node 1 is the manager)


def test_a_worker_lost_during_a_deploy_ends_truthfully(
    swarm_lab, tmp_path: Path, fake_github, octokit_examples_dir, monkeypatch
) -> None:
    # Rolling updates on three engines of a shared 2-core machine: a wider bound.
    monkeypatch.setattr(deploy_loop, "DEPLOY_LIMIT", 600.0)
    build_release(swarm_lab, "r1")
    build_release(swarm_lab, "r2")
    suffix = uuid.uuid4().hex[:8]
    repo = SwarmRepo.create(tmp_path / "repo", f"n{suffix}", f"slipway-n{suffix}", 18183, swarm_lab)
    lost = f"{swarm_lab.env['SLIPWAY_SWARM_LAB_NAME']}-n{LOST}"
    with serving(repo, tmp_path, fake_github, octokit_examples_dir, REAL) as loop:
        service = loop.service
        first = loop.wait(loop.push(repo.release("r1")))
        assert first.state == S.SUCCEEDED, "\n".join(loop.log(first.id)[-40:])

        second = loop.push(repo.release("r2"))
        new_worker = image("worker", "r2")
        wait_for(
            lambda: True if repo.spec_image("worker") == new_worker else None,
            "the worker's rolling update to start",
        )
        swarm_lab.stop_node(LOST)  # during the rolling update: Swarm sees the node Down
        try:
            ended = loop.wait(second)
            log = "\n".join(loop.log(second))
            assert ended.state in (S.SUCCEEDED, S.ROLLED_BACK), log[-6000:]
            release = "r2" if ended.state == S.SUCCEEDED else "r1"
            if ended.state == S.ROLLED_BACK:
                assert f"on node {lost}, which is down" in log, log[-6000:]
            # The record's claim holds on the Swarm: every service, spec and running tasks,
            # runs the release it names, the worker's replicas all on the worker left.
            for name in ("api", "worker"):
                assert repo.spec_image(name) == image(name, release), log[-4000:]
                wait_for(
                    lambda name=name: (
                        True if repo.running_images(name) == {image(name, release)} else None
                    ),
                    f"{name}'s running tasks on {release}",
                )
            left = [f"{lost[:-1]}2"] * 2  # the worker node left runs both replicas
            seen: list[list[str]] = []

            def placed() -> bool | None:
                seen.append(sorted(swarm_lab.node_of_tasks(repo.service_name("worker")).values()))
                return True if seen[-1] == left else None

            try:
                wait_for(placed, "the worker's replicas on the node left")
            except AssertionError as error:
                raise AssertionError(
                    f"{error}: last {seen[-1:]}, {ended.state}\n{log[-3000:]}"
                ) from error
            # Nothing lost from the store: both deployments, their histories, their logs.
            listed = service.store.list_deployments(stack=repo.stack, ascending=True)
            assert [(d.id, d.state) for d in listed] == [
                (first.id, S.SUCCEEDED),
                (second, ended.state),
            ]
            history = [c.state for c in service.store.state_history(second)]
            assert history[0] == S.QUEUED and history[-1] == ended.state, history
            assert loop.log(first.id) and log
        finally:
            swarm_lab.start_node(LOST)
