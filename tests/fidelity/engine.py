"""I/O of the equivalence suite: deploy a case both ways, read back what the engine has.

Side A is `docker compose up` (Docker Compose v5, the reference), side B Slipway's `up`
(the Pulumi program inline, real provider). Both deploy the same files from one copy of
the project, so bind sources and build contexts are the same paths; only the project name
and the `FID_*` variables (ports, subnets) differ, and `normalize.py` maps them back.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.support.ports import free_port
from tests.support.real_stack import REPO_ROOT, pulumi_env

CASES = Path(__file__).resolve().parent / "cases"
COMPOSE = str(Path(sys.executable).parent / "docker-compose")
PROJECT_LABEL = "com.docker.compose.project"
_NOT_COPIED = shutil.ignore_patterns(
    ".venv", ".git", "node_modules", "var", ".pulumi-state", "bench", "tests", "docs",
    "__pycache__", "tools",
)  # fmt: skip


@dataclass
class Side:
    """One deployment of a case: its project name and the variables its files see."""

    name: str  # "compose" or "slipway"
    project: str
    variables: dict[str, str]


@dataclass
class Workspace:
    """A copy of the project with the cases in `case/`, and one side of each kind."""

    root: Path
    compose: Side
    slipway: Side
    backend: Path
    external_network: str

    def env(self, side: Side) -> dict[str, str]:
        return {**os.environ, **side.variables, "COMPOSE_BAKE": "false"}


def _variables(project: str, subnet: int, external: str) -> dict[str, str]:
    return {
        "FID_PROJECT": project,
        "FID_PORT1": str(free_port()),
        "FID_PORT2": str(free_port()),
        "FID_PORT3": str(free_port()),
        "DEMO_WEB_PORT": str(free_port()),
        "FID_SUBNET_PREFIX": f"10.213.{subnet}",
        "FID_SUBNET6": f"fd00:5a1:{subnet}::/64",
        "FID_SUBNET6_PREFIX": f"fd00:5a1:{subnet}",
        "FID_SECRET_VALUE": "p@ss$word",
        "FID_EXTERNAL_NETWORK": external,
        "FID_EXTERNAL_VOLUME": f"{external}-vol",
    }


def make_workspace(tmp: Path) -> Workspace:
    """Copy the project (and the cases) under `tmp`; create the external network and volume
    both sides share."""
    root = tmp / "work"
    shutil.copytree(REPO_ROOT, root, ignore=_NOT_COPIED)
    shutil.copytree(CASES, root / "case")
    suffix = uuid.uuid4().hex[:6]
    external = f"fid-ext-{suffix}"
    run(["docker", "network", "create", external])
    run(["docker", "volume", "create", f"{external}-vol"])
    subnet = int(suffix[:2], 16) & 0x7F  # two /24s of 10.213.0.0/16 per workspace
    compose = Side("compose", f"fa{suffix}", _variables(f"fa{suffix}", 2 * subnet, external))
    slipway = Side("slipway", f"fb{suffix}", _variables(f"fb{suffix}", 2 * subnet + 1, external))
    return Workspace(root, compose, slipway, tmp / "backend", external)


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run `argv`, raise with its output when it fails."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def compose_up(ws: Workspace, files: list[str], wait: bool = True) -> None:
    """`docker compose -p A up -d [--wait]` of `files` (paths relative to the copy)."""
    argv = [COMPOSE, "-p", ws.compose.project]
    for f in files:
        argv += ["-f", str(ws.root / f)]
    argv += ["up", "-d", "--build", *(["--wait"] if wait else [])]
    run(argv, env=ws.env(ws.compose), cwd=ws.root)


def slipway_up(ws: Workspace, files: list[str], stack: str | None = None) -> None:
    """Slipway's `up` of `files` as project B (stack config written into the copy)."""
    stack = stack or ws.slipway.project
    listed = "".join(f"    - {f}\n" for f in files)
    (ws.root / f"Pulumi.{stack}.yaml").write_text(
        f"config:\n  slipway:composeFiles:\n{listed}"
        f"  slipway:composeProject: {ws.slipway.project}\n"
    )
    env = {**ws.env(ws.slipway), **pulumi_env(ws.backend)}
    run(
        [sys.executable, "-m", "webhook.runners.stack_process", "up", "--stack", stack,
         "--work-dir", str(ws.root)],
        env=env, cwd=REPO_ROOT,
    )  # fmt: skip


