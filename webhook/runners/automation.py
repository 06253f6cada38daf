"""The production StackRunner: the Pulumi Automation API, one child process per operation.

Each operation (`up`, `preview`, outputs, state export/import, config, tags) runs
`python -m webhook.runners.stack_process ... --protocol json` with the service's own
interpreter and code, on the job's worktree. The commit's program runs inline in that
child (no Pulumi language host needed), so a program that crashes or leaks memory ends
with its process, and two commits never share imported modules. Why, and what the child
says on stdout: webhook/runners/stack_process.py and docs/architecture.md.

The parsing of the child's lines is plain functions that the tests check without the CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pulumi.automation.events import EngineEvent

from webhook.runners import cpu_group
from webhook.runners.base import OnEvent, OnOutput, RunnerError, StackLockedError
from webhook.runners.standby import Standby

STOP_GRACE_SECONDS = 5.0  # after SIGTERM, before SIGKILL
# What a standby child may run: what follows an `up` (standby.py); not the drift check
# (stopped as a process group) nor the operations that read stdin.
STANDBY_OPERATIONS = ("up", "tag")
STANDBY_IDLE_SECONDS = 600.0  # an unused standby is ended after this


class RunnerStopped(RunnerError):
    """The operation was ended on purpose (a deployment came, a timeout, a shutdown)."""


@dataclass
class Stoppable:
    """When to end a child early: `event` set (the reason is `why`, or what it returns)
    or `timeout` seconds."""

    event: threading.Event
    why: str | Callable[[], str]
    timeout: float
    reason: str = ""
    timed_out: bool = False
    finished: threading.Event = field(default_factory=threading.Event)

    def watch(self, process: subprocess.Popen) -> None:
        """End the child's process group when the event is set or the time is up."""
        deadline = time.monotonic() + self.timeout
        while not self.event.wait(0.2):  # bounded: the child ends, or the deadline comes
            if self.finished.is_set() or process.poll() is not None:
                return
            if time.monotonic() >= deadline:
                reason = f"stopped after {self.timeout:.0f} s"
                self.timed_out = True
                break
        else:
            reason = self.why() if callable(self.why) else self.why
        if self.finished.is_set() or process.poll() is not None:
            return
        self.reason = reason
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
            except (ProcessLookupError, PermissionError):
                return
            try:
                process.wait(STOP_GRACE_SECONDS)
                return
            except subprocess.TimeoutExpired:
                continue


BINDS_DIR_ENV = "SLIPWAY_BINDS_DIR"  # read by components/compose_stack/project_binds.py

# The checkout of the service itself: the child imports its own modules from here, never
# from the worktree (an old commit's copy of this package may not speak the same protocol).
SERVICE_ROOT = Path(__file__).resolve().parents[2]
_STDERR_KEPT = 40  # lines of the child's stderr kept for an error message


def file_backend_root(backend_url: str | None) -> Path | None:
    """The directory of a self-managed `file://` backend, else None."""
    if not backend_url or not backend_url.startswith("file://"):
        return None
    parts = urlsplit(backend_url)
    path = parts.path or ""
    if parts.netloc and parts.netloc != "~":
        path = f"/{parts.netloc}{path}"
    return Path(os.path.expanduser(path if parts.netloc != "~" else f"~{path}"))


@dataclass
class ChildReply:
    """What one child process said: its result, or the error it reported."""

    result: Any = None
    error: dict[str, Any] | None = None
    finished: bool = False


def handle_line(
    line: str, reply: ChildReply, on_output: OnOutput | None, on_event: OnEvent | None
) -> None:
    """Dispatch one JSON line of the child's protocol; anything else is passed on as output
    (a program may print to stdout)."""
    try:
        record = json.loads(line)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        if on_output and line.strip():
            on_output(line.rstrip())
        return
    if "output" in record:
        if on_output:
            on_output(record["output"])
    elif "event" in record:
        if on_event and record["event"] is not None:
            on_event(EngineEvent.from_json(record["event"]))
    elif "result" in record:
        reply.result, reply.finished = record["result"], True
    elif "error" in record:
        reply.error, reply.finished = record["error"], True


