"""`up`'s outputs and change counts read from its engine events (webhook/runners/up_report).

The events here are the JSON the CLI streams (shapes as in its event log); the real CLI's
side is in tests/components/compose_stack/test_real_cli.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from pulumi import automation as auto

from webhook.runners import up_report
from webhook.runners.up_report import SECRET_SIGNATURE, UpReport, holds_secret

STACK_URN = "urn:pulumi:dev::slipway::pulumi:pulumi:Stack::slipway-dev"


def outputs_event(outputs: dict[str, Any], kind: str = up_report.STACK_TYPE) -> auto.EngineEvent:
    state = {"type": kind, "urn": STACK_URN, "outputs": outputs}
    return auto.EngineEvent.from_json(
        {
            "sequence": 7,
            "timestamp": 1,
            "resOutputsEvent": {
                "metadata": {"op": "same", "urn": STACK_URN, "type": kind, "new": state}
            },
        }
    )


def summary_event(changes: dict[str, int]) -> auto.EngineEvent:
    return auto.EngineEvent.from_json(
        {
            "sequence": 9,
            "timestamp": 2,
            "summaryEvent": {"durationSeconds": 3, "resourceChanges": changes},
        }
    )


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(up_report, "SUMMARY_WAIT_SECONDS", 0.05)


def test_the_stack_outputs_and_the_change_counts_come_from_the_events() -> None:
    report = UpReport()
    report.take(outputs_event({"plain": 1}, kind="docker:index/container:Container"))
    report.take(outputs_event({"services": {"web": "demo-web-1"}, "healthChecks": []}))
    report.take(summary_event({"same": 9, "update": 1}))
    assert report.plain_outputs() == {"services": {"web": "demo-web-1"}, "healthChecks": []}
    summary = report.summary("deploy abc")
    assert summary is not None and summary.resource_changes == {"same": 9, "update": 1}
    assert summary.message == "deploy abc"


def test_a_secret_output_is_left_to_the_cli() -> None:
    blinded = {SECRET_SIGNATURE: "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "[secret]"}
    report = UpReport()
    report.take(outputs_event({"service": {"url": "http://x", "token": blinded}}))
    report.take(summary_event({"same": 1}))
    assert report.plain_outputs() is None


def test_without_a_summary_event_nothing_stands_in_for_the_cli() -> None:
    report = UpReport()
    report.take(outputs_event({"services": {}}))
    assert report.plain_outputs() is None
    assert report.summary(None) is None


def test_secrets_are_found_at_any_depth() -> None:
    marked = {SECRET_SIGNATURE: "x", "ciphertext": "[secret]"}
    assert holds_secret([1, {"a": [marked]}])
    assert not holds_secret({"a": [1, "[secret]", {"b": None}]})


class FakeStack:
    """Records what the SDK's `Stack.up` would call after the CLI's `up` has run."""

    def __init__(self, events: list[auto.EngineEvent]) -> None:
        self.events = events
        self.asked: list[str] = []

    def outputs(self) -> auto.OutputMap:
        self.asked.append("outputs")
        return {"from": auto.OutputValue("cli", secret=True)}

    def info(self, show_secrets: bool = True) -> auto.UpdateSummary | None:
        self.asked.append("info")
        return None

    def up(self, message: str | None, on_event, **options: Any) -> auto.UpResult:
        for event in self.events:
            on_event(event)
        return auto.UpResult("", "", self.info(), self.outputs())


def test_up_asks_the_cli_nothing_when_the_events_told_it_all() -> None:
    stack = FakeStack([outputs_event({"services": {}}), summary_event({"create": 3})])
    forwarded: list[auto.EngineEvent] = []
    result = up_report.up_reported_by_events(stack, forwarded.append, message="m")
    assert stack.asked == []
    assert result.outputs["services"].value == {} and result.summary.resource_changes == {
        "create": 3
    }
    assert forwarded == stack.events
    assert stack.outputs() and stack.asked == ["outputs"]  # the methods are back afterwards


def test_up_asks_the_cli_for_what_the_events_lack() -> None:
    stack = FakeStack([summary_event({"create": 3})])  # no outputs event
    result = up_report.up_reported_by_events(stack, lambda event: None)
    assert stack.asked == ["outputs"]
    assert result.outputs["from"].value == "cli"
