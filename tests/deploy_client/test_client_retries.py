"""The deploy client against a loopback server that fails on purpose (503, 429, TCP reset)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy_client.__main__ import (
    EXIT_NOT_SUCCEEDED,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    main,
)
from deploy_client.api import DeployApi
from deploy_client.retrying import RetryPolicy
from deploy_client.waiting import WaitPolicy, wait_for_final
from tests.support.fake_deploy_api import RESET, FakeService, start

TOKEN = "s3cr3t-token-for-tests-0123456789"
SHA = "3f786850e387550fdab836ed7e6dc881de23001b"
POLICY = RetryPolicy(attempts=4, backoff_first=0.5, backoff_max=8.0, retry_after_max=60.0)


class FakeClock:
    """Time that passes only when the client sleeps: waits are recorded, never spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeService]:
    service = FakeService(token=TOKEN)
    server = start(service)
    yield service
    server.shutdown()
    server.server_close()


def run(
    fake: FakeService,
    clock: FakeClock,
    *argv: str,
    env: dict[str, str] | None = None,
    wait: WaitPolicy | None = None,
) -> int:
    environ = {"SLIPWAY_URL": fake.url, "SLIPWAY_TOKEN": TOKEN, **(env or {})}
    return main(
        list(argv),
        environ=environ,
        sleep=clock.sleep,
        clock=clock,
        policy=POLICY,
        wait_policy=wait or WaitPolicy(timeout=600, poll_interval=2),
    )


