"""What the program loads: an app stack's deploy does not pay for the GitHub provider's SDK.

Each deploy starts the program in a fresh interpreter, so every module it imports costs
every deploy its load time (pulumi_github: ~0.3 s of CPU before the first resource).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.program_run import REPO_ROOT

PROBE = """
import json, sys
from tests.support.program_run import run_program
run = run_program("imports", json.loads(sys.argv[1]))
print(json.dumps({"github": "pulumi_github" in sys.modules, "outputs": sorted(run.outputs)}))
"""


def loaded(config: dict) -> dict:
    """Run the program under mocks in a new interpreter; what it exported and loaded."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(config)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_an_app_stack_does_not_load_the_github_sdk(tmp_path: Path) -> None:
    (tmp_path / "compose.yml").write_text("services:\n  app:\n    image: slipway/base:busybox\n")
    config = {"slipway:composeFiles": [str(tmp_path / "compose.yml")]}
    seen = loaded({**config, "slipway:composeProject": "p"})
    assert "services" in seen["outputs"]
    assert seen["github"] is False
