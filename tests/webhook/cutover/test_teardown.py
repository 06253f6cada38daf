"""`make down` removes everything a routed stack made (issue 34 item 10; real engine).

The proxy and the releases' routed containers are outside Pulumi's state (the live
release's are `retain_on_delete`): a destroy left them running, and the proxy held the
stack's network, so the destroy timed out. The teardown `make down` runs first removes them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.ports import free_port
from tests.support.real_stack import project_network
from webhook.cutover import engine, teardown
from webhook.cutover.route_files import RoutesFolder

pytestmark = [pytest.mark.docker_engine]


@pytest.fixture
def project() -> Iterator[str]:
    with project_network("d") as name:
        yield name


def test_teardown_removes_the_proxy_and_every_release_and_frees_the_network(
    project: str, tmp_path: Path
) -> None:
    network = f"{project}_default"
    folder = RoutesFolder(tmp_path / f"proxy-{project}")
    folder.create()
    engine.ensure_proxy(project, f"127.0.0.1:{free_port()}", [network], folder.root, print)
    for release in ("d1", "d2"):
        engine.docker(
            "run", "-d", "--name", f"{project}-web-{release}-1", "--network", network,
            "--label", f"{engine.PROJECT_LABEL}={project}",
            "--label", f"{engine.RELEASE_LABEL}={release}",
            engine.BASE_IMAGE, "sleep", "600",
        )  # fmt: skip
    (tmp_path / "Pulumi.s1.yaml").write_text(f"config:\n  slipway:composeProject: {project}\n")
    assert teardown.main(["--stack", "s1", "--work-dir", str(tmp_path)]) == 0
    assert teardown.routed_containers(project) == []
    engine.docker("network", "rm", network)  # nothing holds it any more
    engine.docker("network", "create", network)  # for the fixture's cleanup