def raise_for(reply: ChildReply, returncode: int, stderr_tail: str) -> None:
    """Turn a child's reported error (or its silent death) into the runner's errors."""
    if reply.error is not None:
        if reply.error.get("kind") == "locked":
            raise StackLockedError(reply.error.get("holder"), reply.error.get("message", ""))
        raise RunnerError(str(reply.error.get("message", "")).strip() or "stack operation failed")
    if returncode != 0 or not reply.finished:
        detail = stderr_tail.strip() or "no output"
        raise RunnerError(f"the stack process exited with code {returncode}: {detail}")


class Spares:
    """At most one standby child per stack (standby.py), shared by a runner's sessions; one
    that waited `idle_seconds` unused is ended (a stack that is not deployed again keeps
    no process)."""

    def __init__(self, idle_seconds: float = STANDBY_IDLE_SECONDS) -> None:
        self._waiting: dict[str, Standby] = {}
        self._lock = threading.Lock()
        self.idle_seconds = idle_seconds

    def keep(self, stack: str, start: Callable[[], Standby]) -> None:
        """Start a standby for `stack` (an earlier one that waits still is ended)."""
        with self._lock:
            earlier = self._waiting.pop(stack, None)
        if earlier is not None:
            earlier.close()
        try:
            spare = start()
        except OSError:  # only a saving: the next operation starts its own child
            return
        spare.expiry = threading.Timer(self.idle_seconds, self._expire, (stack, spare))
        spare.expiry.daemon = True
        with self._lock:
            self._waiting[stack] = spare
        spare.expiry.start()

    def _expire(self, stack: str, spare: Standby) -> None:
        with self._lock:
            if self._waiting.get(stack) is not spare:
                return  # taken or replaced meanwhile
            del self._waiting[stack]
        spare.close()

    def take(self, stack: str, env: Mapping[str, str]) -> Standby | None:
        """The standby of `stack` when it fits `env` (else it is ended); None if none."""
        with self._lock:
            spare = self._waiting.pop(stack, None)
        if spare is None:
            return None
        if spare.expiry is not None:
            spare.expiry.cancel()  # no timer thread outlives its standby's use
        if spare.fits(env):
            return spare
        spare.close()
        return None

    def waiting(self, stack: str) -> Standby | None:
        """The standby that waits for `stack`'s next operation, if any."""
        with self._lock:
            return self._waiting.get(stack)

    def close(self) -> None:
        with self._lock:
            waiting, self._waiting = list(self._waiting.values()), {}
        for spare in waiting:
            spare.close()


