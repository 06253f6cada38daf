"""The deploy loop on the real parts: signed push → service → Automation API → containers →
health → rollback.

Real: uvicorn on loopback, the orchestrator with `AutomationRunner` (the Pulumi CLI built
by `make tools`, the file backend, the program inline in a child process), the bridged
docker provider on our Docker engine, images built per commit, git worktrees of a real
repository. GitHub is the loopback fake (statuses, PR comments).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.demo_repo import DemoRepo, git
from tests.feedback.conftest import REPO, TOKEN
from tests.feedback.fake_github import FakeGitHub
from tests.feedback.live_service import API_TOKEN, LiveService, live_service
from tests.feedback.test_end_to_end import pull_request, push
from tests.real_stack import (
    REPO_ROOT,
    docker_inspect,
    free_port,
    pulumi_env,
    remove_project_containers,
)
from webhook.orchestrator import OrchestratorSettings
from webhook.runners.automation import AutomationRunner
from webhook.store import Deployment
from webhook.store.states import DeploymentKind, DeploymentState

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]
S = DeploymentState
FINAL = (S.SUCCEEDED, S.FAILED, S.ROLLED_BACK, S.ROLLBACK_FAILED, S.SUPERSEDED, S.INTERRUPTED)
REAL = OrchestratorSettings(
    health_interval_seconds=0.5,
    health_consecutive_passes=2,
    health_deadline_seconds=20.0,
    lock_retry_attempts=3,
    lock_retry_initial_seconds=1.0,
    lock_retry_max_seconds=2.0,
    shutdown_grace_seconds=60.0,
)
DEPLOY_LIMIT = 300.0  # a bound for the waits below (a build + up + rollback), never asserted on


@dataclass
class Loop:
    repo: DemoRepo
    service: LiveService
    env: dict[str, str]
    github: FakeGitHub
    examples: Path

    def push(self, sha: str) -> int:
        answer = self.service.deliver("push", push(self.examples, sha))
        assert answer.status_code == 202, answer.text
        return answer.json()["id"]

    def wait(self, deployment_id: int, *states: S) -> Deployment:
        deadline = time.monotonic() + DEPLOY_LIMIT
        while time.monotonic() < deadline:
            found = self.service.store.get_deployment(deployment_id)
            if found.state in (states or FINAL):
                return found
            time.sleep(0.2)
        log = "\n".join(self.log(deployment_id)[-30:])
        raise AssertionError(f"deployment {deployment_id} never reached {states}:\n{log}")

    def wait_log(self, deployment_id: int, text: str) -> str:
        deadline = time.monotonic() + DEPLOY_LIMIT
        while time.monotonic() < deadline:
            found = [line for line in self.log(deployment_id) if text in line]
            if found:
                return found[0]
            time.sleep(0.2)
        raise AssertionError(f"deployment {deployment_id} never logged {text!r}")

    def log(self, deployment_id: int) -> list[str]:
        return [line.line for line in self.service.store.read_log(deployment_id, limit=10_000)]

    def release(self) -> str:
        """Which release answers the health URL now."""
        return httpx.get(self.repo.health_url, timeout=5).text.strip()

    def web_id(self) -> str:
        return docker_inspect("{{.Id}}", f"{self.repo.project}-web-1")

    def pulumi(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["pulumi", *args, "--stack", self.repo.stack, "--non-interactive"],
            cwd=self.repo.path, env=self.env, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip


@pytest.fixture
def loop(tmp_path: Path, fake_github: FakeGitHub, octokit_examples_dir: Path) -> Iterator[Loop]:
    suffix = uuid.uuid4().hex[:8]
    repo = DemoRepo.create(tmp_path / "repo", f"e{suffix}", f"slipway-e{suffix}", free_port())
    env = pulumi_env(tmp_path / "backend")
    runner = AutomationRunner(env_vars=env)
    with live_service(
        repo=repo.path,
        state_dir=tmp_path / "state",
        runner=runner,
        github_url=fake_github.url,
        token=TOKEN,
        repository=REPO,
        stack=repo.stack,
        config=REAL,
    ) as service:
        loop = Loop(repo, service, {**os.environ, **env}, fake_github, octokit_examples_dir)
        try:
            yield loop
        finally:
            loop.pulumi("destroy", "--yes", "--skip-preview")
            remove_project_containers(repo.project)


def test_bad_releases_are_rolled_back_to_the_last_healthy_commit(loop: Loop) -> None:
    r1 = loop.repo.healthy("r1")
    first = loop.wait(loop.push(r1))
    assert first.state == S.SUCCEEDED, loop.log(first.id)
    assert loop.release() == "ok release=r1"
    assert loop.wait_log(first.id, "tag: ") == f"tag: slipway:healthy-sha={r1}"
    tag = loop.pulumi("stack", "tag", "get", "slipway:healthy-sha")
    assert tag.stdout.strip() == r1

    bad1 = loop.repo.unhealthy("bad1")
    second = loop.wait(loop.push(bad1), S.ROLLED_BACK, S.ROLLBACK_FAILED, S.FAILED)
    assert second.state == S.ROLLED_BACK, loop.log(second.id)
    assert second.rolled_back_to == r1
    assert any("health: unhealthy" in line for line in loop.log(second.id))
    assert loop.release() == "ok release=r1"  # the old release answers again
    # the tag is never moved by a release that failed its checks
    assert not [line for line in loop.log(second.id) if f"healthy-sha={bad1}" in line]
    assert loop.pulumi("stack", "tag", "get", "slipway:healthy-sha").stdout.strip() == r1

    bad2 = loop.repo.crashing("bad2")
    third = loop.wait(loop.push(bad2), S.ROLLED_BACK, S.ROLLBACK_FAILED, S.FAILED)
    assert third.state == S.ROLLED_BACK, loop.log(third.id)
    assert third.rolled_back_to == r1, "rolled back to bad1 instead of the last healthy commit"
    assert loop.release() == "ok release=r1"

    # By hand, with the failed deployments in between: back to r1 again, never to bad1/bad2.
    r2 = loop.repo.healthy("r2")
    fourth = loop.wait(loop.push(r2))
    assert fourth.state == S.SUCCEEDED and loop.release() == "ok release=r2"
    answer = httpx.post(
        f"{loop.service.url}/deployments/{fourth.id}/rollback",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 202, answer.text
    by_hand = loop.wait(answer.json()["id"])
    assert by_hand.kind == DeploymentKind.ROLLBACK and by_hand.sha == r1
    assert by_hand.state == S.SUCCEEDED, loop.log(by_hand.id)
    assert loop.release() == "ok release=r1"


def test_a_first_release_that_fails_its_checks_is_never_tagged_healthy(loop: Loop) -> None:
    bad = loop.wait(loop.push(loop.repo.unhealthy("bad")))
    assert bad.state == S.FAILED and bad.rolled_back_to is None, loop.log(bad.id)
    assert any("nothing to roll back to" in line for line in loop.log(bad.id))
    tag = loop.pulumi("stack", "tag", "get", "slipway:healthy-sha")
    assert tag.returncode != 0 and tag.stdout.strip() == "", tag.stdout


def test_a_burst_of_pushes_deploys_only_the_newest(loop: Loop) -> None:
    shas = [loop.repo.healthy(f"burst{n}") for n in range(4)]
    ids = [loop.push(sha) for sha in shas]
    last = loop.wait(ids[-1])
    assert last.state == S.SUCCEEDED, loop.log(last.id)
    states = [loop.wait(i).state for i in ids]
    assert states.count(S.SUPERSEDED) >= 2, states  # at most the first and the newest ran
    assert loop.release() == "ok release=burst3"


def test_a_pull_request_preview_comments_real_changes_and_deploys_nothing(loop: Loop) -> None:
    r1 = loop.repo.healthy("r1")
    assert loop.wait(loop.push(r1)).state == S.SUCCEEDED
    before = loop.web_id()
    git(loop.repo.path, "checkout", "-q", "-b", "feature")
    head = loop.repo.unhealthy("pr")
    git(loop.repo.path, "checkout", "-q", "main")
    payload = pull_request(loop.examples, "opened", head)
    answer = loop.service.deliver("pull_request", payload)
    assert answer.status_code == 202, answer.text
    preview = loop.wait(answer.json()["id"])
    assert preview.state == S.SUCCEEDED, loop.log(preview.id)
    assert loop.service.feedback.drain(timeout=60)
    comments = [c["body"] for c in loop.github.state.comments.values()]
    assert comments, "no PR comment"
    assert "web" in comments[-1] and "replace" in comments[-1].lower(), comments[-1]
    # Only web's context changed: the images built from db's and worker's stay as they are
    # (each job's checkout has the same path, so their `build` inputs are unchanged).
    assert "db-image" not in comments[-1] and "worker-image" not in comments[-1], comments[-1]
    # a preview never changes what is deployed
    assert loop.web_id() == before
    assert loop.release() == "ok release=r1"


def test_a_stack_held_by_a_live_foreign_update_is_never_rolled_back(
    loop: Loop, tmp_path: Path
) -> None:
    r1 = loop.repo.healthy("r1")
    assert loop.wait(loop.push(r1)).state == S.SUCCEEDED
    # Someone else's `pulumi up` of a slow release holds the stack's lock.
    slow_dir = tmp_path / "foreign"
    git(loop.repo.path, "worktree", "add", "-q", "--detach", str(slow_dir), r1)
    dockerfile = slow_dir / "stacks/demo/web/Dockerfile"
    # A new nonce: the engine's build cache must not skip the wait.
    dockerfile.write_text(dockerfile.read_text() + f"RUN echo {uuid.uuid4().hex} && sleep 30\n")
    foreign = subprocess.Popen(
        [sys.executable, "-m", "webhook.runners.stack_process", "up", "--stack",
         loop.repo.stack, "--work-dir", str(slow_dir)],
        cwd=REPO_ROOT, env=loop.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        lock_dir = Path(loop.env["PULUMI_BACKEND_URL"].removeprefix("file://"))
        _wait_for_lock(lock_dir, foreign)
        blocked = loop.wait(loop.push(loop.repo.healthy("r2")))
        assert blocked.state == S.FAILED, loop.log(blocked.id)
        log = loop.log(blocked.id)
        (gave_up,) = [line for line in log if "gave up after 3 tries" in line]
        assert "locked by another update (held by " in gave_up and "(pid " in gave_up, gave_up
        assert not [line for line in log if "rolling back" in line]
        assert blocked.rolled_back_to is None
    finally:
        foreign.wait(timeout=DEPLOY_LIMIT)


def _wait_for_lock(backend: Path, foreign: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if list((backend / ".pulumi" / "locks").rglob("*.json")):
            return
        assert foreign.poll() is None, "the foreign update ended before it took the lock"
        time.sleep(0.1)
    raise AssertionError("the foreign update never took the stack's lock")
