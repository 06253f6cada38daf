"""The gate is the private route's verdict (issue 34 item 13; real engine and proxy).

No test had a candidate whose container healthcheck passes while its routed health path
fails, so switching users before the private-route check, or ignoring its verdict, went
unnoticed. Here r2's container is healthy for Docker but answers 404 on the route's
health path: users must never reach it, and `live` must stay on r1.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.real_stack import project_network
from tests.support.routed_release import quick_cutover, routing, start_release
from webhook.cutover import engine
from webhook.health import HealthPolicy

pytestmark = [pytest.mark.docker_engine]


HEALTHY_IN_DOCKER = ["--init", "--health-cmd", "true", "--health-interval", "1s"]


@pytest.fixture
def project() -> Iterator[str]:
    with project_network("h") as name:
        yield name


def _routed(stack: str, listen: str, release: str, container: str) -> dict:
    routed = routing(stack, listen, release, container)
    routed["services"][0]["health"] = "/healthz"
    return routed


def test_a_candidate_healthy_in_docker_but_failing_its_route_never_gets_users(
    project: str,
    tmp_path: Path,
) -> None:
    listen = f"127.0.0.1:{free_port()}"
    r1 = start_release(project, "r1", options=HEALTHY_IN_DOCKER, healthz=True)
    first = quick_cutover(tmp_path, 0).run(
        _routed(project, listen, "r1", r1), [], print, threading.Event()
    )
    assert first.healthy, first.summary
    r2 = start_release(project, "r2", options=HEALTHY_IN_DOCKER)
    cutover = quick_cutover(tmp_path, 0)
    cutover.policy = type(cutover.policy)(
        gate=HealthPolicy(interval_seconds=0.2, consecutive_passes=1, deadline_seconds=3),
        watch_seconds=0, drain_seconds=0.2,
    )  # fmt: skip
    seen: list[str] = []
    done = threading.Event()

    def users() -> None:
        with httpx.Client(timeout=5) as client:
            while not done.is_set() and len(seen) < 2000:
                seen.append(client.get(f"http://{listen}/").text.strip())

    traffic = threading.Thread(target=users)
    traffic.start()
    lines: list[str] = []
    try:
        report = cutover.run(
            _routed(project, listen, "r2", r2), [], lines.append, threading.Event()
        )
    finally:
        done.set()
        traffic.join(30)
    assert engine.container_state(r2).health == "healthy", lines  # Docker's verdict: fine
    assert not report.healthy and "never received user traffic" in report.summary, report
    assert "release=r2" not in seen and seen, (set(seen), lines)
    live = (tmp_path / "binds" / f"proxy-{project}" / "live").readlink()
    assert live.name == "r1", live
