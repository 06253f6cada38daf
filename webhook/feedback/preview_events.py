"""Turn Pulumi Automation API engine events into per-resource changes for a preview.

Pass a `PreviewCollector` as `on_event` to `Stack.preview`. The engine emits one
`ResourcePreEvent` per step; a replacement shows up as several steps on the same URN
(`create-replacement`, `replace`, `delete-replaced`), which collapse into one
`replace`. Steps that change nothing (`same`, `read`, `refresh`...) are left out.
"""

from __future__ import annotations

import re
import threading

from pulumi.automation.events import (
    DiagnosticEvent,
    EngineEvent,
    OpType,
    ResOpFailedEvent,
    StepEventMetadata,
)

from webhook.feedback.preview import OPERATIONS, Operation, ResourceChange

_OP_MAP: dict[OpType, Operation] = {
    OpType.CREATE: "create",
    OpType.UPDATE: "update",
    OpType.DELETE: "delete",
    OpType.REPLACE: "replace",
    OpType.CREATE_REPLACEMENT: "replace",
    OpType.DELETE_REPLACED: "replace",
    OpType.IMPORT: "create",
    OpType.IMPORT_REPLACEMENT: "replace",
}
_ANSI = re.compile(r"\x1b\[[0-9;]*m|<\{%[a-z]+%\}>")


def resource_name(urn: str) -> str:
    """The logical name at the end of a URN (`urn:pulumi:stack::proj::type::name`)."""
    return urn.rsplit("::", 1)[-1] if "::" in urn else urn


def plain_text(message: str) -> str:
    """A diagnostic message without terminal colours or Pulumi's colour tags."""
    return _ANSI.sub("", message).strip()


def changed_properties(step: StepEventMetadata) -> tuple[str, ...]:
    """The property paths a step changes: the detailed diff if given, else `diffs`."""
    names = list(step.detailed_diff or {}) or list(step.diffs or [])
    return tuple(sorted(dict.fromkeys(names)))


class PreviewCollector:
    """Collect resource changes and error diagnostics from a preview's engine events.

    Thread-safe: the Automation API calls `on_event` from its own reader thread.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changes: dict[str, ResourceChange] = {}
        self._errors: list[str] = []
        self.failed = False

    def __call__(self, event: EngineEvent) -> None:
        with self._lock:
            if event.resource_pre_event is not None:
                self._add_step(event.resource_pre_event.metadata)
            elif event.diagnostic_event is not None:
                self._add_diagnostic(event.diagnostic_event)
            elif event.res_op_failed_event is not None:
                self._add_failure(event.res_op_failed_event)

    def _add_step(self, step: StepEventMetadata) -> None:
        op = _OP_MAP.get(step.op)
        if op is None:
            return
        before = self._changes.get(step.urn)
        if before is not None and before.op == "replace" and op != "replace":
            return  # a replacement's own create/delete steps do not downgrade it
        changed = changed_properties(step)
        keys = tuple(step.keys or ())
        if before is not None:
            changed = tuple(sorted(set(before.changed) | set(changed)))
            keys = tuple(sorted(set(before.replace_keys) | set(keys)))
        self._changes[step.urn] = ResourceChange(
            urn=step.urn,
            type=step.type,
            name=resource_name(step.urn),
            op=op,
            changed=changed,
            replace_keys=keys if op == "replace" else (),
        )

    def _add_diagnostic(self, diagnostic: DiagnosticEvent) -> None:
        if diagnostic.severity != "error":
            return
        message = plain_text(diagnostic.message)
        if diagnostic.urn:
            message = f"{resource_name(diagnostic.urn)}: {message}"
        if message and message not in self._errors:
            self._errors.append(message)
        self.failed = True

    def _add_failure(self, failure: ResOpFailedEvent) -> None:
        self.failed = True
        name = resource_name(failure.metadata.urn)
        if not any(error.startswith(f"{name}:") for error in self._errors):
            self._errors.append(f"{name}: {failure.metadata.op.value} failed")

    @property
    def changes(self) -> tuple[ResourceChange, ...]:
        """The changes, ordered by operation, then type, then name."""
        with self._lock:
            return tuple(
                sorted(
                    self._changes.values(),
                    key=lambda c: (OPERATIONS.index(c.op), c.type, c.name, c.urn),
                )
            )

    @property
    def errors(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._errors)
