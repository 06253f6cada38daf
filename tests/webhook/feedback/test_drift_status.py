"""Drift checks become `slipway/drift/<stack>` commit statuses on the fake GitHub, only
when the verdict changes (webhook/feedback/drift_status.py, docs/drift.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_github import REPO, TOKEN, FakeGitHub
from webhook.feedback.wiring import GitHubFeedback, build_feedback
from webhook.settings.groups import OrchestratorSettings
from webhook.store import Store
from webhook.store.drift import DriftRecords, DriftResult

SHA = "d" * 40
R = DriftResult


def web(name: str = "shop-web-1") -> dict:
    return {"name": name, "change": "changed", "fields": []}


@pytest.fixture
def records(tmp_path: Path) -> Iterator[DriftRecords]:
    with Store.open(tmp_path / "slipway.db") as store:
        yield DriftRecords(store)


@pytest.fixture
def feedback(fake_github: FakeGitHub) -> Iterator[GitHubFeedback]:
    built = build_feedback(
        token=TOKEN, repository=REPO, environment="prod", api_url=fake_github.url,
        public_url="https://deploy.example.com",
    )  # fmt: skip
    assert built is not None
    yield built
    built.close()


def test_failure_on_drift_success_when_back_in_sync_nothing_in_between(
    records: DriftRecords, feedback: GitHubFeedback, fake_github: FakeGitHub
) -> None:
    steps = [
        (R.IN_SYNC, []),  # never drifted: nothing to say
        (R.DRIFTED, [web()]),  # failure, 1 resource
        (R.DRIFTED, [web()]),  # the same drift again: already shown
        (R.FAILED, []),  # says nothing about what runs
        (R.DRIFTED, [web(), web("shop-db-1")]),  # more drifted: failure again, 2 resources
        (R.IN_SYNC, []),  # back in sync: success
        (R.IN_SYNC, []),  # still in sync: already shown
    ]
    for result, report in steps:
        check = records.finish(records.start("prod", SHA).id, result, report)
        feedback.drift_checked(check, records.verdict_before(check))
    assert feedback.drain(timeout=30)
    posted = [(s["sha"], s["context"], s["state"]) for s in fake_github.state.commit_statuses]
    assert posted == [
        (SHA, "slipway/drift/prod", "failure"),
        (SHA, "slipway/drift/prod", "failure"),
        (SHA, "slipway/drift/prod", "success"),
    ]
    texts = [s["description"] for s in fake_github.state.commit_statuses]
    assert texts[0] == "drifted: 1 resource differs from this commit: shop-web-1"
    assert texts[1] == "drifted: 2 resources differ from this commit: shop-db-1, shop-web-1"
    assert fake_github.state.commit_statuses[0]["target_url"] == "https://deploy.example.com/ui"


def test_the_setting_is_off_by_default() -> None:
    assert OrchestratorSettings().drift_github_status is False
