"""A two-service stack on the 3-node lab Swarm through the real Pulumi CLI and provider.

api is global (a task on every node, host-mode port), worker has 2 replicas on the
workers. A bad release (api's healthcheck fails) makes Swarm roll back api alone and
leave worker on the new release (docker/cli#595); the orchestrator must then roll the
whole stack back, so that every service runs the last healthy commit's image again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.deploy_loop import REAL, Loop
from tests.support.fake_github import REPO, TOKEN
from tests.support.live_service import live_service
from tests.support.paths import REPO_ROOT
from tests.support.real_stack import pulumi_env
from tests.support.swarm.lab import http_text, wait_for
from tests.support.swarm.swarm_repo import SwarmRepo, build_release, image
from webhook.runners.automation import AutomationRunner
from webhook.store.states import DeploymentState as S

# Three `up`s of rolling updates on a shared 2-core machine: more than the default 300 s.
pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.docker_engine,
    pytest.mark.slow,
    pytest.mark.timeout(1200),
]


@pytest.fixture(scope="module")
def releases(swarm_lab) -> dict[str, str]:
    """r1 and r2 healthy, r3 whose api fails its healthcheck; in every node."""
    build_release(swarm_lab, "r1")
    build_release(swarm_lab, "r2")
    build_release(swarm_lab, "r3", healthy=False)
    return {"good": "r1", "next": "r2", "bad": "r3"}


def _repo(tmp_path: Path, lab, port: int) -> SwarmRepo:
    suffix = uuid.uuid4().hex[:8]
    return SwarmRepo.create(tmp_path / "repo", f"s{suffix}", f"slipway-s{suffix}", port, lab)


def _up(repo: SwarmRepo, env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "webhook.runners.stack_process", "up", *args,
         "--stack", repo.stack, "--work-dir", str(repo.path)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    text = done.stdout
    return json.loads(text[text.rindex("\n{") + 1 :] if "\n{" in text else text)


def test_deploy_across_nodes_a_noop_then_an_update(swarm_lab, releases, tmp_path) -> None:
    repo = _repo(tmp_path, swarm_lab, 18181)
    env = {**os.environ, **pulumi_env(tmp_path / "backend")}
    repo.release("r1")
    summary = _up(repo, env, "--check-health")
    assert summary["health"]["healthy"] is True, summary
    assert summary["outputs"]["services"] == {
        "api": repo.service_name("api"),
        "worker": repo.service_name("worker"),
    }
    lab_name = swarm_lab.env["SLIPWAY_SWARM_LAB_NAME"]
    api_nodes = sorted(swarm_lab.node_of_tasks(repo.service_name("api")).values())
    worker_nodes = sorted(swarm_lab.node_of_tasks(repo.service_name("worker")).values())
    assert api_nodes == [f"{lab_name}-n1", f"{lab_name}-n2", f"{lab_name}-n3"]
    assert worker_nodes == [f"{lab_name}-n2", f"{lab_name}-n3"]  # placement: workers only
    for url in repo.health_urls:  # every node answers, through its own task
        assert wait_for(lambda url=url: http_text(url), url) == "ok release=r1"

    again = _up(repo, env)
    assert set(again["changes"]) == {"same"}, f"a second up changed something: {again}"

    repo.release("r2")
    updated = _up(repo, env, "--check-health")
    assert updated["health"]["healthy"] is True, updated
    for service in ("api", "worker"):
        assert repo.spec_image(service) == image(service, "r2")
        assert repo.running_images(service) == {image(service, "r2")}
    assert http_text(repo.health_urls[2]) == "ok release=r2"


def test_a_bad_release_is_rolled_back_as_a_whole(
    swarm_lab, releases, tmp_path, fake_github, octokit_examples_dir
) -> None:
    repo = _repo(tmp_path, swarm_lab, 18182)
    env = pulumi_env(tmp_path / "backend")
    good = repo.release("r1")
    with live_service(
        repo=repo.path, state_dir=tmp_path / "state", runner=AutomationRunner(env_vars=env),
        github_url=fake_github.url, token=TOKEN, repository=REPO, stack=repo.stack,
        config=REAL,
    ) as service:  # fmt: skip
        loop = Loop(repo, service, {**os.environ, **env}, fake_github, octokit_examples_dir)
        first = loop.wait(loop.push(good))
        assert first.state == S.SUCCEEDED, "\n".join(loop.log(first.id)[-40:])

        bad = repo.release("r3")
        deployment = loop.wait(loop.push(bad))
        log = "\n".join(loop.log(deployment.id))
        assert deployment.state == S.ROLLED_BACK, log[-6000:]
        api = repo.service_name("api")
        assert f"service {api}: Swarm rolled it back" in log, log[-6000:]
        # The record names the failing service first, from the real engine's output.
        notes = [c.note for c in service.store.state_history(deployment.id) if c.state == S.FAILED]
        failing = f"service {api} failed: Swarm rolled it back (rollback completed; a task of "
        assert notes and notes[0].startswith(f"{failing}{image('api', 'r3')} failed: "), (
            f"{notes}\n{log[-6000:]}"
        )
    # Not half old, half new: every service runs the last healthy commit's image again,
    # in its spec and in every running task on every node.
    for service in ("api", "worker"):
        assert repo.spec_image(service) == image(service, "r1"), log[-4000:]
        assert repo.running_images(service) == {image(service, "r1")}, log[-4000:]
    assert http_text(repo.health_urls[0]) == "ok release=r1"
