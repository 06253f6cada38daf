"""The deploy loop on the real parts: signed push → service → Automation API → containers →
health → rollback.

Real: uvicorn on loopback, the orchestrator with `AutomationRunner` (the Pulumi CLI built
by `make tools`, the file backend, the program inline in a child process), the bridged
docker provider on our Docker engine, images built per commit, git worktrees of a real
repository. GitHub is the loopback fake (statuses, PR comments).
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.support.deploy_loop import DEPLOY_LIMIT, Loop
from tests.support.git import git
from tests.support.live_service import API_TOKEN
from tests.support.payloads import pull_request
from tests.support.real_stack import (
    REPO_ROOT,
)
from webhook.store.states import DeploymentKind, DeploymentState

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]
S = DeploymentState


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
    # The comment is submitted after the state is recorded: wait for the job's end, then
    # for the feedback calls, not just for the calls submitted so far.
    loop.service.settle()
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
