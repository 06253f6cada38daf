"""One stack operation in a process of its own: `python -m webhook.runners.stack_process`.

The project's Pulumi program (`__main__.py` of a checkout) runs *inline* through the
Automation API: the Python SDK serves it to the CLI itself, so no Pulumi language host is
needed, and each deployment's program runs in a fresh interpreter. A commit whose program
crashes, hangs or imports other module versions cannot touch the service's process, and
two commits never share imported modules.

Two ways to talk:
- `--protocol text` (`make up`, `make down`): the CLI's own output on stdout, a summary at
  the end, one clear line on stderr when it fails;
- `--protocol json` (`webhook.runners.automation`, the service): one JSON object per line
  on stdout, `{"output": line}`, `{"event": raw engine event}`, then `{"result": ...}` or
  `{"error": {"kind": "locked" | "command" | "program", "message": ..., "holder": ...}}`.
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi import automation as auto
from pulumi.automation import events as auto_events

from webhook.runners import program_refusal
from webhook.runners.base import RunnerError, StackLockedError, mapped_automation_errors
from webhook.runners.drift_report import (
    drifted_resources,
    engine_inventory,
    public,
    replacement_fields,
)
from webhook.runners.failure_line import failure_line
from webhook.runners.program_imports import wait_for_warm_imports, warm_program_imports
from webhook.runners.quick_stack import open_unselected, with_stack_created
from webhook.runners.swarm_destroy import destroy
from webhook.runners.up_report import up_reported_by_events

OPERATIONS = (
    "up",
    "preview",
    "drift",
    "refresh",
    "destroy",
    "outputs",
    "export",
    "import",
    "config",
    "tag",
)
# The operations that run the program (the others only ask the CLI).
PROGRAM_OPERATIONS = ("up", "preview")


def project_program(work_dir: Path) -> Callable[[], None]:
    """The checkout's `__main__.py` as an inline Pulumi program (run with `work_dir` as cwd)."""

    def run() -> None:
        wait_for_warm_imports()  # never import beside the warming thread
        runpy.run_path(str(work_dir / "__main__.py"), run_name="__main__")

    return run


def keep_raw_events() -> None:
    """Make every parsed engine event carry the JSON it came from (`event.raw`), so that the
    parent can rebuild it exactly with `EngineEvent.from_json`."""
    original = auto_events.EngineEvent.from_json.__func__

    def from_json(cls, data: dict) -> auto_events.EngineEvent:
        event = original(cls, data)
        event.raw = data
        return event

    auto_events.EngineEvent.from_json = classmethod(from_json)


class Reply:
    """Writes the chosen protocol to stdout (one writer: the CLI calls back from threads)."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self._lock = threading.Lock()

    def _send(self, record: dict[str, Any]) -> None:
        with self._lock:
            sys.stdout.write(json.dumps(record, default=str) + "\n")
            sys.stdout.flush()

    def output(self, chunk: str) -> None:
        for line in chunk.splitlines():
            if not line.strip():
                continue
            if self.protocol == "json":
                self._send({"output": line.rstrip()})
            else:
                with self._lock:
                    print(line.rstrip(), flush=True)

    def event(self, event: Any) -> None:
        if self.protocol == "json":
            self._send({"event": getattr(event, "raw", None)})

    def result(self, value: Any) -> None:
        if self.protocol == "json":
            self._send({"result": value})
        elif value not in (None, {}, []):
            print(json.dumps(value, indent=2, default=str), flush=True)

    def error(self, kind: str, message: str, holder: str | None = None) -> None:
        if self.protocol == "json":
            self._send({"error": {"kind": kind, "message": message, "holder": holder}})
        elif (refused := program_refusal.refusal()) is not None:  # in the diagnostics above
            print(f"error: {program_refusal.pointer(refused)}", file=sys.stderr)
        else:
            print(f"error: {failure_line(message) or kind}", file=sys.stderr)


def open_stack(stack: str, work_dir: Path, project: str) -> auto.Stack:
    """`stack` with the checkout's program inline and its Pulumi.yaml, used by name: no CLI
    runs before the operation (webhook/runners/quick_stack.py)."""
    return open_unselected(stack, work_dir, project, project_program(work_dir))


def plain_outputs(outputs: Any) -> dict[str, Any]:
    """`OutputMap` (name -> OutputValue) to name -> value."""
    return {name: getattr(value, "value", value) for name, value in (outputs or {}).items()}


def perform(operation: str, stack: auto.Stack, args: argparse.Namespace, reply: Reply) -> Any:
    """Run one operation; its result is what `Reply.result` sends."""
    common = {"on_output": reply.output, "color": "never"}
    if operation == "up":
        for name in args.evict:  # a reconcile: containers that took a name of the stack's
            remove_container(name, reply)
        extra = {"refresh": True} if args.refresh else {}  # a reconcile: read the world first
        result = up_reported_by_events(stack, reply.event, message=args.message, **common, **extra)
        outputs = plain_outputs(result.outputs)
        done = {"outputs": outputs, "changes": result.summary.resource_changes}
        if args.check_health:
            done["health"] = health_after_up(outputs, reply)
        return done
    if operation == "preview":
        result = stack.preview(message=args.message, on_event=reply.event, **common)
        return {"changes": {str(op): n for op, n in (result.change_summary or {}).items()}}
    if operation == "drift":
        return drift_check(stack, common)
    if operation == "refresh":
        result = stack.refresh(**common)
        return {"changes": result.summary.resource_changes}
    if operation == "destroy":
        result = destroy(stack, common, reply.output)  # again after the provider's wait
        return {"changes": result.summary.resource_changes}
    if operation == "outputs":
        return plain_outputs(stack.outputs())
    if operation == "export":
        exported = stack.export_stack()
        return {"version": exported.version, "deployment": exported.deployment}
    if operation == "import":
        state = args.stdin_json
        stack.import_stack(auto.Deployment(state.get("version"), state.get("deployment")))
        return None
    if operation == "config":
        values = args.stdin_json
        stack.set_all_config({k: auto.ConfigValue(v) for k, v in values.items()})
        return None
    if operation == "tag":
        stack.set_tag(args.key, args.value)
        return None
    raise ValueError(f"unknown operation {operation!r}")


def drift_check(stack: auto.Stack, common: dict[str, Any]) -> dict[str, Any]:
    """`pulumi refresh --preview-only`: what differs between the engine and the state of the
    last `up`, without writing anything (webhook/runners/drift_report.py)."""
    events: list[Any] = []
    result = stack.preview_refresh(on_event=events.append, **common)
    drifted = drifted_resources(events)
    for entry in drifted:
        if entry["change"] == "gone" and entry.get("container"):
            inspected = inspect_container(entry["container"])
            if inspected is not None:
                entry["change"] = "replaced"
                entry["fields"] = replacement_fields(entry["old_outputs"], inspected)
    changes = {str(op): n for op, n in (result.change_summary or {}).items()}
    drifted_list = [public(entry) for entry in drifted]
    return {"drifted": drifted_list, "changes": changes, "inventory": engine_inventory(events)}


def remove_container(name: str, reply: Reply) -> None:
    """`docker rm -f NAME`: a reconcile's container that was changed or made by hand."""
    done = subprocess.run(
        ["docker", "rm", "-f", name], capture_output=True, text=True, timeout=120, check=False
    )
    said = (done.stderr or done.stdout).strip()
    reply.output(f"reconcile: removed container {name} (changed outside Slipway) {said}".strip())