def test_reset_503_and_429_are_retried_until_the_deployment_is_accepted(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail("POST /deployments", RESET, (503, {}), (429, {"Retry-After": "7"}))
    clock = FakeClock()
    assert run(fake, clock, "deploy", "--sha", SHA) == EXIT_OK
    posts = fake.calls("POST", "/deployments")
    assert len(posts) == 4
    assert all(p.headers["Authorization"] == f"Bearer {TOKEN}" for p in posts)
    assert all(p.body == {"sha": SHA} for p in posts)
    # One idempotency key for all attempts of this invocation: a lost answer is no duplicate.
    assert len({p.headers["Idempotency-Key"] for p in posts}) == 1
    assert len(clock.sleeps) == 3
    assert clock.sleeps[2] == 7.0  # Retry-After honoured
    assert all(0 <= s <= POLICY.backoff_max for s in clock.sleeps[:2])
    out = capsys.readouterr().out
    assert "attempt 1/4 failed" in out and "HTTP 503" in out and "HTTP 429" in out
    assert "deployment 1 accepted" in out
    assert TOKEN not in out


def test_retry_after_is_capped_and_http_dates_are_understood(fake: FakeService) -> None:
    fake.fail(
        "POST /deployments",
        (503, {"Retry-After": "3600"}),
        (503, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),  # in the past: no wait
    )
    clock = FakeClock()
    assert run(fake, clock, "deploy", "--sha", SHA) == EXIT_OK
    assert clock.sleeps == [POLICY.retry_after_max, 0.0]


def test_gives_up_at_the_attempt_limit_with_a_clear_message(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail("POST /deployments", *[(503, {})] * 10)
    clock = FakeClock()
    assert run(fake, clock, "deploy", "--sha", SHA) == EXIT_UNREACHABLE
    assert len(fake.calls("POST", "/deployments")) == POLICY.attempts
    assert len(clock.sleeps) == POLICY.attempts - 1
    out = capsys.readouterr().out
    assert "error: POST /deployments: gave up after 4 attempts; last error: HTTP 503" in out


def test_connection_resets_exhaust_the_attempts_too(fake: FakeService) -> None:
    fake.fail("POST /deployments", *[RESET] * 10)
    assert run(fake, FakeClock(), "deploy", "--sha", SHA) == EXIT_UNREACHABLE
    assert len(fake.calls("POST", "/deployments")) == POLICY.attempts


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_4xx_answers_are_never_retried(
    fake: FakeService, status: int, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail("POST /deployments", (status, {}))
    clock = FakeClock()
    assert run(fake, clock, "deploy", "--sha", SHA) == EXIT_UNREACHABLE
    assert len(fake.calls("POST", "/deployments")) == 1
    assert clock.sleeps == []
    assert f"HTTP {status}" in capsys.readouterr().out


def test_a_wrong_token_says_which_secret_to_check(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(fake, FakeClock(), "deploy", "--sha", SHA, env={"SLIPWAY_TOKEN": "wrong-token-xyz"})
    assert code == EXIT_UNREACHABLE
    out = capsys.readouterr().out
    assert "HTTP 401" in out and "DEPLOY_TOKEN" in out
    assert "wrong-token-xyz" not in out


@pytest.mark.parametrize(
    ("final_state", "expected"),
    [
        ("succeeded", EXIT_OK),
        ("failed", EXIT_NOT_SUCCEEDED),
        ("rolled_back", EXIT_NOT_SUCCEEDED),
        ("rollback_failed", EXIT_NOT_SUCCEEDED),
        ("superseded", EXIT_NOT_SUCCEEDED),
        ("interrupted", EXIT_NOT_SUCCEEDED),
    ],
)
def test_wait_exits_zero_only_for_succeeded(
    fake: FakeService, final_state: str, expected: int, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.states = ["queued", "running", "verifying", final_state]
    clock = FakeClock()
    assert run(fake, clock, "deploy", "--sha", SHA, "--wait") == expected
    out = capsys.readouterr().out
    assert f"deployment 1: {final_state}" in out
    if expected != EXIT_OK:
        assert f"deployment 1 ended {final_state!r}" in out


def test_wait_follows_the_servers_own_rollback_to_its_end(fake: FakeService) -> None:
    fake.states = ["running", "verifying", "rolling_back", "rolled_back"]
    clock = FakeClock()
    assert run(fake, clock, "deploy", "--sha", SHA, "--wait") == EXIT_NOT_SUCCEEDED
    assert fake.deployments[1]["state"] == "rolled_back"


def test_failed_is_the_last_word_and_ends_the_wait_at_once(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    """The service never shows `failed` on its way to `rolling_back`: no grace period."""
    fake.states = ["running", "failed", "failed", "failed"]
    clock = FakeClock()
    assert run(fake, clock, "deploy", "--sha", SHA, "--wait") == EXIT_NOT_SUCCEEDED
    assert sum(clock.sleeps) <= 2 * 2  # two polls of 2 s: running, then failed
    assert "deployment 1 ended 'failed'" in capsys.readouterr().out


def test_transient_errors_while_polling_do_not_end_the_wait(fake: FakeService) -> None:
    fake.fail("GET /deployments/1", RESET, (502, {}), (503, {"Retry-After": "1"}))
    assert run(fake, FakeClock(), "deploy", "--sha", SHA, "--wait") == EXIT_OK


def test_a_service_silent_for_longer_than_the_retries_does_not_end_the_wait(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.fail("GET /deployments/1", *[RESET] * (POLICY.attempts * 2))
    assert run(fake, FakeClock(), "deploy", "--sha", SHA, "--wait") == EXIT_OK
    out = capsys.readouterr().out
    assert "gave up after 4 attempts" in out and "still waiting for deployment 1" in out


def test_wait_gives_up_at_its_timeout_with_the_last_state(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.states = ["queued", "running"]
    clock = FakeClock()
    code = run(
        fake,
        clock,
        "deploy",
        "--sha",
        SHA,
        "--wait",
        wait=WaitPolicy(timeout=60, poll_interval=5),
    )
    assert code == EXIT_TIMEOUT
    assert sum(clock.sleeps) <= 60
    assert "still 'running' after 60 s" in capsys.readouterr().out


def test_superseded_by_the_same_commit_is_followed(fake: FakeService) -> None:
    first = fake.add_deployment(SHA, ["queued", "superseded"])
    fake.add_deployment(SHA, ["running", "succeeded"])
    clock = FakeClock()
    lines: list[str] = []
    with DeployApi(fake.url, TOKEN, policy=POLICY, report=lines.append, sleep=clock.sleep) as api:
        final = wait_for_final(
            api,
            api.get_deployment(first["id"]),
            WaitPolicy(),
            lines.append,
            clock=clock,
            sleep=clock.sleep,
        )
    assert (final.id, final.state) == (2, "succeeded")
    assert any("superseded by 2 for the same commit" in line for line in lines)


def test_deploy_writes_the_deployment_id_as_a_step_output(
    fake: FakeService, tmp_path: Path
) -> None:
    output = tmp_path / "github_output"
    output.write_text("earlier=1\n")
    env = {"GITHUB_OUTPUT": str(output), "GITHUB_RUN_ID": "77", "GITHUB_RUN_ATTEMPT": "2"}
    assert run(fake, FakeClock(), "deploy", "--sha", SHA, env=env) == EXIT_OK
    assert output.read_text() == "earlier=1\ndeployment-id=1\n"
    key = fake.calls("POST", "/deployments")[0].headers["Idempotency-Key"]
    assert key.startswith("actions-") and key.endswith(f"-77-2-{SHA}")


def test_rollback_posts_to_the_rollback_route_and_waits(fake: FakeService) -> None:
    fake.add_deployment(SHA, ["failed"])
    assert run(fake, FakeClock(), "rollback", "--deployment", "1", "--wait") == EXIT_OK
    assert [r.path for r in fake.calls("POST")] == ["/deployments/1/rollback"]
    assert fake.deployments[2]["kind"] == "rollback"


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["deploy", "--sha", SHA], {"SLIPWAY_URL": ""}, "SLIPWAY_URL is not set"),
        (["deploy", "--sha", SHA], {"SLIPWAY_URL": "ftp://x"}, "SLIPWAY_URL must be"),
        (["deploy", "--sha", SHA], {"SLIPWAY_TOKEN": " "}, "SLIPWAY_TOKEN is empty"),
        (["deploy", "--sha", "main"], {}, "--sha 'main' is not a commit SHA"),
        (["health"], {}, "no URL to check"),
        (["health", "--url", "not-a-url"], {}, "--url"),
    ],
)
def test_bad_arguments_and_environment_are_named(
    fake: FakeService,
    argv: list[str],
    env: dict[str, str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(fake, FakeClock(), *argv, env=env) == EXIT_USAGE
    assert message in capsys.readouterr().out
    assert fake.requests == []


def test_health_passes_when_every_url_passes_n_times_in_a_row(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.app_status.update(a=200, b=200)
    urls = f"{fake.url}/app/a {fake.url}/app/b"
    code = run(
        fake,
        FakeClock(),
        "health",
        "--passes",
        "2",
        "--interval",
        "0",
        env={"SLIPWAY_HEALTH_URLS": urls},
    )
    assert code == EXIT_OK
    assert len(fake.calls("GET", "/app/a")) == 2 and len(fake.calls("GET", "/app/b")) == 2
    assert "healthy" in capsys.readouterr().out


def test_health_fails_when_one_url_never_passes(
    fake: FakeService, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.app_status.update(a=200, b=503)
    code = run(
        fake, FakeClock(), "health", "--url", f"{fake.url}/app/a", "--url", f"{fake.url}/app/b",
        "--passes", "2", "--interval", "0.01", "--timeout", "0.3",
    )  # fmt: skip
    assert code == EXIT_NOT_SUCCEEDED
    out = capsys.readouterr().out
    assert "error: unhealthy" in out and f"{fake.url}/app/b" in out


def test_wait_lasts_its_whole_timeout_and_no_longer(fake: FakeService) -> None:
    """`--timeout 5 --poll-interval 3` gave up at 3 s (the next poll would pass 5 s); it
    must wait the whole 5 s, asking one last time at the deadline (issue 34)."""
    fake.states = ["queued", "running"]
    clock = FakeClock()
    wait = WaitPolicy(timeout=5, poll_interval=3)  # what --timeout 5 --poll-interval 3 make
    code = run(fake, clock, "deploy", "--sha", SHA, "--wait", wait=wait)
    assert code == EXIT_TIMEOUT
    assert sum(clock.sleeps) == pytest.approx(5), clock.sleeps


def test_health_lasts_its_whole_timeout(fake: FakeService, capsys) -> None:
    """`health --timeout 2 --interval 1.5` against a failing URL: rounds at 0, 1.5 and 2 s,
    the last one at the deadline (it stopped after the second round before issue 34)."""
    url = f"{fake.url}/not-there"
    code = run(fake, FakeClock(), "health", "--url", url, "--timeout", "2", "--interval", "1.5")
    assert code == EXIT_NOT_SUCCEEDED
    assert "deadline of 2s passed after 3 round(s)" in capsys.readouterr().out
