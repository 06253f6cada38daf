"""The lab itself: three engines of their own form one Swarm, and an overlay spans them."""

from __future__ import annotations

import pytest

from tests.support.swarm.lab import http_text, wait_for

pytestmark = [pytest.mark.docker_engine, pytest.mark.slow]


def test_three_nodes_ready_with_their_own_hostnames(swarm_lab) -> None:
    listed = swarm_lab.docker(
        "node", "ls", "--format", "{{.Hostname}} {{.Status}} {{.ManagerStatus}}"
    )
    rows = sorted(line.split(" ", 2) for line in listed.stdout.splitlines())
    prefix = swarm_lab.env["SLIPWAY_SWARM_LAB_NAME"]
    assert rows == [
        [f"{prefix}-n1", "Ready", "Leader"],
        [f"{prefix}-n2", "Ready", ""],
        [f"{prefix}-n3", "Ready", ""],
    ]


def test_a_global_service_answers_on_every_node(swarm_lab) -> None:
    """Tasks on all three nodes, each answering on its node's address (host-mode port)."""
    name = "labcheck"
    swarm_lab.docker(
        "service", "create", "--detach", "--name", name, "--mode", "global",
        "--publish", "mode=host,target=8080,published=18089",
        "slipway/base:busybox", "sh", "-c",
        "mkdir -p /w && hostname > /w/index.html && exec httpd -f -p 8080 -h /w",
    )  # fmt: skip
    try:
        answers = set()
        for addr in swarm_lab.addrs:
            url = f"http://{addr}:18089/"
            answers.add(wait_for(lambda url=url: http_text(url), f"an answer from {url}"))
        assert len(answers) == 3, answers  # three different containers
        # Workers report their tasks' state to the manager on their own schedule: a task can
        # answer before the manager lists it as running, so the manager's view is waited for.
        seen: list[set[str]] = []

        def on_every_node() -> bool | None:
            seen.append(set(swarm_lab.node_of_tasks(name).values()))
            return True if len(seen[-1]) == 3 else None

        try:
            wait_for(on_every_node, "the manager listing a running task on every node", 60)
        except AssertionError as error:
            raise AssertionError(f"{error}: last {seen[-1:]}") from error
    finally:
        swarm_lab.docker("service", "rm", name, check=False)
