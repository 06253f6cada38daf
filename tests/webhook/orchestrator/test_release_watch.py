"""What ends the health checks' wait early: a release container that crashed, restarts or
reports unhealthy (webhook/orchestrator/release_watch.py, webhook/health.py `watch`)."""

from __future__ import annotations

from dataclasses import replace

from webhook.health import HealthPolicy, HealthTarget, check_health
from webhook.orchestrator.engine_state import ContainerState
from webhook.orchestrator.release_watch import container_problem

RUNNING = ContainerState(
    name="p-web-1", id="c1", service="web", number="1", image_id="sha256:a",
    image_tags=("p-web:ctx-1",), status="running", exit_code=0,
    restart_count=0, started_at="t0", health="", config_hash="h",
)  # fmt: skip


def test_a_running_container_and_a_finished_job_are_no_failure() -> None:
    assert container_problem(RUNNING, 0) is None
    assert container_problem(replace(RUNNING, health="starting"), 0) is None
    assert container_problem(replace(RUNNING, status="exited", exit_code=0), 0) is None


def test_an_exit_with_an_error_a_restart_and_unhealthy_are_failures() -> None:
    exited = replace(RUNNING, status="exited", exit_code=3)
    assert container_problem(exited, 0) == "container p-web-1 exited with code 3"
    looping = replace(RUNNING, status="restarting", restart_count=4)
    assert "crash loop" in (container_problem(looping, 0) or "")
    restarted = replace(RUNNING, restart_count=2)
    assert container_problem(restarted, 1) == "container p-web-1 restarted 1 time(s)"
    assert container_problem(restarted, None) is None  # not there when the wait began
    sick = replace(RUNNING, health="unhealthy")
    assert "unhealthy" in (container_problem(sick, 0) or "")


def test_a_watch_failure_ends_the_wait_before_the_deadline() -> None:
    lines: list[str] = []
    rounds = iter([None, "container p-web-1 exited with code 3"])
    target = HealthTarget(url="http://127.0.0.1:9/never", status=200, timeout_seconds=0.2)
    policy = HealthPolicy(interval_seconds=0.01, consecutive_passes=2, deadline_seconds=3600)
    report = check_health([target], policy, lines.append, watch=lambda: next(rounds))
    assert not report.healthy and report.rounds == 2
    assert report.summary.startswith("unhealthy: container p-web-1 exited with code 3")
    assert "health: FAIL container p-web-1 exited with code 3" in lines
