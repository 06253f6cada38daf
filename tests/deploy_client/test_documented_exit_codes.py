"""The deploy client's exit codes are the numbers docs/github.md gives (issue 34 item 16).

The other tests compare with the module's own constants, so a constant changed with the
code (3 and 4 swapped, say) went unnoticed while workflows branch on the documented
numbers. Here the real process runs and its exit status is compared with the number the
doc states for the case.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.support.fake_deploy_api import FakeService, start
from tests.support.paths import REPO_ROOT
from tests.support.ports import free_port

TOKEN = "s3cr3t-token-for-tests-0123456789"
SHA = "3f786850e387550fdab836ed7e6dc881de23001b"


def documented(words: str) -> int:
    """The exit code docs/github.md lists before `words` (`3 the service could not ...`)."""
    text = " ".join((REPO_ROOT / "docs/github.md").read_text().split())
    found = re.search(r"(\d) " + re.escape(words), text)
    assert found, f"docs/github.md lists no exit code for {words!r}"
    return int(found.group(1))


def client(url: str, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SLIPWAY_URL": url, "SLIPWAY_TOKEN": TOKEN, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "deploy_client", *argv], env=env, cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_an_unreachable_service_is_the_documented_code() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    done = client(url, "--attempts", "1", "deploy", "--sha", SHA)
    assert done.returncode == documented("the service could not be reached"), done.stdout


def test_no_final_state_before_the_timeout_is_the_documented_code() -> None:
    fake = FakeService(token=TOKEN, states=["queued", "running"])
    server = start(fake)
    try:
        done = client(fake.url, "deploy", "--sha", SHA, "--wait", "--timeout", "1",
                      "--poll-interval", "0.2")  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == documented("no final state before `--timeout`"), done.stdout