@dataclass
class AutomationSession:
    """One stack on one worktree; every method is one child process."""

    stack: str
    work_dir: Path
    env: Mapping[str, str]
    project: str = "slipway"
    supports_tags: bool = True
    python: str = sys.executable
    spares: Spares = field(default_factory=lambda: Spares())

    def command(self, operation: str, *extra: str) -> list[str]:
        return [
            self.python, "-m", "webhook.runners.stack_process", operation,
            "--stack", self.stack, "--work-dir", str(self.work_dir),
            "--project", self.project, "--protocol", "json", *extra,
        ]  # fmt: skip

    def run(
        self,
        operation: str,
        *extra: str,
        stdin: Any = None,
        on_output: OnOutput | None = None,
        on_event: OnEvent | None = None,
        stop: Stoppable | None = None,
    ) -> Any:
        """Run one operation in a child process; its result, or RunnerError. With `stop`,
        the child and everything it started are ended when `stop` says so (RunnerStopped).
        A standby child of the stack (standby.py) runs it when one waits and fits."""
        process = None
        if stop is None and stdin is None and operation in STANDBY_OPERATIONS:
            spare = self.spares.take(self.stack, self.env)
            with contextlib.suppress(OSError):  # it died meanwhile: a fresh child, then
                process = (
                    spare.hand(self.command(operation, *extra)[3:], self.env) if spare else None
                )
        if process is None:
            process = subprocess.Popen(
                cpu_group.command(self.command(operation, *extra)),  # a deploy worker's: idle
                cwd=SERVICE_ROOT,
                env=dict(self.env),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=stop is not None,  # its own process group, to end it whole
            )
        if stop is not None:
            threading.Thread(target=stop.watch, args=(process,), daemon=True).start()
        stderr_tail: deque[str] = deque(maxlen=_STDERR_KEPT)
        drain = threading.Thread(target=stderr_tail.extend, args=(process.stderr,), daemon=True)
        drain.start()
        assert process.stdin is not None and process.stdout is not None
        if stdin is not None:
            process.stdin.write(json.dumps(stdin))
        process.stdin.close()
        reply = ChildReply()
        for line in process.stdout:
            handle_line(line, reply, on_output, on_event)
        returncode = process.wait()
        drain.join(timeout=5)
        if stop is not None:
            stop.finished.set()
            if stop.reason:
                raise RunnerStopped(stop.reason)
        raise_for(reply, returncode, "".join(stderr_tail))
        return reply.result

    def with_env(self, extra: Mapping[str, str]) -> AutomationSession:
        """This session with `extra` added to its children's environment."""
        return replace(self, env={**self.env, **extra})

    def set_config(self, values: Mapping[str, str]) -> None:
        self.run("config", stdin=dict(values))

    def up(self, message: str, on_output: OnOutput) -> dict[str, Any]:
        """`up`; a standby for what comes next (a tag, or a rollback `up`) is started at the
        CLI's first line: by then this child's own imports are done, and the standby's are
        done before this `up` ends (the rollback of a crashing release needs it at once)."""
        started = threading.Event()

        def output(line: str) -> None:
            if not started.is_set():
                started.set()
                self.prepare_next()
            on_output(line)

        try:
            return self.run("up", "--message", message, on_output=output)["outputs"]
        finally:
            if not started.is_set():
                self.prepare_next()

    def prepare_next(self) -> None:
        """Start a standby child for the stack's next operation (standby.py): after an
        `up` (a tag or a rollback follows) and after a tag (the next deployment's `up`)."""
        command = cpu_group.command([self.python, "-m", "webhook.runners.standby"])
        self.spares.keep(self.stack, lambda: Standby.start(command, SERVICE_ROOT, self.env))

    def preview(
        self, message: str, on_output: OnOutput, on_event: OnEvent | None = None
    ) -> dict[str, int]:
        result = self.run("preview", "--message", message, on_output=on_output, on_event=on_event)
        return result["changes"]

    def drift(self, on_output: OnOutput, stop: Stoppable) -> dict[str, Any]:
        """`pulumi refresh --preview-only` with the drifted resources (drift_report.py)."""
        return self.run("drift", on_output=on_output, stop=stop)

    def reconcile(self, message: str, on_output: OnOutput, evict: list[str]) -> dict[str, Any]:
        """`up --refresh`: the state is read from the engine first, so what was removed by
        hand is created again; `evict`: containers to remove first (made or changed by hand:
        webhook/orchestrator/reconcile.py)."""
        extra = [arg for name in evict for arg in ("--evict", name)]
        result = self.run("up", "--refresh", "--message", message, *extra, on_output=on_output)
        return result["outputs"]

    def outputs(self) -> dict[str, Any]:
        return self.run("outputs")

    def export_state(self) -> dict[str, Any]:
        return self.run("export")

    def import_state(self, state: Mapping[str, Any]) -> None:
        self.run("import", stdin=dict(state))

    def set_tag(self, key: str, value: str) -> bool:
        if not self.supports_tags:
            return False
        try:
            self.run("tag", "--key", key, "--value", value)
        finally:  # the stack's next deployment starts with an `up`
            self.prepare_next()
        return True


@dataclass
class AutomationRunner:
    """Opens stacks on a worktree; operations run in child processes (see module doc)."""

    env_vars: Mapping[str, str] = field(default_factory=dict)
    project: str = "slipway"
    spares: Spares = field(default_factory=Spares)

    @property
    def backend_url(self) -> str | None:
        return self.env_vars.get("PULUMI_BACKEND_URL") or os.environ.get("PULUMI_BACKEND_URL")

    def open(self, stack: str, work_dir: Path, binds_dir: Path | None = None) -> AutomationSession:
        binds = {BINDS_DIR_ENV: str(binds_dir)} if binds_dir else {}
        return AutomationSession(
            stack=stack,
            work_dir=work_dir,
            env={**os.environ, **self.env_vars, **binds},
            project=self.project,
            spares=self.spares,
        )

    def backend_lock_dir(self, stack: str) -> Path | None:
        """`<backend>/.pulumi/locks/organization/<project>/<stack>` on a file:// backend."""
        root = file_backend_root(self.backend_url)
        if root is None:
            return None
        name = stack.rsplit("/", 1)[-1]
        return root / ".pulumi" / "locks" / "organization" / self.project / name
