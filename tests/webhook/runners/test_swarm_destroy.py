"""A destroy the docker provider failed by its wait for task containers is run again with a
refresh (webhook/runners/swarm_destroy.py); other failures are not retried."""

from __future__ import annotations

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from webhook.runners.swarm_destroy import PASSES, destroy

WAIT_ERROR = "    * error on wait for container with ID '08564355bd6c': context deadline exceeded"


class Stack:
    """A stack whose destroy fails with the given stderr texts first, then succeeds."""

    def __init__(self, *failures: str) -> None:
        self.failures = list(failures)
        self.calls: list[dict] = []

    def destroy(self, **kwargs):
        self.calls.append(kwargs)
        if self.failures:
            raise auto.CommandError(CommandResult("", self.failures.pop(0), 255))
        return "destroyed"


def test_the_providers_wait_error_is_destroyed_again_with_a_refresh() -> None:
    stack, said = Stack(WAIT_ERROR), []
    assert destroy(stack, {"color": "never"}, said.append) == "destroyed"
    assert stack.calls == [{"color": "never"}, {"color": "never", "refresh": True}]
    assert "destroying again with a refresh" in said[0]


def test_other_errors_and_the_last_pass_are_raised() -> None:
    with pytest.raises(auto.CommandError, match="network is in use"):
        destroy(Stack("network is in use"), {}, print)
    stack = Stack(*[WAIT_ERROR] * PASSES)
    with pytest.raises(auto.CommandError, match="context deadline exceeded"):
        destroy(stack, {}, lambda _: None)
    assert len(stack.calls) == PASSES
