"""A StackRunner that really deploys, without Pulumi: it runs the commit's own app.

Used by the tests and the benchmark. "Deploying" a worktree means: stop the app the stack
ran before, start `python app.py --port N` from the worktree on a free loopback port, and
wait until the app prints `READY` (or exits: the `up` fails). The commit decides everything
else: how long it takes to start, whether it starts at all, and what `/health` answers.

It keeps its state the way a self-managed Pulumi backend does, so that crash recovery is
exercised for real: `<root>/.pulumi/locks/organization/slipway/<stack>/<uuid>.json` while
an update runs, and an exported-state document with `pending_operations` during `up`.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pulumi.automation import errors as auto_errors
from pulumi.automation._cmd import CommandResult
from pulumi.automation.events import EngineEvent

from components.atomic_write import write_atomically
from tests.support.ports import free_port
from webhook.runners.base import OnEvent, OnOutput, RunnerError, mapped_automation_errors
from webhook.runners.locks import process_alive

READY_LINE = "READY"
APP_FILE = "app.py"


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace `path` with `data` as JSON; readers never see a half-written file."""
    write_atomically(path, json.dumps(data, indent=2, sort_keys=True))


def stop_process_group(pid: int, grace: float = 5.0) -> None:
    """SIGTERM the app's process group, SIGKILL it if it is still there after `grace`."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and process_alive(pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.02)
        if process_alive(pid):
            os.killpg(pid, signal.SIGKILL)


@dataclass
class LocalProcessSession:
    runner: LocalProcessRunner
    stack: str
    work_dir: Path

    @property
    def state_file(self) -> Path:
        return self.runner.root / "stacks" / self.stack / "state.json"

    @property
    def tags_file(self) -> Path:
        return self.runner.root / "stacks" / self.stack / "tags.json"

    def set_config(self, values: Mapping[str, str]) -> None:
        write_json_atomic(self.runner.root / "stacks" / self.stack / "config.json", dict(values))

    def export_state(self) -> dict[str, Any]:
        if not self.state_file.exists():
            return {"version": 3, "deployment": {"resources": []}}
        return json.loads(self.state_file.read_text())

    def import_state(self, state: Mapping[str, Any]) -> None:
        write_json_atomic(self.state_file, dict(state))

    def outputs(self) -> dict[str, Any]:
        app = self._app_resource(self.export_state())
        return self._outputs_for(app["outputs"]) if app else {}

    def set_tag(self, key: str, value: str) -> bool:
        tags = json.loads(self.tags_file.read_text()) if self.tags_file.exists() else {}
        write_json_atomic(self.tags_file, {**tags, key: value})
        return True

    def tags(self) -> dict[str, str]:
        return json.loads(self.tags_file.read_text()) if self.tags_file.exists() else {}

    def preview(
        self, message: str, on_output: OnOutput, on_event: OnEvent | None = None
    ) -> dict[str, int]:
        """Say what `up` would change, as output lines and as the engine's step event."""
        app = self._app_resource(self.export_state())
        current = app["outputs"]["commit"] if app else None
        target = self._commit()
        on_output(f"Previewing update ({self.stack}): {message}")
        change = "same" if current == target else ("update" if current else "create")
        on_output(f"  local:app app {change} ({current or 'none'} -> {target})")
        if on_event is not None:
            on_event(self._step_event(change))
        return {change: 1}

    def _step_event(self, op: str) -> EngineEvent:
        """The `resourcePreEvent` the Pulumi engine would send for the app's step."""
        metadata = {"op": op, "urn": self._urn(), "type": "local:app", "provider": ""}
        if op == "update":
            metadata["diffs"] = ["commit"]
        return EngineEvent.from_json(
            {
                "sequence": 1,
                "timestamp": int(time.time()),
                "resourcePreEvent": {"metadata": metadata},
            }
        )

    def up(self, message: str, on_output: OnOutput) -> dict[str, Any]:
        lock = self._acquire_lock()
        try:
            on_output(f"Updating ({self.stack}): {message}")
            state = self.export_state()
            previous = self._app_resource(state)
            deployment = dict(state.get("deployment") or {})
            deployment["pending_operations"] = [
                {"type": "creating", "resource": {"urn": self._urn(), "type": "local:app"}}
            ]
            self.import_state({**state, "deployment": deployment})
            if previous:
                on_output(f"  stopping app of {previous['outputs']['commit'][:12]}")
                self.runner.stop_app(previous["outputs"])
            try:
                app_outputs = self._start_app(on_output)
            except RunnerError:
                deployment.pop("pending_operations", None)
                deployment["resources"] = []
                self.import_state({**state, "deployment": deployment})
                raise
            deployment.pop("pending_operations", None)
            deployment["resources"] = [
                {"urn": self._urn(), "type": "local:app", "outputs": app_outputs}
            ]
            self.import_state({**state, "deployment": deployment})
            on_output("Update succeeded: 1 resource changed")
            return self._outputs_for(app_outputs)
        finally:
            lock.unlink(missing_ok=True)

    def _commit(self) -> str:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=self.work_dir, capture_output=True, text=True
        )
        return result.stdout.strip() or "unknown"

    def _urn(self) -> str:
        return f"urn:pulumi:{self.stack}::slipway::local:app::app"

    @staticmethod
    def _app_resource(state: Mapping[str, Any]) -> dict[str, Any] | None:
        resources = (state.get("deployment") or {}).get("resources") or []
        return next((r for r in resources if r.get("type") == "local:app"), None)

    @staticmethod
    def _outputs_for(app: Mapping[str, Any]) -> dict[str, Any]:
        base = f"http://127.0.0.1:{app['port']}"
        return {
            "url": base,
            "commit": app["commit"],
            "healthChecks": [{"url": f"{base}/health", "status": 200, "timeoutSeconds": 2}],
        }

    def _acquire_lock(self) -> Path:
        lock_dir = self.runner.backend_lock_dir(self.stack)
        held = sorted(lock_dir.glob("*.json")) if lock_dir.is_dir() else []
        if held:
            details = []
            for path in held:
                info = json.loads(path.read_text())
                details.append(
                    f"  {path}: created by {info['username']}@{info['hostname']} "
                    f"(pid {info['pid']}) at {info['timestamp']}"
                )
            stderr = (
                f"error: the stack is currently locked by {len(held)} lock(s). Either wait for "
                "the other process(es) to end or delete the lock file with `pulumi cancel`.\n"
                + "\n".join(details)
            )
            with mapped_automation_errors():
                raise auto_errors.ConcurrentUpdateError(CommandResult("", stderr, 255))
        lock = lock_dir / f"{uuid.uuid4()}.json"
        write_json_atomic(
            lock,
            {
                "pid": os.getpid(),
                "username": getpass.getuser(),
                "hostname": socket.gethostname(),
                "timestamp": datetime.now(UTC).isoformat(),
            },
        )
        return lock

    def _start_app(self, on_output: OnOutput) -> dict[str, Any]:
        app_file = self.work_dir / APP_FILE
        if not app_file.is_file():
            raise RunnerError(f"commit has no {APP_FILE}: nothing to start")
        port = free_port()
        log_path = self.runner.root / "stacks" / self.stack / f"app-{port}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-u", str(app_file), "--port", str(port)],
                cwd=self.work_dir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # the app outlives this `up`, like a real container
            )
        seen = 0
        deadline = time.monotonic() + self.runner.start_timeout
        while True:
            lines = log_path.read_text(errors="replace").splitlines()
            for line in lines[seen:]:
                on_output(f"  app: {line}")
                if line.strip() == READY_LINE:
                    return {"pid": process.pid, "port": port, "commit": self._commit()}
            seen = len(lines)
            if process.poll() is not None:
                raise RunnerError(f"app exited with code {process.returncode} before READY")
            if time.monotonic() > deadline:
                stop_process_group(process.pid)
                raise RunnerError(f"app did not print READY within {self.runner.start_timeout}s")
            time.sleep(0.01)


@dataclass
class LocalProcessRunner:
    """Runs each stack's app as a local process; state and locks live under `root`."""

    root: Path
    start_timeout: float = 30.0

    def open(
        self, stack: str, work_dir: Path, binds_dir: Path | None = None
    ) -> LocalProcessSession:
        # The stand-in app has no Compose binds: `binds_dir` is not used.
        return LocalProcessSession(self, stack, work_dir)

    def backend_lock_dir(self, stack: str) -> Path:
        return self.root / ".pulumi" / "locks" / "organization" / "slipway" / stack

    def stop_app(self, outputs: Mapping[str, Any]) -> None:
        """Stop the app a deployment started (its process group)."""
        if "pid" in outputs:
            stop_process_group(outputs["pid"])

    def stop_all(self) -> None:
        """Stop every app this runner started (test teardown)."""
        for state_file in (self.root / "stacks").glob("*/state.json"):
            resources = json.loads(state_file.read_text()).get("deployment", {}).get("resources")
            for resource in resources or []:
                self.stop_app(resource["outputs"])
