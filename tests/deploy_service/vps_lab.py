"""The loopback "VPS" and the shared object store, for tests (docs/vps-lab.md).

`VpsLab.start(dir)` runs a private instance of scripts/vps-lab.sh (its own sshd on a free
loopback port, its own keys under `dir`; the machine's `deploy` user and the engine are
shared), `ObjectStore.start(dir)` one of scripts/object-store.sh (its own moto_server and
bucket). Each `.env` holds exactly what the script's `env` exports; `.stop()` stops only
that instance. The fixtures in conftest.py wrap them with cleanup.

Run as `python -m tests.deploy_service.vps_lab hold-update GATE` it is a second process that
takes the stack's lock: an inline-program `up` that waits (at most 120 s) for the file GATE.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.paths import REPO_ROOT
from tests.support.ports import free_port

VPS_LAB = REPO_ROOT / "scripts" / "vps-lab.sh"
OBJECT_STORE = REPO_ROOT / "scripts" / "object-store.sh"
BUSYBOX = "slipway/base:busybox"
# A stack secret provider both processes share (the backend holds only the salt).
PASSPHRASE = "vps-lab-test-passphrase"


def run_script(
    script: Path, command: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess:
    """`bash SCRIPT COMMAND` with `env`; output captured as text, never raises on failure."""
    return subprocess.run(
        ["bash", str(script), command],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def exports(script: Path, env: dict[str, str]) -> dict[str, str]:
    """The variables `eval "$(SCRIPT env)"` sets or changes, evaluated as a shell does."""
    shown = subprocess.run(
        ["bash", "-c", f'eval "$(bash {script} env)" && env -0'],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, f"{script.name} env failed:\n{shown.stderr}"
    after = dict(line.split("=", 1) for line in shown.stdout.split("\0") if "=" in line)
    return {k: v for k, v in after.items() if env.get(k) != v and k not in ("SHLVL", "_", "PWD")}


def script_env(base: dict[str, str], **settings: str) -> dict[str, str]:
    """`base` with SLIPWAY_* settings for a script; a DOCKER_HOST left over from a lab is
    dropped so the scripts find the engine itself (scripts/docker-engine.sh)."""
    env = {**base, **settings}
    if env.get("DOCKER_HOST", "").startswith("ssh://"):
        del env["DOCKER_HOST"]
    return env


@dataclass
class VpsLab:
    """One running instance of scripts/vps-lab.sh."""

    dir: Path  # its SLIPWAY_CACHE_DIR: keys, configs, log under dir/vps-lab
    port: int
    script_env: dict[str, str]  # what start/stop/status run with
    env: dict[str, str] = field(default_factory=dict)  # what `vps-lab.sh env` exports

    @classmethod
    def start(cls, dir: Path, port: int | None = None, base: dict | None = None) -> VpsLab:
        """Start a lab whose state lives under `dir`, on `port` (default: a free one)."""
        port = port or free_port()
        env = script_env(
            dict(base or os.environ), SLIPWAY_CACHE_DIR=str(dir), SLIPWAY_VPS_LAB_PORT=str(port)
        )
        started = run_script(VPS_LAB, "start", env)
        assert started.returncode == 0, f"vps-lab.sh start failed:\n{started.stderr}"
        lab = cls(dir=dir, port=port, script_env=env)
        lab.env = exports(VPS_LAB, env)
        return lab

    @property
    def docker_host(self) -> str:
        return f"ssh://deploy@127.0.0.1:{self.port}"

    @property
    def ssh_config(self) -> Path:
        return self.dir / "vps-lab" / "ssh_config"

    @property
    def sshd_log(self) -> Path:
        return self.dir / "vps-lab" / "sshd.log"

    def logins(self) -> int:
        """How many ssh logins of `deploy` the lab's sshd has accepted so far."""
        text = self.sshd_log.read_text(errors="replace") if self.sshd_log.exists() else ""
        return text.count("Accepted publickey for deploy")

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's environment) with the lab's exports applied."""
        return {**(base or os.environ), **self.env}

    def docker(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """The docker CLI over ssh://deploy@..., as a user of `vps-lab.sh env` runs it."""
        return subprocess.run(
            ["docker", *args], env=self.client_env(), capture_output=True, text=True,
            timeout=timeout, check=False,
        )  # fmt: skip

    def status(self) -> subprocess.CompletedProcess:
        return run_script(VPS_LAB, "status", self.script_env, timeout=120)

    def stop(self) -> subprocess.CompletedProcess:
        return run_script(VPS_LAB, "stop", self.script_env, timeout=60)


@dataclass
class ObjectStore:
    """One running instance of scripts/object-store.sh (moto_server, in memory)."""

    dir: Path
    port: int
    bucket: str
    script_env: dict[str, str]
    env: dict[str, str] = field(default_factory=dict)  # what `object-store.sh env` exports

    @classmethod
    def start(cls, dir: Path, bucket: str = "slipway-test-state") -> ObjectStore:
        port = free_port()
        env = script_env(
            dict(os.environ),
            SLIPWAY_CACHE_DIR=str(dir),
            SLIPWAY_OBJECT_STORE_PORT=str(port),
            SLIPWAY_OBJECT_STORE_BUCKET=bucket,
        )
        started = run_script(OBJECT_STORE, "start", env, timeout=60)
        assert started.returncode == 0, f"object-store.sh start failed:\n{started.stderr}"
        store = cls(dir=dir, port=port, bucket=bucket, script_env=env)
        store.env = exports(OBJECT_STORE, env)
        return store

    def pulumi_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """What a Pulumi process on this backend needs: the exports and a passphrase."""
        return {
            **(base or os.environ),
            **self.env,
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }

    def stop(self) -> subprocess.CompletedProcess:
        return run_script(OBJECT_STORE, "stop", self.script_env, timeout=60)


def wait_for_file(path: Path, seconds: float, proc: subprocess.Popen | None = None) -> bool:
    """True once `path` exists; False after `seconds` or when `proc` has exited."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        if proc is not None and proc.poll() is not None:
            return path.exists()
        time.sleep(0.1)
    return False


def inline_stack(project: str, stack: str, program, env: dict[str, str], work_dir: Path):
    """An Automation API stack of an inline program, created or selected, run with `env`."""
    from pulumi import automation as auto

    work_dir.mkdir(parents=True, exist_ok=True)
    return auto.create_or_select_stack(
        stack_name=f"organization/{project}/{stack}",
        project_name=project,
        program=program,
        opts=auto.LocalWorkspaceOptions(work_dir=str(work_dir), env_vars=env),
    )


HELD_PROJECT, HELD_STACK = "vpslab", "shared"


def _hold_update(gate: Path) -> int:
    """`up` of HELD_STACK whose program waits for `gate` (writes GATE.started first)."""
    import pulumi

    def program() -> None:
        Path(f"{gate}.started").write_text(str(os.getpid()))
        wait_for_file(gate, 120)
        pulumi.export("writer", "held")

    stack = inline_stack(HELD_PROJECT, HELD_STACK, program, dict(os.environ), gate.parent / "held")
    result = stack.up()
    print(f"held update: {result.summary.result}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "hold-update":
        sys.exit("usage: python -m tests.deploy_service.vps_lab hold-update GATE")
    sys.exit(_hold_update(Path(sys.argv[2])))
