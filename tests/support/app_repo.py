"""Test apps in a real git repository: each commit holds an `app.py` that behaves as told.

`LocalProcessRunner` starts the app of the deployed commit on a loopback port. The commit
decides how it behaves: the status `/health` answers, a start-up delay, exiting before it
is ready (a failing `up`), or turning sick while an outside file exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.support.git import git

APP_TEMPLATE = '''\
"""Test app of commit {label!r}."""
import argparse
import http.server
import os
import sys
import time

LABEL = {label!r}
HEALTH_STATUS = {health}
START_DELAY = {delay}
CRASH_ON_START = {crash}
SICK_WHILE_EXISTS = {sick_while!r}  # an outside dependency: /health fails while it exists

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
port = parser.parse_args().port
print(f"starting {{LABEL}} on port {{port}}", flush=True)
parent = os.getppid()
for _ in range(int(START_DELAY * 50)):
    if os.getppid() != parent:  # the deploying process died: do not linger as an orphan
        sys.exit(0)
    time.sleep(0.02)
if CRASH_ON_START:
    print("cannot start: configuration broken", flush=True)
    sys.exit(3)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = HEALTH_STATUS if self.path == "/health" else 200
        if self.path == "/health" and SICK_WHILE_EXISTS and os.path.exists(SICK_WHILE_EXISTS):
            status = 503
        body = LABEL.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("READY", flush=True)
server.serve_forever()
'''


@dataclass
class AppRepo:
    """A real git repository; `commit_app` adds a commit with an app that behaves as told."""

    path: Path
    shas: dict[str, str] = field(default_factory=dict)

    def commit_app(
        self,
        label: str,
        *,
        health: int = 200,
        delay: float = 0.0,
        crash: bool = False,
        sick_while: str = "",
    ) -> str:
        app = APP_TEMPLATE.format(
            label=label, health=health, delay=delay, crash=crash, sick_while=sick_while
        )
        (self.path / "app.py").write_text(app)
        git(self.path, "add", "app.py")
        git(self.path, "commit", "--quiet", "-m", f"app {label}")
        sha = git(self.path, "rev-parse", "HEAD")
        self.shas[label] = sha
        return sha


def init_app_repo(path: Path) -> AppRepo:
    """An empty repository on branch main at `path`, ready for `commit_app`."""
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "config", "user.email", "dev@example.com")
    git(path, "config", "user.name", "Dev")
    git(path, "config", "commit.gpgsign", "false")
    return AppRepo(path)