def inspect_container(name: str) -> dict[str, Any] | None:
    """`docker inspect NAME` of the engine in DOCKER_HOST, or None when there is none."""
    try:
        found = subprocess.run(
            ["docker", "inspect", "--type", "container", name],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if found.returncode != 0:
        return None
    listed = json.loads(found.stdout or "[]")
    return listed[0] if listed else None


def health_after_up(outputs: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """Probe the stack's `healthChecks` output until healthy or the deadline; the report.
    `make up`'s policy: the same probes as the service's, two passes in a row, but 0.25 s
    apart (a probe costs milliseconds; waiting 1 s between them made every `make up` 1 s
    slower than needed)."""
    # Imported here: httpx is needed only by `make up`'s check, not by the service's runs.
    from webhook.health import HealthPolicy, check_health, parse_health_checks

    make_up_health = HealthPolicy(
        interval_seconds=0.25, consecutive_passes=2, deadline_seconds=60.0
    )
    report = check_health(
        parse_health_checks(outputs.get("healthChecks")), make_up_health, reply.output
    )
    return {"healthy": report.healthy, "summary": report.summary}


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m webhook.runners.stack_process")
    parser.add_argument("operation", choices=OPERATIONS)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--work-dir", type=Path, default=Path.cwd())
    parser.add_argument("--project", default="slipway")
    parser.add_argument("--message", default=None)
    parser.add_argument("--protocol", choices=("text", "json"), default="text")
    parser.add_argument("--check-health", action="store_true", help="up: probe healthChecks")
    parser.add_argument("--refresh", action="store_true", help="up: refresh the state first")
    parser.add_argument(
        "--evict", action="append", default=[], help="up: remove this container first"
    )
    parser.add_argument("--key", default=None)
    parser.add_argument("--value", default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    work_dir = args.work_dir.resolve()
    reply = Reply(args.protocol)
    keep_raw_events()
    program_refusal.install()
    os.chdir(work_dir)  # the program reads its Compose files relative to the checkout
    sys.path.insert(0, str(work_dir))  # ... and imports `components` from it
    args.stdin_json = json.load(sys.stdin) if args.operation in ("import", "config") else None
    if args.operation in PROGRAM_OPERATIONS:
        warm_program_imports(work_dir / "__main__.py")  # while the CLI starts
    try:
        with mapped_automation_errors():
            stack = open_stack(args.stack, work_dir, args.project)
            result = with_stack_created(stack, lambda: perform(args.operation, stack, args, reply))
        reply.result(result)
    except StackLockedError as error:
        reply.error("locked", error.detail or str(error), error.holder)
        return 3
    except RunnerError as error:
        reply.error("command", str(error))
        return 2
    except Exception as error:  # the program or the SDK failed before the CLI said anything
        reply.error("program", f"{type(error).__name__}: {error}")
        return 2
    if isinstance(result, dict) and result.get("health", {}).get("healthy") is False:
        return 4
    return 0


def exit_now(code: int) -> None:
    """Flush and leave at once: the interpreter's own shutdown joins the SDK's gRPC and
    event threads, which took 1-1.5 s after the result was sent (docs/performance.md)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
