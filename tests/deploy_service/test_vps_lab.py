"""The loopback "VPS" (scripts/vps-lab.sh) and the shared object store (scripts/object-store.sh):
the docker CLI and the Pulumi docker provider reach the engine over ssh://deploy@127.0.0.1,
two processes share one Pulumi stack and its lock, and each script fails with its fix."""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.deploy_service.vps_lab import (
    BUSYBOX,
    HELD_PROJECT,
    HELD_STACK,
    OBJECT_STORE,
    REPO_ROOT,
    VPS_LAB,
    ObjectStore,
    VpsLab,
    inline_stack,
    run_script,
    script_env,
    wait_for_file,
)
from tests.support.ports import free_port

pytestmark = [pytest.mark.slow]


def local_docker(*args: str) -> subprocess.CompletedProcess:
    """The docker CLI on the engine's own socket (the test's DOCKER_HOST, not the lab)."""
    env = script_env(dict(os.environ))
    return subprocess.run(
        ["docker", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


# --- the docker CLI over ssh -------------------------------------------------------------


@pytest.mark.docker_engine
def test_docker_cli_runs_a_container_over_ssh(vps_lab: VpsLab) -> None:
    assert vps_lab.env["DOCKER_HOST"] == vps_lab.docker_host
    before = vps_lab.logins()
    ran = vps_lab.docker("run", "--rm", BUSYBOX, "sh", "-c", "echo hello-from-the-vps")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "hello-from-the-vps"
    # It went through our sshd as deploy, to the same engine as the local socket.
    assert vps_lab.logins() > before, vps_lab.sshd_log.read_text()
    over_ssh = vps_lab.docker("info", "--format", "{{.ID}}")
    local = local_docker("info", "--format", "{{.ID}}")
    assert over_ssh.returncode == 0, over_ssh.stderr
    assert over_ssh.stdout.strip() == local.stdout.strip() != ""


@pytest.mark.docker_engine
def test_second_start_keeps_the_running_sshd(vps_lab: VpsLab) -> None:
    pid = (vps_lab.dir / "vps-lab" / "sshd.pid").read_text().strip()
    again = run_script(VPS_LAB, "start", vps_lab.script_env)
    assert again.returncode == 0, again.stderr
    assert f"already running on 127.0.0.1:{vps_lab.port} (pid {pid})" in again.stderr
    assert "answers" in again.stderr  # and it checked the docker CLI again
    status = vps_lab.status()
    assert status.returncode == 0, status.stderr


@pytest.mark.docker_engine
def test_stop_stops_only_its_own_lab_and_revokes_its_key(vps_lab: VpsLab, tmp_path: Path) -> None:
    # A stop in a folder where no lab runs touches nothing (the fixture's lab still answers).
    other = script_env(dict(os.environ), SLIPWAY_CACHE_DIR=str(tmp_path / "none"))
    stopped = run_script(VPS_LAB, "stop", other)
    assert stopped.returncode == 0 and "no sshd of ours" in stopped.stderr, stopped.stderr
    assert vps_lab.status().returncode == 0
    shown = run_script(VPS_LAB, "env", other)
    assert shown.returncode == 1 and "not running" in shown.stderr, shown.stderr
    assert run_script(VPS_LAB, "status", other).returncode == 3

    second = VpsLab.start(tmp_path / "second")
    pub = " ".join((second.dir / "vps-lab" / "id_ed25519.pub").read_text().split()[:2])
    keys = Path(pwd.getpwnam("deploy").pw_dir) / ".ssh" / "authorized_keys"
    assert pub in keys.read_text()
    assert second.stop().returncode == 0
    assert pub not in keys.read_text()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", second.port)) != 0, "its sshd still listens"
    assert vps_lab.status().returncode == 0


# --- how it fails ------------------------------------------------------------------------


@pytest.mark.docker_engine
def test_start_refuses_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = script_env(
            dict(os.environ), SLIPWAY_CACHE_DIR=str(tmp_path), SLIPWAY_VPS_LAB_PORT=str(port)
        )
        result = run_script(VPS_LAB, "start", env)
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "SLIPWAY_VPS_LAB_PORT=<free port>" in result.stderr


@pytest.mark.docker_engine
def test_start_without_an_engine_says_how_to_start_one(tmp_path: Path) -> None:
    if Path("/var/run/docker.sock").exists():
        pytest.skip("a system engine answers at /var/run/docker.sock: the lab would use it")
    env = script_env(
        dict(os.environ),
        SLIPWAY_CACHE_DIR=str(tmp_path),  # no engine of ours here
        SLIPWAY_VPS_LAB_PORT=str(free_port()),
        DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock",
    )
    result = run_script(VPS_LAB, "start", env)
    assert result.returncode == 1
    assert "no Docker engine answers" in result.stderr
    assert "scripts/docker-engine.sh start" in result.stderr
    left = subprocess.run(["pgrep", "-f", f"sshd -f {tmp_path}"], capture_output=True, text=True,
                          timeout=30, check=False)  # fmt: skip
    assert left.stdout == "", f"a failed start left its sshd running: pids {left.stdout.split()}"


def test_start_as_a_user_says_it_needs_root(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        result = run_script(VPS_LAB, "start", script_env(dict(os.environ)))
    else:
        tmp_path.chmod(0o755)
        env = script_env(dict(os.environ), SLIPWAY_CACHE_DIR=str(tmp_path))
        result = subprocess.run(
            ["runuser", "-u", "nobody", "--", "bash", str(VPS_LAB), "start"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "need root" in result.stderr and "sudo" in result.stderr


def test_object_store_refuses_a_bad_bucket_name(tmp_path: Path) -> None:
    env = script_env(
        dict(os.environ), SLIPWAY_CACHE_DIR=str(tmp_path), SLIPWAY_OBJECT_STORE_BUCKET="Bad_Name"
    )
    result = run_script(OBJECT_STORE, "start", env)
    assert result.returncode == 1
    assert "'Bad_Name' is not an S3 bucket name" in result.stderr


# --- the Pulumi docker provider over ssh ------------------------------------------------


@pytest.mark.pulumi_cli
@pytest.mark.docker_engine
@pytest.mark.parametrize("route", ["env-path", "ssh-opts"])
def test_pulumi_docker_provider_over_ssh(
    route: str, vps_lab: VpsLab, object_store: ObjectStore, tmp_path: Path
) -> None:
    """`env-path`: the lab's exports (its `ssh` first on PATH), as `make control-up` runs.
    `ssh-opts`: no exports; the provider's `sshOpts: [-F, <lab ssh_config>]` instead."""
    import pulumi
    import pulumi_docker as docker

    name = f"slipway-vpslab-{uuid.uuid4().hex[:8]}"
    ssh_opts = ["-F", str(vps_lab.ssh_config)] if route == "ssh-opts" else None
    env = object_store.pulumi_env()
    if route == "env-path":
        env = vps_lab.client_env(env)

    def program() -> None:
        engine = docker.Provider("vps", host=vps_lab.docker_host, ssh_opts=ssh_opts)
        container = docker.Container(
            "probe",
            name=name,
            image=BUSYBOX,
            command=["sleep", "600"],
            labels=[docker.ContainerLabelArgs(label="io.slipway.test", value="vps-lab")],
            opts=pulumi.ResourceOptions(provider=engine),
        )
        pulumi.export("id", container.id)

    stack = inline_stack("vpslab", f"provider-{route}", program, env, tmp_path / "work")
    log: list[str] = []
    before = vps_lab.logins()
    try:
        try:
            result = stack.up(on_output=log.append)
        except Exception as error:  # the deployment's log goes into the assertion
            pytest.fail(f"up over {vps_lab.docker_host} failed: {error}\n" + "\n".join(log))
        running = local_docker("inspect", "-f", "{{.State.Running}} {{.Id}}", name)
        assert running.stdout.split() == ["true", result.outputs["id"].value], running.stderr
        label = local_docker("inspect", "-f", '{{index .Config.Labels "io.slipway.test"}}', name)
        assert label.stdout.strip() == "vps-lab"
        assert vps_lab.logins() > before, "the provider did not log in over ssh"
        stack.destroy(on_output=log.append)
        gone = local_docker("inspect", name)
        assert gone.returncode != 0, "destroy over ssh left the container"
    finally:
        local_docker("rm", "-f", name)
        stack.workspace.remove_stack(stack.name, force=True)


# --- the shared object store -----------------------------------------------------------


def pulumi_cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["pulumi", *args, "--non-interactive"],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.pulumi_cli
def test_cli_logs_in_and_another_process_sees_the_stack(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    env = object_store.pulumi_env()
    assert env["PULUMI_BACKEND_URL"] == (
        f"s3://{object_store.bucket}?endpoint=127.0.0.1:{object_store.port}"
        "&disableSSL=true&s3ForcePathStyle=true"
    )
    engineer, service = tmp_path / "engineer", tmp_path / "service"
    engineer.mkdir()
    service.mkdir()
    (engineer / "Pulumi.yaml").write_text("name: labshare\nruntime: python\n")
    login = pulumi_cli(env, engineer, "login")
    assert login.returncode == 0 and "Logged in" in login.stdout, login.stderr
    made = pulumi_cli(env, engineer, "stack", "init", "organization/labshare/prod")
    assert made.returncode == 0, made.stderr
    listed = pulumi_cli(env, service, "stack", "ls", "--all", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "organization/labshare/prod" in [s["name"] for s in json.loads(listed.stdout)]
    # The state is in the bucket, not in either process's folder.
    keys = subprocess.run(
        ["curl", "-s", f"http://127.0.0.1:{object_store.port}/{object_store.bucket}?list-type=2"],
        capture_output=True, text=True, timeout=30, check=False,
    ).stdout  # fmt: skip
    assert "<Key>.pulumi/stacks/labshare/prod.json</Key>" in keys


@pytest.mark.pulumi_cli
def test_an_update_in_one_process_locks_the_stack_for_another(
    object_store: ObjectStore, tmp_path: Path
) -> None:
    from pulumi import automation as auto

    env = object_store.pulumi_env()
    gate = tmp_path / "gate"
    holder = subprocess.Popen(
        [sys.executable, "-m", "tests.deploy_service.vps_lab", "hold-update", str(gate)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        started = wait_for_file(Path(f"{gate}.started"), 180, holder)
        assert started, f"the first update did not start:\n{_output(holder)}"
        listed = pulumi_cli(env, tmp_path, "stack", "ls", "--all", "--json")
        held_name = f"organization/{HELD_PROJECT}/{HELD_STACK}"
        assert held_name in [s["name"] for s in json.loads(listed.stdout or "[]")], listed.stderr

        def program() -> None:
            import pulumi

            pulumi.export("writer", "second")

        second = inline_stack(HELD_PROJECT, HELD_STACK, program, env, tmp_path / "second")
        with pytest.raises(auto.ConcurrentUpdateError) as refused:
            second.up()
        assert "the stack is currently locked" in str(refused.value)
        assert f"s3://{object_store.bucket}/.pulumi/locks/" in str(refused.value)

        gate.write_text("go")
        assert holder.wait(timeout=180) == 0, _output(holder)
        assert second.up().outputs["writer"].value == "second"
    finally:
        gate.write_text("go")
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=30)


def _output(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        return "(still running)"
    return proc.stdout.read() if proc.stdout else ""