def up_both(ws: Workspace, files: list[str], wait: bool = True) -> None:
    """Both sides' `up` of `files` at once (independent projects)."""
    with ThreadPoolExecutor(2) as pool:
        ups = [pool.submit(compose_up, ws, files, wait), pool.submit(slipway_up, ws, files)]
        for up in ups:
            up.result()


def ids(kind: str, project: str) -> list[str]:
    listing = {"container": ["ps", "-aq"], "network": ["network", "ls", "-q"]}.get(
        kind, [kind, "ls", "-q"]
    )
    out = run(["docker", *listing, "--filter", f"label={PROJECT_LABEL}={project}"]).stdout
    return out.split()


def inspect(kind: str, ids: list[str]) -> list[dict]:
    if not ids:
        return []
    return json.loads(run(["docker", kind, "inspect", *ids]).stdout)


# Shell probes run inside every running container (as root, busybox applets only).
PROBES = {
    "pid1": "tr '\\0' ' ' </proc/1/cmdline",
    "id": "id",
    "env": "env | sort",
    "resolv.conf": "cat /etc/resolv.conf",
    "hosts": "cat /etc/hosts",
    "hostname": "hostname; hostname -d 2>/dev/null",
    "mounts": 'awk \'$2 != "/" && $2 !~ "^/(proc|sys|dev)" {print $2, $3, $4}\' /proc/mounts'
    " | sort",
    "modes": "for p in / /data /data-ro /anon /anon-long /seed /seed/file /shared /propagated "
    "/scratch /run/tmp /run/plain /image-vol /run/secrets/* /etc/app/* /usr/local/bin/entry.sh "
    '/srv/greeting /stamp; do [ -e "$p" ] && stat -c \'%n %a %u %g %F\' "$p"; done; true',
    "files": "cat /srv/greeting /stamp /run/secrets/* /etc/app/* 2>/dev/null",
    "writable": "for p in /data-ro /usr/local/bin/entry.sh /run/secrets/file_secret /tmp; do "
    'touch "$p" 2>/dev/null && echo "$p rw" || echo "$p ro"; done',
    "limits": "grep -E 'processes|open files' /proc/1/limits",
}


# Aliases of the cases (network aliases, link aliases, hostnames) that the dns probe asks
# for, besides every service and container name of the project.
EXTRA_NAMES = ("api-alias", "legacy-api", "api-1", "apphost")


def _resolves(names: list[str]) -> str:
    """A probe: which of `names` Docker's DNS answers inside the container."""
    listed = " ".join(n for n in names if n)
    return (
        f"for n in {listed}; do timeout 3 nslookup $n >/dev/null 2>&1 "
        '&& echo "$n yes" || echo "$n no"; done'
    )


def host_ports(side: Side) -> dict[str, dict[str, bool]]:
    """Which of the side's published TCP ports accept a connection on 127.0.0.1 and ::1."""

    def accepts(host: str, port: int) -> bool:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family) as sock:
            sock.settimeout(2)
            return sock.connect_ex((host, port)) == 0

    return {
        name: {ip: accepts(ip, int(value)) for ip in ("127.0.0.1", "::1")}
        for name, value in side.variables.items()
        if name.startswith("FID_PORT") or name == "DEMO_WEB_PORT"
    }


