"""A refused stack config reads as its problems, without a traceback (issue 34).

Before, a `ConfigError` left the Pulumi program as an unhandled exception: the deployment
log held the Python traceback and the message again and again (79 lines, the problem 5
times, for one missing Compose file). Now the program raises it as a `pulumi.RunError`:
the diagnostics hold the problem block, the SDK's echo of it, and the run's last line.
"""

from __future__ import annotations

import pytest

from tests.support.real_stack import REPO_ROOT, make_real_stack

pytestmark = [pytest.mark.pulumi_cli]


def test_a_config_refusal_is_short_and_has_no_traceback(tmp_path) -> None:
    stack = make_real_stack(tmp_path, compose_file="not-there.yml")
    (stack.work / ".venv").symlink_to(REPO_ROOT / ".venv")  # Pulumi.yaml names ./.venv
    preview = stack.stack_process("preview", timeout=300)
    out = preview.stdout + preview.stderr
    assert preview.returncode != 0, out
    assert "Traceback" not in out, out
    assert out.count("not-there.yml does not exist") <= 3, out
    assert len(out.splitlines()) <= 20, out
    last = out.strip().splitlines()[-1]
    assert "slipway:composeFiles: not-there.yml does not exist" in last, out
