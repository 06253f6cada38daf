"""What the page computes from store rows: durations, triggers, rollback notes, stacks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from webhook.http.ui.views import (
    human_duration,
    is_settled,
    iso_ms,
    rollback_note,
    run_seconds,
    stack_status,
    trigger,
)
from webhook.store import Deployment, StateChange
from webhook.store.states import DeploymentKind, DeploymentState

S = DeploymentState
BASE = Deployment(
    1, DeploymentKind.DEPLOY, "dev", "a" * 40, "refs/heads/main", "push", S.SUCCEEDED,
    "2026-12-01T10:00:00.000000Z", "2026-12-01T10:01:30.000000Z", "gh-1", None, None, None, None,
)  # fmt: skip


def _changes(*steps: tuple[DeploymentState, str, str]) -> list[StateChange]:
    return [StateChange(1, state, note, f"2026-12-01T10:{at}.000000Z") for state, at, note in steps]


def test_durations_read_like_a_person_would_say_them():
    assert human_duration(0.42) == "0.4 s"
    assert human_duration(42.9) == "42 s"
    assert human_duration(185) == "3 min 05 s"
    assert human_duration(7620) == "2 h 07 min"


def test_run_time_counts_from_running_to_the_end_or_to_now():
    done = _changes((S.QUEUED, "00:00", ""), (S.RUNNING, "00:10", ""), (S.SUCCEEDED, "01:30", ""))
    assert run_seconds(done, datetime(2030, 1, 1, tzinfo=UTC)) == (80.0, False)
    running = done[:2]
    now = datetime(2026, 12, 1, 10, 0, 25, tzinfo=UTC)
    assert run_seconds(running, now) == (15.0, True)
    assert run_seconds(done[:1], now) is None
    interrupted = [*running, StateChange(1, S.INTERRUPTED, "", "2026-12-01T10:00:40.000000Z")]
    assert run_seconds(interrupted, datetime(2030, 1, 1, tzinfo=UTC)) == (30.0, False)


def test_triggers():
    assert trigger(BASE) == "webhook"
    assert trigger(replace(BASE, delivery_id="poll:dev:" + "a" * 40)) == "poll"
    assert trigger(replace(BASE, delivery_id="api:run-1")) == "API"
    assert trigger(replace(BASE, delivery_id=None)) == "API"
    assert trigger(replace(BASE, kind=DeploymentKind.ROLLBACK, delivery_id=None)) == (
        "rollback by hand"
    )


def test_rollback_notes_name_the_target_and_why():
    failed = _changes(
        (S.RUNNING, "00:10", ""),
        (S.FAILED, "00:50", "health: FAIL /health HTTP 503"),
        (S.ROLLED_BACK, "01:30", "ok"),
    )
    rolled = replace(BASE, state=S.ROLLED_BACK, rolled_back_to="b" * 40)
    assert rollback_note(rolled, failed) == f"to {'b' * 12}: health: FAIL /health HTTP 503"
    by_hand = replace(BASE, kind=DeploymentKind.ROLLBACK, rollback_of=7, reason="broken")
    assert rollback_note(by_hand, []) == f"to {'a' * 12} (rollback of #7): broken"
    assert rollback_note(BASE, failed) == ""


def test_a_final_job_is_settled_after_a_short_tail():
    failed = replace(BASE, state=S.FAILED, updated_at="2026-12-01T10:00:00.000000Z")
    assert not is_settled(failed, datetime(2026, 12, 1, 10, 0, 1, tzinfo=UTC))
    assert is_settled(failed, datetime(2026, 12, 1, 10, 0, 3, tzinfo=UTC))
    running = replace(failed, state=S.RUNNING)
    assert not is_settled(running, datetime(2030, 1, 1, tzinfo=UTC))
    succeeded = replace(failed, state=S.SUCCEEDED)
    assert is_settled(succeeded, datetime(2026, 12, 1, 10, 0, 3, tzinfo=UTC))


def test_the_deployed_commit_is_the_newer_of_last_success_and_last_automatic_rollback():
    good = replace(BASE, id=3, updated_at="2026-12-01T10:00:00.000000Z")
    rolled = replace(
        BASE, id=5, sha="c" * 40, state=S.ROLLED_BACK, rolled_back_to="a" * 40,
        updated_at="2026-12-01T11:00:00.000000Z",
    )  # fmt: skip
    status = stack_status("dev", good, rolled, rolled)
    assert (status.deployed_sha, status.healthy_since) == ("a" * 40, rolled.updated_at)
    assert stack_status("dev", good, None, good).deployed_sha == "a" * 40
    assert stack_status("dev", None, None, None).deployed is None


def test_browser_timestamps_have_milliseconds():
    assert iso_ms("2026-12-01T10:00:00.123456Z") == "2026-12-01T10:00:00.123Z"
