"""A StackRunner like local_process.py whose apps are served from threads of the test process.

The same runner in all but one step: state files, locks, pending operations, tags and
outputs are LocalProcessRunner's. "Starting the app" reads the behaviour the commit's
`app.py` declares (tests/support/app_repo.py: its label, `/health` status, start-up delay,
crash at start, sick while a file exists) and serves it on a free loopback port from a
thread, so no Python process starts per deployment. The orchestrator's state-machine tests
run on it; what needs a real process (a service killed with SIGKILL and restarted, an app
outliving its deployer, process groups) keeps LocalProcessRunner.
"""

from __future__ import annotations

import ast
import itertools
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.local_process import (
    APP_FILE,
    READY_LINE,
    LocalProcessRunner,
    LocalProcessSession,
)
from webhook.runners.base import OnOutput, RunnerError

CRASH_EXIT_CODE = 3  # what the app of app_repo.py exits with when told to crash


@dataclass(frozen=True)
class AppSpec:
    """What one commit's app.py declares (its module-level constants)."""

    label: str
    health: int
    delay: float
    crash: bool
    sick_while: str

    @classmethod
    def read(cls, app_file: Path) -> AppSpec:
        values: dict[str, Any] = {}
        for node in ast.parse(app_file.read_text()).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else None
            if isinstance(target, ast.Name) and target.id.isupper():
                values[target.id] = ast.literal_eval(node.value)
        return cls(
            label=values["LABEL"],
            health=values["HEALTH_STATUS"],
            delay=values["START_DELAY"],
            crash=values["CRASH_ON_START"],
            sick_while=values["SICK_WHILE_EXISTS"],
        )


def _handler(spec: AppSpec) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = spec.health if self.path == "/health" else 200
            if self.path == "/health" and spec.sick_while and os.path.exists(spec.sick_while):
                status = 503
            body = spec.label.encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


class InProcessSession(LocalProcessSession):
    runner: InProcessRunner

    def _start_app(self, on_output: OnOutput) -> dict[str, Any]:
        app_file = self.work_dir / APP_FILE
        if not app_file.is_file():
            raise RunnerError(f"commit has no {APP_FILE}: nothing to start")
        spec = AppSpec.read(app_file)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(spec))
        port = server.server_address[1]
        on_output(f"  app: starting {spec.label} on port {port}")
        time.sleep(spec.delay)
        if spec.crash:
            server.server_close()
            on_output("  app: cannot start: configuration broken")
            raise RunnerError(f"app exited with code {CRASH_EXIT_CODE} before READY")
        app_id = self.runner.serve(server)
        on_output(f"  app: {READY_LINE}")
        return {"server": app_id, "port": port, "commit": self._commit()}


@dataclass
class InProcessRunner(LocalProcessRunner):
    """Runs each stack's app as a loopback server thread; state and locks live under `root`."""

    servers: dict[int, ThreadingHTTPServer] = field(default_factory=dict)  # by app id

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def open(self, stack: str, work_dir: Path, binds_dir: Path | None = None) -> InProcessSession:
        return InProcessSession(self, stack, work_dir)

    def serve(self, server: ThreadingHTTPServer) -> int:
        """Serve `server` from a thread; its app id (what `stop_app` takes) is returned."""
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        with self._lock:
            app_id = next(self._ids)
            self.servers[app_id] = server
        return app_id

    def stop_app(self, outputs: dict[str, Any]) -> None:
        """Stop the app: its server thread here, or the process a LocalProcessRunner started."""
        if "server" not in outputs:
            super().stop_app(outputs)
            return
        with self._lock:
            server = self.servers.pop(outputs["server"], None)
        if server is not None:
            server.shutdown()
            server.server_close()

    def stop_all(self) -> None:
        super().stop_all()
        with self._lock:
            left = list(self.servers)
        for app_id in left:
            self.stop_app({"server": app_id})
