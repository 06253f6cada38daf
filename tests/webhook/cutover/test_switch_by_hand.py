"""A switch by hand during the watch window is kept (issue 34 item 11; real engine, proxy).

The runbook's switch back (`ln -sfn releases/<r> $R/.live.new && mv -T -f $R/.live.new
$R/live`) used to work until the window ended: the deployment, seeing healthy checks (of
the release the operator chose), then stopped every container but its own release's, the
chosen one included, and users got 502 until the next deploy. The cutover now sees the
link move, leaves users there, stops nothing, and reports it.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.ports import free_port
from tests.support.real_stack import project_network
from tests.support.routed_release import WAIT, quick_cutover, routing, start_release
from webhook.cutover import engine

pytestmark = [pytest.mark.docker_engine]


@pytest.fixture
def project() -> Iterator[str]:
    with project_network("h") as name:
        yield name


def test_a_switch_back_by_hand_in_the_window_is_kept(project: str, tmp_path: Path) -> None:
    listen = f"127.0.0.1:{free_port()}"
    r1 = start_release(project, "r1", options=["--init"])
    first = quick_cutover(tmp_path, 0).run(
        routing(project, listen, "r1", r1), [], print, threading.Event()
    )
    assert first.healthy, first.summary
    r2 = start_release(project, "r2", options=["--init"])
    lines: list[str] = []
    reports = []
    runner = threading.Thread(
        target=lambda: reports.append(
            quick_cutover(tmp_path, WAIT).run(
                routing(project, listen, "r2", r2), [], lines.append, threading.Event()
            )
        )
    )
    runner.start()
    deadline = time.monotonic() + WAIT
    while not any("watch:" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert httpx.get(f"http://{listen}/", timeout=5).text.strip() == "release=r2", lines
    routes = tmp_path / "binds" / f"proxy-{project}"
    subprocess.run(  # the runbook's command, as written in docs/cutover.md
        f"ln -sfn releases/r1 {routes}/.live.new && mv -T -f {routes}/.live.new {routes}/live",
        shell=True, check=True, timeout=10,
    )  # fmt: skip
    runner.join(WAIT + 10)
    assert reports, f"the cutover did not end: {lines}"
    report = reports[0]
    assert not report.healthy and "an operator switched users" in report.summary, report
    assert engine.container_state(r1).status == "running", lines
    answer = httpx.get(f"http://{listen}/", timeout=5)
    assert (answer.status_code, answer.text.strip()) == (200, "release=r1"), lines
