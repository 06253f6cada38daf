"""The deploy client against the real webhook service (FastAPI + SQLite + uvicorn, loopback),
and the rendered workflow's deploy job played against it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.github.workflow import WorkflowSpec, render_workflow
from deploy_client.__main__ import EXIT_NOT_SUCCEEDED, EXIT_OK, EXIT_UNREACHABLE, main
from deploy_client.waiting import WaitPolicy
from tests.deploy_client.workflow_job import run_deploy_job
from tests.support.fake_deploy_api import FakeService, start
from tests.support.scripted_service import BAD_SHA, GOOD_SHA, TOKEN, RealService, real_service
from webhook.retry_policy import RetryPolicy
from webhook.store.states import DeploymentKind

FAST_WAIT = WaitPolicy(timeout=30, poll_interval=0.05)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RealService]:
    with real_service(tmp_path / "state") as running:
        yield running


def client(service: RealService, *argv: str, sleeps: list[float] | None = None, **env: str) -> int:
    environ = {"SLIPWAY_URL": service.url, "SLIPWAY_TOKEN": TOKEN, **env}

    def sleep(seconds: float) -> None:
        # Record what the client asked for; really wait only briefly (the queue is quick).
        if sleeps is not None:
            sleeps.append(seconds)
        time.sleep(min(seconds, 0.05))

    return main(
        list(argv),
        environ=environ,
        policy=RetryPolicy(attempts=3, backoff_first=0.01, backoff_max=0.05, retry_after_max=2),
        wait_policy=FAST_WAIT,
        sleep=sleep,
    )


@pytest.mark.parametrize(
    ("sha", "final", "code"),
    [
        (GOOD_SHA, "succeeded", EXIT_OK),
        (BAD_SHA, "rolled_back", EXIT_NOT_SUCCEEDED),
        ("c" * 40, "rollback_failed", EXIT_NOT_SUCCEEDED),
        ("d" * 40, "interrupted", EXIT_NOT_SUCCEEDED),
    ],
)
def test_deploy_wait_ends_with_the_services_final_state(
    service: RealService, sha: str, final: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert client(service, "deploy", "--sha", sha, "--wait") == code
    (deployment,) = service.store.list_deployments()
    assert (deployment.sha, str(deployment.state)) == (sha, final)
    out = capsys.readouterr().out
    assert f"deployment {deployment.id}: {final}" in out
    assert "| scripted step: running" in out  # the service's log, streamed
    assert TOKEN not in out


def test_a_retry_of_the_same_run_does_not_deploy_twice(service: RealService) -> None:
    run = {"GITHUB_RUN_ID": "901", "GITHUB_RUN_ATTEMPT": "1"}
    assert client(service, "deploy", "--sha", GOOD_SHA, **run) == EXIT_OK
    assert client(service, "deploy", "--sha", GOOD_SHA, **run) == EXIT_OK
    assert len(service.store.list_deployments()) == 1
    rerun = {**run, "GITHUB_RUN_ATTEMPT": "2"}  # "Re-run jobs" in Actions deploys again
    assert client(service, "deploy", "--sha", GOOD_SHA, **rerun) == EXIT_OK
    assert len(service.store.list_deployments()) == 2


def test_a_wrong_token_is_refused_without_retrying(
    service: RealService, capsys: pytest.CaptureFixture[str]
) -> None:
    sleeps: list[float] = []
    code = client(service, "deploy", "--sha", GOOD_SHA, sleeps=sleeps, SLIPWAY_TOKEN="nope-nope")
    assert code == EXIT_UNREACHABLE
    assert sleeps == []
    assert "HTTP 401: missing or wrong bearer token" in capsys.readouterr().out
    assert service.store.list_deployments() == []


def test_rollback_redeploys_the_last_good_commit(service: RealService) -> None:
    assert client(service, "deploy", "--sha", GOOD_SHA, "--wait") == EXIT_OK
    assert client(service, "deploy", "--sha", BAD_SHA, "--wait") == EXIT_NOT_SUCCEEDED
    bad = service.store.list_deployments()[0]
    assert client(service, "rollback", "--deployment", str(bad.id), "--wait") == EXIT_OK
    newest = service.store.list_deployments()[0]
    assert (newest.kind, newest.sha, newest.rollback_of) == (
        DeploymentKind.ROLLBACK,
        GOOD_SHA,
        bad.id,
    )


def test_rollback_with_nothing_to_go_back_to_says_so(
    service: RealService, capsys: pytest.CaptureFixture[str]
) -> None:
    assert client(service, "deploy", "--sha", BAD_SHA, "--wait") == EXIT_NOT_SUCCEEDED
    assert client(service, "rollback", "--deployment", "1") == EXIT_UNREACHABLE
    assert "HTTP 409" in capsys.readouterr().out


def test_the_services_429_is_retried_after_retry_after_then_given_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with real_service(tmp_path / "state", api_rate_limit="2/minute") as limited:
        sleeps: list[float] = []
        assert client(limited, "deploy", "--sha", GOOD_SHA) == EXIT_OK
        assert client(limited, "deploy", "--sha", GOOD_SHA) == EXIT_OK
        assert client(limited, "deploy", "--sha", GOOD_SHA, sleeps=sleeps) == EXIT_UNREACHABLE
    assert sleeps == [2.0, 2.0]  # the service's Retry-After (~60 s), capped by the policy
    assert "gave up after 3 attempts; last error: HTTP 429" in capsys.readouterr().out


# ---- the workflow's deploy job, played step by step ----------------------------------------


@pytest.fixture
def public_app() -> Iterator[FakeService]:
    app = FakeService(token="unused")
    server = start(app)
    yield app
    server.shutdown()
    server.server_close()


def _play(service: RealService, app: FakeService, repo_root: Path, tmp_path: Path, sha: str):
    spec = WorkflowSpec(
        poll_interval_seconds=0.1, health_timeout_seconds=3, health_passes=2,
        health_interval_seconds=0.1,
    )  # fmt: skip
    secrets = {
        "DEPLOY_URL": service.url,
        "DEPLOY_TOKEN": TOKEN,
        "HEALTH_URLS": f"{app.url}/app/healthz {app.url}/app/",
    }
    return run_deploy_job(
        render_workflow(spec), secrets=secrets, sha=sha, repo_root=repo_root, work_dir=tmp_path
    )


def test_job_rolls_back_when_the_public_health_check_fails(
    service: RealService, public_app: FakeService, repo_root: Path, tmp_path: Path
) -> None:
    assert client(service, "deploy", "--sha", GOOD_SHA, "--wait") == EXIT_OK  # a last good one
    public_app.app_status.update({"healthz": 503, "": 200})
    job = _play(service, public_app, repo_root, tmp_path, "a" + "1" * 39)
    assert [s.id for s in job.steps] == ["deploy", "health", "rollback"]
    assert [s.exit_code for s in job.steps] == [EXIT_OK, EXIT_NOT_SUCCEEDED, EXIT_OK]
    deployed, rollback = service.store.list_deployments()[1], service.store.list_deployments()[0]
    assert str(deployed.state) == "succeeded"  # the server was satisfied; the outside was not
    assert (rollback.kind, rollback.rollback_of, rollback.sha) == (
        DeploymentKind.ROLLBACK,
        deployed.id,
        GOOD_SHA,
    )
    assert "::error title=slipway::unhealthy" in job.step("health").output
    assert TOKEN not in "".join(s.output for s in job.steps)


def test_job_does_not_roll_back_a_healthy_deployment(
    service: RealService, public_app: FakeService, repo_root: Path, tmp_path: Path
) -> None:
    public_app.app_status.update({"healthz": 200, "": 200})
    job = _play(service, public_app, repo_root, tmp_path, GOOD_SHA)
    assert [(s.id, s.exit_code) for s in job.steps] == [("deploy", 0), ("health", 0)]
    assert [d.kind for d in service.store.list_deployments()] == [DeploymentKind.DEPLOY]


def test_job_stops_at_a_failed_deployment_without_a_second_rollback(
    service: RealService, public_app: FakeService, repo_root: Path, tmp_path: Path
) -> None:
    job = _play(service, public_app, repo_root, tmp_path, BAD_SHA)
    assert [(s.id, s.exit_code) for s in job.steps] == [("deploy", EXIT_NOT_SUCCEEDED)]
    assert [str(d.state) for d in service.store.list_deployments()] == ["rolled_back"]
    assert public_app.requests == []  # the health step never ran
