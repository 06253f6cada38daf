"""Stack runners: the Automation API adapter's own logic, and the two local test runners."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from pulumi.automation import errors as auto_errors
from pulumi.automation._cmd import CommandResult

from webhook.orchestrator.checkout import GitMirror
from webhook.runners.automation import AutomationRunner, file_backend_root
from webhook.runners.base import (
    RunnerError,
    StackLockedError,
    clear_pending_operations,
    lock_holder,
    mapped_automation_errors,
)

DIY_LOCKED = (
    "error: the stack is currently locked by 1 lock(s). Either wait for the other "
    "process(es) to end or delete the lock file with `pulumi cancel`.\n"
    "  file:///srv/state/.pulumi/locks/organization/slipway/dev/1f0c.json: created by "
    "alice@laptop (pid 4242) at 2026-11-23T20:00:00Z"
)


def test_concurrent_update_becomes_stack_locked_with_the_holder():
    with pytest.raises(StackLockedError) as caught, mapped_automation_errors():
        raise auto_errors.create_command_error(CommandResult("", DIY_LOCKED, 255))
    assert caught.value.holder == "alice@laptop (pid 4242)"
    assert "held by alice@laptop (pid 4242)" in str(caught.value)


def test_cloud_backend_conflict_has_no_known_holder():
    stderr = "error: [409] Conflict: Another update is currently in progress."
    with pytest.raises(StackLockedError) as caught, mapped_automation_errors():
        raise auto_errors.create_command_error(CommandResult("", stderr, 255))
    assert caught.value.holder is None
    assert "holder unknown" in str(caught.value)


def test_other_command_errors_become_runner_errors():
    stdout = "error: an unhandled error occurred: program failed"
    with pytest.raises(RunnerError, match="RuntimeError") as caught, mapped_automation_errors():
        raise auto_errors.create_command_error(CommandResult(stdout, "", 1))
    assert not isinstance(caught.value, StackLockedError)


def test_lock_holder_absent_in_unrelated_text():
    assert lock_holder("no lock here") is None


def test_clear_pending_operations_keeps_everything_else():
    state = {"version": 3, "deployment": {"resources": [1], "pending_operations": [{}, {}]}}
    cleared, count = clear_pending_operations(state)
    assert count == 2
    assert cleared == {"version": 3, "deployment": {"resources": [1]}}
    assert state["deployment"]["pending_operations"] == [{}, {}]  # input untouched


@pytest.mark.parametrize(
    ("url", "root"),
    [
        ("file:///srv/pulumi", Path("/srv/pulumi")),
        ("file://~/state", Path(os.path.expanduser("~/state"))),
        ("s3://bucket", None),
        (None, None),
    ],
)
def test_file_backend_root(url, root):
    assert file_backend_root(url) == root


def test_lock_dir_only_for_self_managed_backends():
    diy = AutomationRunner(env_vars={"PULUMI_BACKEND_URL": "file:///srv/p"})
    assert diy.backend_lock_dir("org/dev") == Path("/srv/p/.pulumi/locks/organization/slipway/dev")
    cloud = AutomationRunner(env_vars={"PULUMI_BACKEND_URL": "https://api.pulumi.com"})
    assert cloud.backend_lock_dir("dev") is None


# -- the local runners: the process one really starts the commit's app; the in-process one
# serves what the app declares from a thread. Both must behave the same.


@pytest.fixture(params=["process_runner", "local_runner"])
def runner(request):
    return request.getfixturevalue(request.param)


def test_runner_up_serves_the_commit_and_replaces_the_previous_app(
    app_repo, runner, tmp_path: Path
):
    one, two = app_repo.commit_app("one"), app_repo.commit_app("two", health=500)
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    lines: list[str] = []
    with mirror.worktree(one, "a") as tree:
        outputs = runner.open("dev", tree).up("deploy one", lines.append)
    assert httpx.get(outputs["url"]).text == "one"
    assert outputs["healthChecks"][0]["url"].endswith("/health")
    assert "  app: READY" in lines
    with mirror.worktree(two, "b") as tree:
        session = runner.open("dev", tree)
        outputs_two = session.up("deploy two", lines.append)
        assert session.preview("again", lines.append) == {"same": 1}
    assert httpx.get(outputs_two["url"]).text == "two"
    assert httpx.get(outputs_two["healthChecks"][0]["url"]).status_code == 500
    with pytest.raises(httpx.ConnectError):
        httpx.get(outputs["url"])
    state = session.export_state()
    assert "pending_operations" not in state["deployment"]
    assert state["deployment"]["resources"][0]["outputs"]["commit"] == two
    assert list(runner.backend_lock_dir("dev").glob("*.json")) == []


def test_runner_up_fails_when_the_app_exits(app_repo, runner, tmp_path: Path):
    sha = app_repo.commit_app("broken", crash=True)
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    lines: list[str] = []
    with mirror.worktree(sha, "a") as tree, pytest.raises(RunnerError, match="exited with code 3"):
        runner.open("dev", tree).up("deploy broken", lines.append)
    assert "  app: cannot start: configuration broken" in lines
    assert list(runner.backend_lock_dir("dev").glob("*.json")) == []


def test_runner_reports_a_held_lock_like_the_diy_backend(app_repo, runner, tmp_path: Path):
    sha = app_repo.commit_app("one")
    lock_dir = runner.backend_lock_dir("dev")
    lock_dir.mkdir(parents=True)
    (lock_dir / "x.json").write_text(
        json.dumps({"pid": 1, "username": "bob", "hostname": "ops", "timestamp": "t"})
    )
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    with mirror.worktree(sha, "a") as tree, pytest.raises(StackLockedError) as caught:
        runner.open("dev", tree).up("deploy", lambda _: None)
    assert caught.value.holder == "bob@ops (pid 1)"
