"""The unchanged deploy on the real parts: a push whose rendered stack equals the last
healthy one, on an engine that still runs exactly that, skips `up` and still checks
health; any doubt runs the full `up` (webhook/orchestrator/unchanged.py).

Each test deploys a release, then pushes a commit that changes only a doc (the same
rendered stack) after one change the unchanged path must notice, and asserts which path the
deployment took and why (the `stack_applies` record and its log).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.demo_repo import DemoRepo
from tests.support.deploy_loop import Loop
from tests.support.git import git
from tests.support.live_service import API_TOKEN
from tests.support.real_stack import docker_inspect
from webhook.store import Deployment, StackApply
from webhook.store.states import DeploymentState

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]
S = DeploymentState


def doc_commit(repo: DemoRepo, text: str) -> str:
    """A commit that changes nothing the stack deploys."""
    (repo.path / "NOTES.md").write_text(text)
    return commit(repo, f"docs: {text}")


def commit(repo: DemoRepo, message: str) -> str:
    git(repo.path, "add", "-A")
    git(repo.path, "commit", "-q", "-m", message)
    return git(repo.path, "rev-parse", "HEAD")


def deployed(loop: Loop, sha: str) -> Deployment:
    found = loop.wait(loop.push(sha))
    assert found.state == S.SUCCEEDED, "\n".join(loop.log(found.id))
    return found


def the_apply(loop: Loop, deployment: Deployment) -> StackApply:
    applies = loop.service.store.applies_of(deployment.id)
    assert applies, "\n".join(loop.log(deployment.id))
    return applies[0]


def assert_full_up(loop: Loop, deployment: Deployment, why: str) -> None:
    log = "\n".join(loop.log(deployment.id))
    applied = the_apply(loop, deployment)
    assert applied.path == "up", f"the unchanged path was taken:\n{log}"
    assert why in applied.reason, f"{applied.reason!r} does not say {why!r}:\n{log}"
    assert "up starting" in log and f"full up: {applied.reason}" in log


@pytest.fixture
def first(loop: Loop) -> Deployment:
    """r1 deployed with a full `up`, healthy: the proof base of the next push."""
    found = deployed(loop, loop.repo.healthy("r1"))
    assert the_apply(loop, found).path == "up"
    return found


def test_a_push_that_changes_nothing_deployed_skips_up_and_checks_health(
    loop: Loop, first: Deployment
) -> None:
    web = loop.web_id()
    second = deployed(loop, doc_commit(loop.repo, "one"))
    applied = the_apply(loop, second)
    log = "\n".join(loop.log(second.id))
    assert applied.path == "unchanged", log
    assert f"unchanged since deployment {first.id}" in applied.reason
    assert f"{loop.repo.project}-web-1 id {web[:12]}" in applied.reason  # the proof
    assert "up starting" not in log and "health: healthy" in log
    # the state was not touched: the tag keeps naming the commit whose `up` made it (the
    # line follows `succeeded`, as a full up's tag run does: waited for, not raced)
    loop.wait_log(second.id, "tag: slipway:healthy-sha left as it is")
    tag = loop.pulumi("stack", "tag", "get", "slipway:healthy-sha").stdout.strip()
    assert tag == first.sha
    history = loop.service.store.state_history(second.id)
    assert any(c.state == S.VERIFYING and "unchanged: up skipped" in c.note for c in history)
    assert loop.web_id() == web and loop.release() == "ok release=r1"
    # it is itself a proof base: the next unchanged push is unchanged too
    third = deployed(loop, doc_commit(loop.repo, "two"))
    assert the_apply(loop, third).path == "unchanged", "\n".join(loop.log(third.id))


def test_a_container_removed_by_hand_runs_up(loop: Loop, first: Deployment) -> None:
    worker = f"{loop.repo.project}-worker-1"
    subprocess.run(["docker", "rm", "-f", worker], check=True, capture_output=True, timeout=60)
    second = deployed(loop, doc_commit(loop.repo, "one"))
    assert_full_up(loop, second, f"container {worker} is missing")
    assert docker_inspect("{{.State.Status}}", worker) == "running"  # `up --refresh` put it back


def test_an_image_rebuilt_under_the_same_tag_runs_up(
    loop: Loop, first: Deployment, tmp_path: Path
) -> None:
    image = docker_inspect("{{.Image}}", f"{loop.repo.project}-web-1")
    # The stack's build tag, <project>-web:ctx-<digest> (other stacks' tags of the same
    # image come and go with them, and do not count)
    tags = json.loads(docker_inspect("{{json .RepoTags}}", image) or "[]")
    own = [t for t in tags if t.startswith(f"{loop.repo.project}-web:ctx-")]
    assert own, tags
    tag = own[0]
    context = tmp_path / "other"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM slipway/base:busybox\nRUN echo other > /other\n")
    subprocess.run(
        ["docker", "build", "-q", "-t", tag, str(context)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    # The full `up --refresh` then runs what the tag names now, as `docker compose up -d`
    # would (docs/unchanged-deploys.md); here that image serves nothing, so the deployment
    # fails and is rolled back. What is asserted is the path and its reason.
    second = loop.wait(loop.push(doc_commit(loop.repo, "one")))
    assert_full_up(loop, second, f"{tag} no longer names the image")


def test_a_changed_environment_variable_runs_up(loop: Loop, first: Deployment) -> None:
    compose = loop.repo.path / "stacks/demo/compose.yml"
    compose.write_text(compose.read_text().replace("${DEMO_RELEASE:-dev}", "changed"))
    second = deployed(loop, commit(loop.repo, "web: RELEASE=changed"))
    assert_full_up(loop, second, "compose model changed")
    env = docker_inspect("{{json .Config.Env}}", f"{loop.repo.project}-web-1")
    assert "RELEASE=changed" in env


def test_a_changed_environment_of_the_program_runs_up(loop: Loop, first: Deployment) -> None:
    """The same commit content, but the service now gives the program DEMO_RELEASE: Compose's
    model interpolates it, so the kept model (render_cache.py) must not be reused."""
    runner_env = loop.service.orchestrator.pipeline.runner.env_vars
    runner_env["DEMO_RELEASE"] = "from-env"
    try:
        second = deployed(loop, doc_commit(loop.repo, "one"))
    finally:
        del runner_env["DEMO_RELEASE"]
    assert_full_up(loop, second, "compose model changed")
    env = docker_inspect("{{json .Config.Env}}", f"{loop.repo.project}-web-1")
    assert "RELEASE=from-env" in env


def test_a_changed_stack_config_value_runs_up(loop: Loop, first: Deployment) -> None:
    config = loop.repo.path / f"Pulumi.{loop.repo.stack}.yaml"
    config.write_text(config.read_text().replace("timeoutSeconds: 2", "timeoutSeconds: 3"))
    second = deployed(loop, commit(loop.repo, "health checks: 3 s timeout"))
    assert_full_up(loop, second, "stack config changed")


def test_a_forced_deploy_runs_up(loop: Loop, first: Deployment) -> None:
    answer = httpx.post(
        f"{loop.service.url}/deployments",
        json={"sha": doc_commit(loop.repo, "one"), "force": True, "reason": "forced by a test"},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    second = loop.wait(answer.json()["id"])
    assert second.state == S.SUCCEEDED, "\n".join(loop.log(second.id))
    assert_full_up(loop, second, "forced")
