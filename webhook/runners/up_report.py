"""What a `pulumi up` reported, read from its own engine events.

When the CLI's `up` has finished, the Automation API's `Stack.up` runs the CLI twice more,
`pulumi stack output` and `pulumi stack history`, only to return the stack's outputs and
the counts of changes. Each run starts the CLI and loads the state again, at the end of
every deploy, while the new release waits to be switched to (measured in
docs/notes/2026-12-04-cutover-latency.md). Both facts are already in the events of the `up`
itself: the outputs event of the root `pulumi:pulumi:Stack` resource, and the summary
event.

`UpReport` collects them while the events stream in; `up_reported_by_events` runs
`Stack.up` with the stack's `outputs` and `info` answered from it. Where the events lack
something (no outputs event, or an output that is a secret, which events carry blinded),
the CLI is asked as before. The summary carries the change counts only (its times and
config are not the history's): that is all `stack_process` reads of it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pulumi import automation as auto

STACK_TYPE = "pulumi:pulumi:Stack"
# The key that marks a secret in serialized Pulumi properties (events blind its value).
SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
# The summary event is the engine's last; its stream may still be delivering when the CLI
# exits. Waiting longer than this means something is wrong: ask the CLI instead.
SUMMARY_WAIT_SECONDS = 5.0


def holds_secret(value: Any) -> bool:
    """Whether a serialized property value contains a secret anywhere."""
    if isinstance(value, dict):
        return SECRET_SIGNATURE in value or any(holds_secret(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_secret(v) for v in value)
    return False


@dataclass
class UpReport:
    """The stack's outputs and the change counts, as the events of one `up` told them."""

    outputs: dict[str, Any] | None = None
    changes: dict[str, int] | None = None
    summarized: threading.Event = field(default_factory=threading.Event)

    def take(self, event: auto.EngineEvent) -> None:
        """Keep what `event` says about the stack's outputs or the update's summary."""
        outputs_event = event.res_outputs_event
        if outputs_event is not None and outputs_event.metadata.type == STACK_TYPE:
            new = outputs_event.metadata.new
            self.outputs = dict(new.outputs or {}) if new is not None else None
        if event.summary_event is not None:
            changes = event.summary_event.resource_changes or {}
            self.changes = {_op_name(op): count for op, count in changes.items()}
            self.summarized.set()

    def plain_outputs(self) -> dict[str, Any] | None:
        """The outputs, or None when the events cannot stand in for the CLI's answer."""
        if not self.summarized.wait(SUMMARY_WAIT_SECONDS):
            return None  # the stream did not finish: what it told may be partial
        if self.outputs is None or holds_secret(self.outputs):
            return None
        return self.outputs

    def summary(self, message: str | None) -> auto.UpdateSummary | None:
        """An update summary carrying the change counts, or None without a summary event."""
        if not self.summarized.wait(SUMMARY_WAIT_SECONDS):
            return None  # `changes` is set before `summarized`
        return auto.UpdateSummary(
            kind="update",
            start_time=datetime.now(UTC),
            message=message or "",
            environment={},
            config={},
            result="succeeded",
            resource_changes=self.changes,
        )


def _op_name(op: Any) -> str:
    return op.value if isinstance(op, auto.OpType) else str(op)


def up_reported_by_events(
    stack: auto.Stack,
    on_event: Callable[[auto.EngineEvent], None],
    message: str | None = None,
    **options: Any,
) -> auto.UpResult:
    """`stack.up(...)` whose outputs and summary come from its events where they can."""
    report = UpReport()

    def take_and_forward(event: auto.EngineEvent) -> None:
        report.take(event)
        on_event(event)

    ask_outputs, ask_info = stack.outputs, stack.info

    def outputs() -> auto.OutputMap:
        plain = report.plain_outputs()
        if plain is None:
            return ask_outputs()
        return {name: auto.OutputValue(value, secret=False) for name, value in plain.items()}

    def info(show_secrets: bool = True) -> auto.UpdateSummary | None:
        return report.summary(message) or ask_info(show_secrets)

    # Instance attributes shadow the two methods for this call only.
    stack.outputs, stack.info = outputs, info  # type: ignore[method-assign]
    try:
        return stack.up(message=message, on_event=take_and_forward, **options)
    finally:
        del stack.outputs, stack.info
