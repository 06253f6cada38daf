"""`guarded`: observers are called directly; one that raises is logged, never propagated."""

from __future__ import annotations

import logging

import pytest

from webhook.orchestrator.observer import guarded
from webhook.store import Deployment
from webhook.store.states import DeploymentKind, DeploymentState

DEPLOYMENT = Deployment(
    id=7, kind=DeploymentKind.DEPLOY, stack="dev", sha="abc1234", ref="", reason="",
    state=DeploymentState.RUNNING, created_at="", updated_at="", delivery_id=None,
    pr_number=None, head_repo=None, rollback_of=None, rolled_back_to=None,
)  # fmt: skip


class Heard:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def state_changed(self, deployment: Deployment, note: str = "") -> None:
        self.calls.append(("state_changed", deployment.id, note))

    def preview_done(self, deployment: Deployment, collector: object, error: str | None = None):
        self.calls.append(("preview_done", deployment.id, error))


class Raises:
    def state_changed(self, deployment: Deployment, note: str = "") -> None:
        raise RuntimeError("GitHub is down")

    def preview_done(self, deployment: Deployment, collector: object, error: str | None = None):
        raise RuntimeError("GitHub is down")


def test_the_observer_hears_each_call_with_its_arguments() -> None:
    heard = Heard()
    guarded(heard).state_changed(DEPLOYMENT, "note")
    guarded(heard).preview_done(DEPLOYMENT, None, "boom")
    assert heard.calls == [("state_changed", 7, "note"), ("preview_done", 7, "boom")]


def test_an_observer_that_raises_is_logged_and_the_caller_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="slipway.orchestrator"):
        guarded(Raises()).state_changed(DEPLOYMENT)
        guarded(Raises()).preview_done(DEPLOYMENT, None)
    failed = [r.getMessage() for r in caplog.records]
    assert failed == [
        "deployment observer failed in state_changed",
        "deployment observer failed in preview_done",
    ]


def test_no_observer_hears_nothing_and_does_not_fail() -> None:
    guarded(None).state_changed(DEPLOYMENT)
    guarded(None).preview_done(DEPLOYMENT, None)
