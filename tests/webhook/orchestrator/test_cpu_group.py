"""The idle CPU group of deployments (webhook/runners/cpu_group.py) on fake cgroup trees.
The real kernel's side: tests/webhook/orchestrator/test_automation_runner.py checks that the CLI and
its providers of a real `up` run in the group; the last test here, a program started through
`command()`."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from webhook.runners import cpu_group
from webhook.runners.automation import AutomationSession
from webhook.runners.base import RunnerError
from webhook.runners.cpu_group import (
    GROUP,
    SERVICE_LEAF,
    CpuGroupError,
    Hierarchy,
    children_in,
    command,
    cpu_hierarchy,
    deploy_group,
    prepare,
)

V1 = "12:pids:/\n4:cpu,cpuacct:/docker/abc\n0::/\n"


def test_v1_cpu_line_names_the_mount_and_the_group(tmp_path):
    assert cpu_hierarchy(V1, tmp_path) == Hierarchy(tmp_path / "cpu,cpuacct", "/docker/abc", False)


def test_v2_needs_the_cpu_controller_in_the_root(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpuset memory pids\n")
    with pytest.raises(CpuGroupError, match=r"no cgroup with the cpu controller.*DEPLOY_CPU_IDLE"):
        cpu_hierarchy("0::/system.slice/slipway.service\n", tmp_path)
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu memory pids\n")
    found = cpu_hierarchy("0::/system.slice/slipway.service\n", tmp_path)
    assert found == Hierarchy(tmp_path, "/system.slice/slipway.service", True)


def fake_group(own: Path, **files: str) -> Path:
    """The kernel fills a new group with its files; a fake tree needs them beforehand."""
    group = own / GROUP
    group.mkdir(parents=True)
    for name, text in files.items():
        (group / name.replace("_", ".")).write_text(text)
    return group


def test_v1_group_is_made_inside_the_services_group_and_marked_idle(tmp_path):
    group = fake_group(tmp_path / "cpu" / "docker" / "abc", cpu_idle="0", cpu_shares="1024")
    assert prepare(Hierarchy(tmp_path / "cpu", "/docker/abc", False)) == group
    assert (group / "cpu.idle").read_text() == "1"
    assert (group / "cpu.shares").read_text() == "1024"


def test_without_cpu_idle_the_lowest_weight_is_used(tmp_path):
    group = fake_group(tmp_path / "cpu", cpu_shares="1024")
    prepare(Hierarchy(tmp_path / "cpu", "/", False))
    assert (group / "cpu.shares").read_text() == "2"


def test_v2_below_the_root_moves_the_service_into_a_leaf_first(tmp_path, monkeypatch):
    own = tmp_path / "system.slice" / "slipway.service"
    group = fake_group(own, cpu_idle="0")
    (own / "cgroup.subtree_control").write_text("\n")
    (own / "cgroup.procs").write_text("111\n222\n")
    leaf = own / SERVICE_LEAF
    leaf.mkdir()
    (leaf / "cgroup.procs").write_text("")
    writes: list[tuple[str, str]] = []
    real_write = cpu_group._write

    def kernel(path: Path, text: str) -> None:
        writes.append((str(path.relative_to(own)), text))
        moved = sum(1 for p, _ in writes if p == f"{SERVICE_LEAF}/cgroup.procs")
        if path.name == "cgroup.subtree_control" and moved < 2:  # processes still in `own`
            raise OSError(errno.EBUSY, "Device or resource busy")
        real_write(path, text)

    monkeypatch.setattr(cpu_group, "_write", kernel)
    assert prepare(Hierarchy(tmp_path, "/system.slice/slipway.service", True)) == group
    assert writes == [
        ("cgroup.subtree_control", "+cpu"),
        (f"{SERVICE_LEAF}/cgroup.procs", "111"),
        (f"{SERVICE_LEAF}/cgroup.procs", "222"),
        ("cgroup.subtree_control", "+cpu"),
        (f"{GROUP}/cpu.idle", "1"),
    ]


def test_a_read_only_cgroup_tree_is_an_error_naming_the_fix(tmp_path, monkeypatch):
    def read_only(path: Path, text: str) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    fake_group(tmp_path / "cpu", cpu_idle="0")
    monkeypatch.setattr(cpu_group, "_write", read_only)
    with pytest.raises(CpuGroupError, match=r"Read-only file system; .*Delegate=cpu"):
        prepare(Hierarchy(tmp_path / "cpu", "/", False))


@pytest.mark.parametrize("in_block", [True, False])
def test_a_stack_child_started_in_a_workers_block_joins_its_group(tmp_path, in_block):
    group = fake_group(tmp_path, cgroup_procs="")
    session = AutomationSession("dev", tmp_path, {}, python="true")  # a child that says nothing
    with children_in(group if in_block else None), pytest.raises(RunnerError):
        session.outputs()
    assert (group / "cgroup.procs").read_text() == ("0\n" if in_block else "")


def test_where_no_group_can_be_made_the_service_says_why_once(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(cpu_group, "CGROUP_ROOT", tmp_path)  # no cpu controller mounted here
    deploy_group.cache_clear()
    try:
        assert deploy_group() is None and deploy_group() is None
    finally:
        deploy_group.cache_clear()
    said = [r.getMessage() for r in caplog.records if r.name == "slipway.runner"]
    assert len(said) == 1 and "deployments run without an idle CPU group" in said[0], said
    assert "SLIPWAY_DEPLOY_CPU_IDLE=false" in said[0]


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)


def test_a_program_joins_the_threads_group_then_runs_with_its_arguments_verbatim(tmp_path):
    group = fake_group(tmp_path, cgroup_procs="")
    argv = ["printf", "%s|", "a b", "$HOME", "--", "'"]
    with children_in(group):
        done = run(command(argv))
    assert (done.returncode, done.stdout, done.stderr) == (0, "a b|$HOME|--|'|", "")
    assert (group / "cgroup.procs").read_text() == "0\n"  # "0": the writing process
    assert command(argv) == argv  # outside the block: started as is


def test_a_program_that_cannot_join_runs_anyway_and_says_nothing(tmp_path):
    with children_in(tmp_path / "gone"):
        done = run(command(["echo", "ran"]))
    assert (done.returncode, done.stdout, done.stderr) == (0, "ran\n", "")


def test_a_failing_program_keeps_its_exit_code_and_errors(tmp_path):
    with children_in(fake_group(tmp_path, cgroup_procs="")):
        done = run(command(["sh", "-c", "echo broke >&2; exit 3"]))
        missing = run(command(["no-such-program-slipway"]))
    assert (done.returncode, done.stderr) == (3, "broke\n")
    assert missing.returncode == 127 and "no-such-program-slipway" in missing.stderr


def test_a_block_without_a_group_inside_one_restores_it(tmp_path):
    group = tmp_path / GROUP
    with children_in(group):
        with children_in(None):  # the switch back: never on idle CPU time
            assert command(["git"]) == ["git"]
        assert command(["git"])[-1] == "git" and str(group / "cgroup.procs") in command(["git"])


def test_on_this_host_a_program_started_in_the_group_is_in_it():
    group = deploy_group()
    if group is None:
        if os.environ.get("SLIPWAY_REQUIRE_REAL") == "1":
            pytest.fail("no idle CPU group on this host (SLIPWAY_REQUIRE_REAL=1 requires it)")
        pytest.skip("the idle CPU group needs root or Delegate=cpu")
    with children_in(group):
        seen = cpu_hierarchy(run(command(["cat", "/proc/self/cgroup"])).stdout)
    assert seen.own_dir == group, seen
    assert cpu_hierarchy(Path("/proc/self/cgroup").read_text()).own_dir != group  # not us
