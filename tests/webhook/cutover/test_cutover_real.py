"""Health-gated cutover on the real parts: the service, `pulumi up`, the docker provider,
the Caddy proxy container, real traffic through the proxy on loopback.

Each test counts which release answered every request it sent through the proxy (the web
service's health endpoint names its release).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.deploy_loop import Loop, Traffic, routed_loop
from tests.support.fake_github import FakeGitHub
from tests.support.real_stack import docker_inspect
from webhook.cutover import engine
from webhook.store.states import DeploymentState

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]
S = DeploymentState


@pytest.fixture
def loop(tmp_path: Path, fake_github: FakeGitHub, octokit_examples_dir: Path) -> Iterator[Loop]:
    with routed_loop(
        tmp_path, fake_github, octokit_examples_dir, watch_seconds=3, drain_seconds=1
    ) as loop:
        yield loop


@pytest.fixture
def watched(tmp_path: Path, fake_github: FakeGitHub, octokit_examples_dir: Path) -> Iterator[Loop]:
    with routed_loop(
        tmp_path, fake_github, octokit_examples_dir,
        watch_seconds=25, watch_failures=2, watch_interval_seconds=0.5, drain_seconds=1,
    ) as loop:  # fmt: skip
        yield loop


def web_containers(loop: Loop) -> dict[str, str]:
    return engine.release_containers(loop.repo.project)


def test_a_healthy_release_takes_traffic_only_once_healthy_and_the_old_one_goes(
    loop: Loop,
) -> None:
    first = loop.wait(loop.push(loop.repo.healthy("r1")))
    assert first.state == S.SUCCEEDED, loop.log(first.id)
    assert loop.release() == "ok release=r1"
    assert list(web_containers(loop).values()) == [f"d{first.id}"]

    with Traffic(loop.repo.health_url) as traffic:
        second_id = loop.push(loop.repo.healthy("r2"))
        second = loop.wait(second_id)
    assert second.state == S.SUCCEEDED, loop.log(second.id)
    log = loop.log(second.id)
    ready = next(i for i, line in enumerate(log) if "candidate containers ready" in line)
    switched = next(i for i, line in enumerate(log) if "users now reach release" in line)
    assert ready < switched, log
    # Before the switch, only r1 answered; after it, only r2; nothing failed in between.
    assert traffic.failures == [], traffic.failures[:5]
    sequence = [body for _, body in traffic.times]
    first_r2 = sequence.index("ok release=r2")
    assert set(sequence[:first_r2]) == {"ok release=r1"}
    assert set(sequence[first_r2:]) == {"ok release=r2"}, sequence[first_r2:][:10]
    # The old release's container is gone; only the new one is left.
    assert web_containers(loop) == {f"{loop.repo.project}-web-d{second.id}-1": f"d{second.id}"}
    assert docker_inspect("{{.Id}}", f"{loop.repo.project}-web-d{first.id}-1") == ""


def test_a_candidate_failing_its_checks_never_answers_a_user(loop: Loop) -> None:
    first = loop.wait(loop.push(loop.repo.healthy("r1")))
    assert first.state == S.SUCCEEDED, loop.log(first.id)
    with Traffic(loop.repo.health_url) as traffic:
        bad = loop.wait(loop.push(loop.repo.unhealthy("bad")), S.ROLLED_BACK, S.ROLLBACK_FAILED)
    counted = traffic.by_release()
    assert counted["bad"] == 0, counted
    assert counted["r1"] > 0 and traffic.failures == [], (counted, traffic.failures[:5])
    log = loop.log(bad.id)
    assert bad.state == S.ROLLED_BACK, log
    reasons = [line for line in log if "never received user traffic" in line]
    assert reasons and f"candidate d{bad.id} " in reasons[0], log
    history = loop.service.store.get_deployment(bad.id)
    assert history.rolled_back_to is not None
    assert loop.release() == "ok release=r1"


def test_a_release_turning_unhealthy_in_the_window_is_switched_back(watched: Loop) -> None:
    loop = watched
    first = loop.wait(loop.push(loop.repo.healthy("r1")))
    assert first.state == S.SUCCEEDED, loop.log(first.id)
    old_web = f"{loop.repo.project}-web-d{first.id}-1"
    old_image = engine.image_id(old_web)
    with Traffic(loop.repo.health_url) as traffic:
        turning = loop.push(loop.repo.turning_unhealthy("turning", after=12))
        loop.wait_log(turning, "switched back to release")
        back = time.monotonic()
        loop.wait(turning, S.ROLLED_BACK, S.ROLLBACK_FAILED)
    log = loop.log(turning)
    (line,) = [x for x in log if "cutover: switched back to release" in x]
    seconds = float(line.split(" s after the failure")[0].rsplit(" ", 1)[-1])
    assert seconds < 5, line
    # The same container, the same image: the previous release itself, not a rebuild.
    assert f"switched back to release d{first.id}" in line
    failed = loop.service.store.get_deployment(turning)
    assert failed.state == S.ROLLED_BACK, log
    note = [x for x in log if "users saw" in x]
    assert note, log
    counted = traffic.by_release()
    assert counted["turning"] > 0 and counted["r1"] > 0, counted
    # After the switch back, only r1 answers (the reconcile cuts over to r1's new container).
    after = [body for when, body in traffic.times if when > back + 0.5]
    assert after and set(after) == {"ok release=r1"}, (set(after), traffic.failures)
    assert loop.release() == "ok release=r1"
    # Pulumi state reconciled: the web container in the stack is the rollback's, same image.
    state = loop.pulumi("stack", "output", "routing", "--json")
    assert f'"d{turning}r"' in state.stdout, state.stdout
    assert engine.image_id(f"{loop.repo.project}-web-d{turning}r-1") == old_image
