"""`make serve` (scripts/serve.sh): uses what `.env` says; generates only what is missing."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.paths import REPO_ROOT
from tests.support.ports import free_port
from tests.support.service import signed_delivery
from tests.webhook.test_settings import run_cli
from webhook.devvalues import provide

DOTENV_SECRET = "secret-from-dotenv-0123456789"
DOTENV_TOKEN = "token-from-dotenv"


def checkout(tmp_path: Path) -> Path:
    """A tree with the real scripts/serve.sh and a `.venv/bin/python` running this Python."""
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "scripts" / "serve.sh", root / "scripts" / "serve.sh")
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{REPO_ROOT}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    toolchain(root, "")
    return root


def toolchain(root: Path, bindir: str) -> None:
    """A stand-in for scripts/with-toolchain.sh that puts `bindir` first on PATH."""
    script = root / "scripts" / "with-toolchain.sh"
    script.write_text(f'#!/bin/sh\nPATH="{bindir}:$PATH" exec "$@"\n' if bindir else 'exec "$@"\n')


@contextmanager
def make_serve(root: Path, **env: str) -> Iterator[tuple[str, list[str]]]:
    """Run serve.sh until the block ends; yield its URL and (afterwards filled) stderr lines."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SLIPWAY_")}
    process = subprocess.Popen(
        ["bash", str(root / "scripts" / "serve.sh"), "--port", str(port)],
        env={**clean, "SLIPWAY_POLL_INTERVAL_SECONDS": "0", **env},
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "make serve did not come up"
                time.sleep(0.05)
        yield url, lines
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        lines.extend(line for line in stderr.splitlines() if line.startswith("make serve:"))


def ping(url: str, secret: str) -> int:
    delivery = signed_delivery("ping", {}, secret=secret)
    return httpx.post(f"{url}/hooks/github", **delivery).status_code


def test_values_in_dotenv_are_used_and_nothing_is_generated(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    (root / ".env").write_text(
        f"SLIPWAY_WEBHOOK_SECRET={DOTENV_SECRET}\nSLIPWAY_API_TOKEN={DOTENV_TOKEN}\n"
    )
    with make_serve(root) as (url, lines):
        assert ping(url, DOTENV_SECRET) == 200
        auth = {"Authorization": f"Bearer {DOTENV_TOKEN}"}
        assert httpx.get(f"{url}/deployments", headers=auth).status_code == 200
    assert lines == [
        "make serve: SLIPWAY_WEBHOOK_SECRET from .env",
        "make serve: SLIPWAY_API_TOKEN from .env",
    ]
    assert not list((root / "var").glob("dev-*"))


def test_only_what_is_missing_is_generated_and_it_says_where(tmp_path: Path) -> None:
    root = checkout(tmp_path)
    with make_serve(root, SLIPWAY_API_TOKEN="token-from-the-environment") as (url, lines):
        secret_file = root / "var" / "dev-webhook-secret"
        assert ping(url, secret_file.read_text().strip()) == 200
    assert lines == [
        "make serve: SLIPWAY_WEBHOOK_SECRET is set neither in the environment nor in .env: "
        "generated a development webhook secret kept in var/dev-webhook-secret "
        "(read it with `cat var/dev-webhook-secret`)",
        "make serve: SLIPWAY_API_TOKEN from the environment",
    ]
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert not (root / "var" / "dev-api-token").exists()


def test_a_generated_value_is_kept_for_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.upper().startswith("SLIPWAY_")]:
        monkeypatch.delenv(name)
    first, _ = provide({})
    again, lines = provide({})
    assert again == first and len(first["SLIPWAY_API_TOKEN"]) == 64
    assert "using the one generated earlier, a development API token kept in" in lines[1]


def test_a_state_directory_that_cannot_hold_the_values_is_one_message_and_exit_5(
    tmp_path: Path,
) -> None:
    (tmp_path / "var").write_text("a file where the state directory should be")
    result = run_cli(tmp_path, "serve", "--dev")
    assert result.returncode == 5
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "the service cannot start: cannot use the state directory for the development values: "
    )
    assert line.endswith("or set SLIPWAY_STATE_DIR.")


def test_the_service_runs_with_the_toolchains_path(tmp_path: Path) -> None:
    """`make serve` could not deploy: `pulumi` was not on its PATH (issue 34). It now runs
    the service through scripts/with-toolchain.sh, as `make up` does; here a stand-in puts
    a folder with a `pulumi` first on PATH, and /readyz no longer lists it as missing."""
    root = checkout(tmp_path)
    bindir = tmp_path / "toolchain-bin"
    bindir.mkdir()
    (bindir / "pulumi").write_text("#!/bin/sh\necho 'v3.0.0'\n")
    (bindir / "pulumi").chmod(0o755)
    toolchain(root, str(bindir))
    path = os.pathsep.join(
        d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "pulumi").exists()
    )
    with make_serve(root, PATH=path, SLIPWAY_REPO_URL="https://example.com/o/r.git") as (url, _):
        ready = httpx.get(f"{url}/readyz").json()
    checks = [problem.get("check") for problem in ready.get("degraded", [])]
    assert "pulumi_cli" not in checks, ready
