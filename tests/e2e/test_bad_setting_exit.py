"""A bad setting stops the service with one line and exit 2 (issue 34 item 6).

A bare address in SLIPWAY_TRUSTED_PROXIES (not JSON) gave a 60-line traceback and exit 1,
which systemd restarts every 5 s. The exit must be 2 (systemd's unit does not restart it:
docs/install.md) and the message one line naming the variable and the form it wants.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.real_stack import REPO_ROOT


def test_a_bare_address_in_trusted_proxies_is_one_line_and_exit_2(tmp_path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SLIPWAY_")},
        "SLIPWAY_WEBHOOK_SECRET": "s" * 32,
        "SLIPWAY_TRUSTED_PROXIES": "10.0.0.1",
        "SLIPWAY_STATE_DIR": str(tmp_path / "state"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "webhook", "serve", "--port", "0"],
        cwd=tmp_path, env={**env, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert "SLIPWAY_TRUSTED_PROXIES" in lines[0] and "JSON list" in lines[0], lines
