"""The proxy's switch on the real engine: Caddy in its container, two releases of a busybox
web server, a keep-alive client on loopback. No Pulumi: this is the switch alone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.real_stack import project_network
from tests.support.routed_release import start_release as run_release
from webhook.cutover import engine
from webhook.cutover.caddy import RELEASE_HEADER, CaddyAdmin, Release, RouteSpec
from webhook.cutover.proxy_routes import ProxyRoutes
from webhook.cutover.route_files import RoutesFolder

pytestmark = [pytest.mark.docker_engine]
ROUTES = (RouteSpec("web", 8080),)


@pytest.fixture
def project() -> Iterator[str]:
    with project_network("p") as name:
        yield name


def start_release(project: str, release: str) -> Release:
    """One busybox httpd answering `release=<release>`, labelled like a routed container."""
    name = run_release(project, release)
    return Release(release, {"web": [engine.address(name, [f"{project}_default"])]})


def test_a_switch_keeps_every_client_connection_and_moves_the_next_request(
    project: str, tmp_path: Path
) -> None:
    listen = f"127.0.0.1:{free_port()}"
    folder = RoutesFolder(tmp_path / f"proxy-{project}")
    folder.create()
    proxy = engine.ensure_proxy(project, listen, [f"{project}_default"], folder.root, print)
    routes = ProxyRoutes(folder, CaddyAdmin(proxy.admin_url), ROUTES, grace=1)
    r1, r2 = start_release(project, "r1"), start_release(project, "r2")
    assert routes.live() is None
    routes.stage(r1, None, serving=False)
    assert httpx.get(f"http://{listen}/").status_code == 503  # no user route before a switch
    assert httpx.get(f"{proxy.private_url}/").text.strip() == "release=r1"
    routes.switch("r1")
    assert routes.live() == r1

    connections, answers = set(), []
    with httpx.Client(base_url=f"http://{listen}") as client:

        def get() -> str:
            answer = client.get("/")
            connections.add(answer.extensions["network_stream"].get_extra_info("client_addr"))
            assert answer.headers[RELEASE_HEADER] in answer.text
            return answer.text.strip()

        answers.append(get())
        for live, candidate in [(r1, r2), (r2, r1)] * 5:
            routes.stage(candidate, live, serving=True)
            answers.append(get())  # staged: users still on live
            routes.switch(candidate.name)
            answers.append(get())
    expected = ["release=r1"] + ["release=r1", "release=r2", "release=r2", "release=r1"] * 5
    assert answers == expected
    # One TCP connection served every request: no switch closed it (a config load would).
    assert len(connections) == 1, connections
    routes.prune("r1")
    assert routes.live() == r1
    # r1 staged again (a deployment retried after an interruption): users keep r1 meanwhile.
    routes.stage(r1, None, serving=True)
    assert httpx.get(f"http://{listen}/").text.strip() == "release=r1"


def test_a_proxy_reading_another_routes_folder_is_recreated_on_the_new_one(
    project: str, tmp_path: Path
) -> None:
    """An upgrade from a proxy whose routes lived inside it, or a moved state folder: the
    proxy is started again on the folder the service writes, which it reads at once."""
    listen, networks = f"127.0.0.1:{free_port()}", [f"{project}_default"]
    (tmp_path / "old").mkdir()
    old = engine.ensure_proxy(project, listen, networks, tmp_path / "old", lambda _: None)
    lines: list[str] = []
    folder = RoutesFolder(tmp_path / "new")
    folder.create()
    new = engine.ensure_proxy(project, listen, networks, folder.root, lines.append)
    assert "reads its routes elsewhere" in lines[0], lines
    routes = ProxyRoutes(folder, CaddyAdmin(new.admin_url), ROUTES, grace=1)
    routes.stage(start_release(project, "r1"), None, serving=False)
    routes.switch("r1")
    assert httpx.get(f"http://{listen}/").text.strip() == "release=r1"
    logged = len(lines)
    assert engine.ensure_proxy(project, listen, networks, folder.root, lines.append) == new
    assert len(lines) == logged, lines  # on the right folder: left as it is
    assert old.name == new.name


def test_a_routes_folder_the_engine_cannot_see_is_explained(project: str, tmp_path: Path) -> None:
    """What an engine on another machine sees of the folder the service made: nothing."""
    listen = f"127.0.0.1:{free_port()}"
    with pytest.raises(engine.EngineError, match="the Docker engine does not see it"):
        engine.ensure_proxy(project, listen, [], tmp_path / "elsewhere", lambda _: None)
    assert engine.container_state(f"{project}-proxy").status == "missing"