def settle(project: str, timeout: float = 90) -> None:
    """Wait until no container of `project` is still `starting` its health check (Slipway's
    `up` waits only where a dependant needs it; `compose up --wait` waits for all)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = inspect("container", ids("container", project))
        if not any((c["State"].get("Health") or {}).get("Status") == "starting" for c in states):
            return
        time.sleep(0.5)
    raise AssertionError(f"{project}: health checks still starting after {timeout} s")


def read_project(project: str) -> dict[str, dict]:
    """Every container (with its image's config and probes), network and volume of
    `project`, as `{"container <name>": docker inspect document, ...}`."""
    containers = inspect("container", ids("container", project))
    mounted = [m["Name"] for c in containers for m in c["Mounts"] if m.get("Name")]
    volumes = inspect("volume", sorted(set(ids("volume", project)) | set(mounted)))
    images = {i["Id"]: i for i in inspect("image", sorted({c["Image"] for c in containers}))}
    names = sorted(
        {c["Config"]["Labels"].get("com.docker.compose.service", "") for c in containers}
        | {c["Name"].lstrip("/") for c in containers}
        | set(EXTRA_NAMES)
    )
    probes = {**PROBES, "dns": _resolves(names)}
    objects: dict[str, dict] = {}
    for c in containers:
        c["ImageConfig"] = images[c["Image"]]["Config"]
        c["Probes"] = probe(c["Id"], probes) if c["State"]["Running"] else {}
        objects[f"container {c['Name'].lstrip('/')}"] = c
    for n in inspect("network", ids("network", project)):
        objects[f"network {n['Name']}"] = n
    for v in volumes:
        objects[f"volume {v['Name']}"] = v
    return objects


def probe(container: str, commands: dict[str, str]) -> dict[str, str]:
    """Each shell command of `commands` run inside `container` (`docker exec`)."""
    out = {}
    for name, command in commands.items():
        result = subprocess.run(
            ["docker", "exec", "-u", "0", container, "sh", "-c", command],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        out[name] = result.stdout + (f"[exit {result.returncode}]" if result.returncode else "")
    return out


def quiet(*argv: str) -> str:
    """Run a cleanup command; its stdout, whatever its exit code (best effort)."""
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    return result.stdout


def remove_project(project: str) -> None:
    """Remove everything of `project` from the engine (best effort, never raises)."""
    label = f"label={PROJECT_LABEL}={project}"
    containers = quiet("docker", "ps", "-aq", "--filter", label).split()
    containers += quiet("docker", "ps", "-aq", "--filter", f"name=^{project}-").split()
    if containers:
        quiet("docker", "rm", "-fv", *sorted(set(containers)))
    for kind in ("network", "volume"):
        ids = quiet("docker", kind, "ls", "-q", "--filter", label).split()
        names = quiet("docker", kind, "ls", "--format", "{{.Name}}").split()
        ids += [n for n in names if n.startswith((f"{project}_", f"{project}-"))]
        if ids:
            quiet("docker", kind, "rm", *sorted(set(ids)))
    images = quiet("docker", "images", "--format", "{{.Repository}}:{{.Tag}}").split()
    mine = [i for i in images if i.startswith(f"{project}-")]
    if mine:
        quiet("docker", "rmi", *mine)


def remove_volumes(names: list[str]) -> None:
    """Remove these volumes where no container uses them (best effort, never raises)."""
    if names:
        quiet("docker", "volume", "rm", *names)


def remove_workspace(ws: Workspace) -> None:
    for side in (ws.compose, ws.slipway):
        remove_project(side.project)
    for kind, name in (("network", ws.external_network), ("volume", f"{ws.external_network}-vol")):
        subprocess.run(
            ["docker", kind, "rm", name],
            capture_output=True, timeout=60, check=False,
        )  # fmt: skip


def leftovers(ws: Workspace) -> list[str]:
    """Containers, networks and volumes of the workspace still on the engine."""
    prefixes = (ws.compose.project, ws.slipway.project, ws.external_network)
    found = []
    for listing in (["ps", "-a"], ["network", "ls"], ["volume", "ls"]):
        names = run(
            ["docker", *listing, "--format", "{{.Names}}" if listing[0] == "ps" else "{{.Name}}"]
        )
        found += [n for n in names.stdout.split() if n.startswith(prefixes)]
    return found
