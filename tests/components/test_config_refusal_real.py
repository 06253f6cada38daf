"""A refused stack config reads as its problems, once, without a traceback (issues 34, 33).

Before, a `ConfigError` left the Pulumi program as an unhandled exception: the deployment
log held the Python traceback and the message again and again (79 lines, the problem 5
times, for one missing Compose file). Then the program raised it as a `pulumi.RunError`,
and `make up` still showed each problem three times: the diagnostic, the SDK's echo of it
("an unhandled error occurred") and the run's last line. Now the run bails after the
diagnostic (webhook/runners/program_refusal.py) and the last line points at it.
"""

from __future__ import annotations

import pytest

from tests.support.real_stack import REPO_ROOT, make_real_stack

pytestmark = [pytest.mark.pulumi_cli]


def test_a_config_refusal_says_each_problem_once_without_a_traceback(tmp_path) -> None:
    stack = make_real_stack(tmp_path, compose_file="not-there.yml")
    (stack.work / ".venv").symlink_to(REPO_ROOT / ".venv")  # Pulumi.yaml names ./.venv
    preview = stack.stack_process("preview", timeout=300)
    out = preview.stdout + preview.stderr
    assert preview.returncode != 0, out
    assert "Traceback" not in out, out
    assert out.count("slipway:composeFiles: not-there.yml does not exist") == 1, out
    assert "an unhandled error occurred" not in out, out
    assert len(out.splitlines()) <= 20, out
    last = out.strip().splitlines()[-1]
    assert last == "error: the stack config is invalid (1 problem(s)): see Diagnostics above", out
