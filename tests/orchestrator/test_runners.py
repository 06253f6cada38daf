"""Stack runners: the Automation API adapter's own logic, and the local process runner."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from pulumi.automation import errors as auto_errors
from pulumi.automation._cmd import CommandResult
from pulumi.automation._output import OutputValue

from webhook.checkout import GitMirror
from webhook.runners.automation import (
    AutomationRunner,
    AutomationSession,
    file_backend_root,
    line_splitter,
    link_virtualenv,
    plain_outputs,
    up_arguments,
)
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


def test_up_arguments_name_the_commit_and_disable_color():
    args = up_arguments("slipway #7: deploy abc123", print)
    assert args["message"] == "slipway #7: deploy abc123"
    assert args["color"] == "never"
    assert callable(args["on_output"])


def test_line_splitter_streams_one_line_at_a_time():
    seen: list[str] = []
    forward = line_splitter(seen.append)
    forward("Updating (dev)\n\n     Type  Name\n")
    forward("  + docker:Container web created  \n")
    assert seen == ["Updating (dev)", "     Type  Name", "  + docker:Container web created"]


def test_plain_outputs_unwraps_output_values():
    outputs = {
        "healthChecks": OutputValue([{"url": "http://x"}], False),
        "t": OutputValue("s", True),
    }
    assert plain_outputs(outputs) == {"healthChecks": [{"url": "http://x"}], "t": "s"}


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


@pytest.mark.pulumi_cli
def test_automation_runner_previews_the_real_project(repo_root: Path, tmp_path: Path):
    """Needs the Pulumi CLI: select a stack on a copy of this project and preview it."""
    work = tmp_path / "project"
    shutil.copytree(repo_root, work, ignore=shutil.ignore_patterns(".venv", ".git", "tools"))
    runner = AutomationRunner(
        env_vars={
            "PULUMI_BACKEND_URL": f"file://{tmp_path / 'backend'}",
            "PULUMI_CONFIG_PASSPHRASE": "test",
        }
    )
    session = runner.open("dev", work)
    lines: list[str] = []
    assert isinstance(session.preview("test preview", lines.append), dict)
    assert lines


# -- the local process runner: really starts the commit's app


def test_local_runner_up_serves_the_commit_and_replaces_the_previous_app(
    app_repo, local_runner, tmp_path: Path
):
    one, two = app_repo.commit_app("one"), app_repo.commit_app("two", health=500)
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    lines: list[str] = []
    with mirror.worktree(one, "a") as tree:
        outputs = local_runner.open("dev", tree).up("deploy one", lines.append)
    assert httpx.get(outputs["url"]).text == "one"
    assert outputs["healthChecks"][0]["url"].endswith("/health")
    assert "  app: READY" in lines
    with mirror.worktree(two, "b") as tree:
        session = local_runner.open("dev", tree)
        outputs_two = session.up("deploy two", lines.append)
        assert session.preview("again", lines.append) == {"same": 1}
    assert httpx.get(outputs_two["url"]).text == "two"
    assert httpx.get(outputs_two["healthChecks"][0]["url"]).status_code == 500
    with pytest.raises(httpx.ConnectError):
        httpx.get(outputs["url"])
    state = session.export_state()
    assert "pending_operations" not in state["deployment"]
    assert state["deployment"]["resources"][0]["outputs"]["commit"] == two
    assert list(local_runner.backend_lock_dir("dev").glob("*.json")) == []


def test_local_runner_up_fails_when_the_app_exits(app_repo, local_runner, tmp_path: Path):
    sha = app_repo.commit_app("broken", crash=True)
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    lines: list[str] = []
    with mirror.worktree(sha, "a") as tree, pytest.raises(RunnerError, match="exited with code 3"):
        local_runner.open("dev", tree).up("deploy broken", lines.append)
    assert "  app: cannot start: configuration broken" in lines
    assert list(local_runner.backend_lock_dir("dev").glob("*.json")) == []


def test_local_runner_reports_a_held_lock_like_the_diy_backend(
    app_repo, local_runner, tmp_path: Path
):
    sha = app_repo.commit_app("one")
    lock_dir = local_runner.backend_lock_dir("dev")
    lock_dir.mkdir(parents=True)
    (lock_dir / "x.json").write_text(
        json.dumps({"pid": 1, "username": "bob", "hostname": "ops", "timestamp": "t"})
    )
    mirror = GitMirror(str(app_repo.path), tmp_path / "state")
    with mirror.worktree(sha, "a") as tree, pytest.raises(StackLockedError) as caught:
        local_runner.open("dev", tree).up("deploy", lambda _: None)
    assert caught.value.holder == "bob@ops (pid 1)"


class RecordingStack:
    """Stands in for `pulumi.automation.Stack`: records calls, replays CLI behaviour."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[tuple[str, dict]] = []
        self.fail_with = fail_with

    def up(self, **kwargs):
        self.calls.append(("up", kwargs))
        kwargs["on_output"]("Updating (dev)\n  + web created\n")
        if self.fail_with:
            raise self.fail_with
        return SimpleNamespace(outputs={"healthChecks": OutputValue([{"url": "http://x"}], False)})

    def preview(self, **kwargs):
        self.calls.append(("preview", kwargs))
        return SimpleNamespace(change_summary={"create": 2})

    def set_tag(self, key, value):
        self.calls.append(("set_tag", {key: value}))


def test_automation_session_up_streams_lines_and_returns_plain_outputs():
    stack = RecordingStack()
    lines: list[str] = []
    outputs = AutomationSession(stack, supports_tags=True).up("slipway #1 deploy abc", lines.append)
    assert outputs == {"healthChecks": [{"url": "http://x"}]}
    assert lines == ["Updating (dev)", "  + web created"]
    name, kwargs = stack.calls[0]
    assert (name, kwargs["message"], kwargs["color"]) == ("up", "slipway #1 deploy abc", "never")


def test_automation_session_maps_a_lock_conflict_during_up():
    conflict = auto_errors.create_command_error(CommandResult("", DIY_LOCKED, 255))
    session = AutomationSession(RecordingStack(fail_with=conflict), supports_tags=True)
    with pytest.raises(StackLockedError, match="alice@laptop"):
        session.up("m", lambda _: None)


def test_automation_session_preview_passes_engine_events_and_tags_only_where_supported():
    stack = RecordingStack()
    events: list = []
    session = AutomationSession(stack, supports_tags=False)
    assert session.preview("m", lambda _: None, on_event=events.append) == {"create": 2}
    assert stack.calls[0][1]["on_event"] == events.append
    assert session.set_tag("slipway:healthy-sha", "abc") is False
    assert AutomationSession(stack, supports_tags=True).set_tag("slipway:healthy-sha", "abc")
    assert stack.calls[-1] == ("set_tag", {"slipway:healthy-sha": "abc"})


def test_worktree_gets_the_service_virtualenv_unless_it_has_one(tmp_path: Path):
    venv = tmp_path / "venv"
    venv.mkdir()
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert link_virtualenv(fresh, venv)
    assert (fresh / ".venv").resolve() == venv
    assert not link_virtualenv(fresh, venv)  # already there: left alone
    assert not link_virtualenv(tmp_path / "other", None)
