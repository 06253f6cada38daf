"""The proxy's admin API is reachable by the service only (issue 34 item 12; real engine).

Before, Caddy's admin API listened on 0.0.0.0:2019 in the proxy and was published on a
host loopback port: any local user, and any container on the stack's networks, could load
a config that sends users anywhere. Now it is a unix socket in a 0700 folder of the
service's, and an older proxy that publishes it is recreated.
"""

from __future__ import annotations

import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.real_stack import project_network
from webhook.cutover import engine
from webhook.cutover.caddy import CaddyAdmin, RouteSpec, render
from webhook.cutover.route_files import RoutesFolder

pytestmark = [pytest.mark.docker_engine]


@pytest.fixture
def project() -> Iterator[str]:
    with project_network("a") as name:
        yield name


def _accepts(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, port)) == 0


def test_the_admin_api_is_on_no_port_and_only_the_service_reaches_it(
    project: str, tmp_path: Path
) -> None:
    folder = RoutesFolder(tmp_path / f"proxy-{project}")
    folder.create()
    network = f"{project}_default"
    proxy = engine.ensure_proxy(project, f"127.0.0.1:{free_port()}", [network], folder.root, print)
    published = engine.docker("port", proxy.name)
    assert "2019" not in published, published  # nothing of the admin API on the host
    proxy_ip = engine.address(proxy.name, [network])
    admin = CaddyAdmin(proxy.admin_url)
    assert admin.config() is not None  # the service reaches it through its socket
    assert not _accepts(proxy_ip, 2019), "the admin API answers on the stack's network"
    folder_mode = stat.S_IMODE((engine.admin_folder(folder.root)).stat().st_mode)
    assert folder_mode == 0o700, oct(folder_mode)
    config = render((RouteSpec("web", 8080),), {"web": 1}, public=False, grace=1)
    assert admin.ensure(config) is True and admin.config() == config


def test_a_proxy_that_publishes_its_admin_api_is_recreated(project: str, tmp_path: Path) -> None:
    listen = f"127.0.0.1:{free_port()}"
    folder = RoutesFolder(tmp_path / f"proxy-{project}")
    folder.create()
    engine.docker(
        "run", "-d", "--name", f"{project}-proxy",
        "--label", f"{engine.PROXY_LABEL}={project}", "--label", f"{engine.LISTEN_LABEL}={listen}",
        "-p", "127.0.0.1::2019",
        "--mount", f"type=bind,source={folder.root},target=/srv/slipway,readonly",
        engine.BASE_IMAGE, "sleep", "600",
    )  # fmt: skip
    lines: list[str] = []
    proxy = engine.ensure_proxy(project, listen, [], folder.root, lines.append)
    assert any("publishes its admin API" in line for line in lines), lines
    assert "2019" not in engine.docker("port", proxy.name)
