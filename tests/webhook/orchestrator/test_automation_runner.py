"""The production runner: its child-process protocol, then the real CLI, provider and engine."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from pulumi.automation.events import EngineEvent

from tests.support.real_stack import docker_inspect
from webhook.orchestrator.worker import lower_thread_priority
from webhook.runners.automation import AutomationRunner, ChildReply, handle_line, raise_for
from webhook.runners.base import RunnerError, StackLockedError
from webhook.runners.cpu_group import children_in, cpu_hierarchy, deploy_group

T = TypeVar("T")

# -- the protocol, without the CLI


def test_lines_are_dispatched_to_output_events_and_the_result():
    reply, lines, events = ChildReply(), [], []
    raw_event = {"sequence": 1, "timestamp": 2, "cancelEvent": {}}
    for line in [
        json.dumps({"output": "Updating (dev)"}),
        json.dumps({"event": raw_event}),
        "a program's own print, not JSON",
        json.dumps({"result": {"outputs": {"a": 1}}}),
    ]:
        handle_line(line, reply, lines.append, events.append)
    assert lines == ["Updating (dev)", "a program's own print, not JSON"]
    assert isinstance(events[0], EngineEvent) and events[0].cancel_event is not None
    assert reply.finished and reply.result == {"outputs": {"a": 1}}


def test_a_reported_lock_becomes_stack_locked_with_the_holder():
    reply = ChildReply(error={"kind": "locked", "message": "locked", "holder": "a@b (pid 1)"})
    with pytest.raises(StackLockedError) as caught:
        raise_for(reply, 3, "")
    assert caught.value.holder == "a@b (pid 1)"


def test_a_reported_program_error_keeps_its_message():
    reply = ChildReply(error={"kind": "program", "message": "ConfigError: no such file"})
    with pytest.raises(RunnerError, match="ConfigError: no such file"):
        raise_for(reply, 2, "")


def test_a_child_that_dies_without_a_word_is_an_error_with_its_stderr():
    with pytest.raises(RunnerError, match=r"exited with code -9: Killed"):
        raise_for(ChildReply(), -9, "Killed\n")
    with pytest.raises(RunnerError, match="code 0: no output"):
        raise_for(ChildReply(), 0, "")  # exit 0 but no result line: not a success


def test_lock_dir_only_for_self_managed_backends():
    diy = AutomationRunner(env_vars={"PULUMI_BACKEND_URL": "file:///srv/p"})
    assert diy.backend_lock_dir("org/dev") == Path("/srv/p/.pulumi/locks/organization/slipway/dev")
    cloud = AutomationRunner(env_vars={"PULUMI_BACKEND_URL": "https://api.pulumi.com"})
    assert cloud.backend_lock_dir("dev") is None


# -- the real CLI, provider and engine


def in_niced_thread(increment: int, call: Callable[[], T]) -> T:
    """`call()` in a thread that lowered its priority and places its children in the idle
    CPU group, as a deploy worker does."""
    result: list[T] = []

    def run() -> None:
        lower_thread_priority(increment)
        with children_in(deploy_group()):
            result.append(call())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert result, "the call failed (see the thread's traceback above)"
    return result[0]


class PriorityWatch(threading.Thread):
    """Samples the nice value and the CPU cgroup of every process whose environment has
    `backend` (the CLI and its plugins of one test's stack), by command name."""

    def __init__(self, backend: str) -> None:
        super().__init__(daemon=True)
        self.marker = f"PULUMI_BACKEND_URL={backend}".encode()
        self.nice: dict[str, set[int]] = {}
        self.groups: dict[str, set[Path]] = {}  # CPU cgroup directories
        self.stop = threading.Event()

    def __enter__(self) -> PriorityWatch:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.join(timeout=10)

    def run(self) -> None:
        while not self.stop.wait(0.05):
            for proc in Path("/proc").glob("[0-9]*"):
                try:
                    if self.marker not in (proc / "environ").read_bytes().split(b"\0"):
                        continue
                    stat = (proc / "stat").read_text()
                    hierarchy = cpu_hierarchy((proc / "cgroup").read_text())
                except OSError:
                    continue  # gone, or not ours to read
                name = stat[stat.index("(") + 1 : stat.rindex(")")]
                nice = int(stat[stat.rindex(")") + 2 :].split()[16])
                self.nice.setdefault(name, set()).add(nice)
                if name != "sh":  # the joining shell, a moment before it joins and execs
                    self.groups.setdefault(name, set()).add(hierarchy.own_dir)


@pytest.mark.pulumi_cli
@pytest.mark.docker_engine
@pytest.mark.slow
def test_the_runner_deploys_previews_tags_and_round_trips_the_state(real_stack):
    runner = AutomationRunner(env_vars=real_stack.env)
    session = runner.open(real_stack.stack, real_stack.work)
    lines: list[str] = []
    group = deploy_group()  # this machine runs the tests as root: the group can be made
    assert group is not None
    with PriorityWatch(real_stack.env["PULUMI_BACKEND_URL"]) as seen:
        outputs = in_niced_thread(7, lambda: session.up("slipway #1: deploy demo", lines.append))
    # A deploy worker's CLI and providers run below the services' priority (SLIPWAY_DEPLOY_NICE)
    # and in the idle CPU group (SLIPWAY_DEPLOY_CPU_IDLE), the child from its first instruction.
    assert {"pulumi", "pulumi-resource", "python"} <= set(seen.nice), seen.nice
    assert all(values == {7} for values in seen.nice.values()), seen.nice
    assert all(groups == {group} for groups in seen.groups.values()), seen.groups
    assert outputs["services"]["web"] == real_stack.container("web")
    assert any("created" in line for line in lines)
    assert httpx.get(real_stack.health_url, timeout=5).status_code == 200

    events: list[EngineEvent] = []
    changes = session.preview("slipway #2: preview", lambda _: None, on_event=events.append)
    assert set(changes) == {"same"}
    steps = [e.resource_pre_event.metadata for e in events if e.resource_pre_event]
    assert {s.type for s in steps} >= {"docker:index/container:Container"}
    assert any(e.summary_event is not None for e in events)

    # The self-managed backend does keep stack tags (the earlier code assumed it did not).
    assert session.set_tag("slipway:healthy-sha", "abc123") is True
    tags = real_stack.pulumi("stack", "tag", "get", "slipway:healthy-sha")
    assert tags.stdout.strip() == "abc123"

    state = session.export_state()
    assert any(
        r["type"] == "docker:index/container:Container" for r in state["deployment"]["resources"]
    )
    session.import_state(state)
    assert session.outputs()["services"] == outputs["services"]


@pytest.mark.pulumi_cli
@pytest.mark.docker_engine
@pytest.mark.slow
def test_a_program_error_is_reported_with_its_reason_and_nothing_is_deployed(real_stack):
    (real_stack.work / "stacks" / "demo" / "compose.yml").write_text(
        "services:\n  web:\n    image: slipway/base:busybox\n    no_such_key: 1\n"
    )
    session = AutomationRunner(env_vars=real_stack.env).open(real_stack.stack, real_stack.work)
    with pytest.raises(RunnerError, match="no_such_key"):
        session.up("broken", lambda _: None)
    assert docker_inspect("{{.Name}}", real_stack.container("web")) == ""
