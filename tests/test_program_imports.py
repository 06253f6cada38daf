"""An app stack's program does not load what only the control stack needs.

Every deploy starts the program; the deploy service's component pulls in the service's
settings model (pydantic, limits), which cost ~40% of the program's import time
(docs/full-up.md).
"""

from __future__ import annotations

import subprocess
import sys

from tests.support.paths import REPO_ROOT

# What __main__.py imports at its top, then the modules an app stack must not load.
PROGRAM_IMPORTS = """
import sys
source = open("__main__.py").read()
head = source[: source.index("def plan_compose")]
exec(compile(head, "__main__.py", "exec"), {"__name__": "program_head"})
print(",".join(m for m in ("webhook.settings", "components.deploy_service.component",
    "components.deploy_service.environment", "pydantic") if m in sys.modules))
"""


def test_the_program_imports_no_deploy_service_component_for_an_app_stack() -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROGRAM_IMPORTS],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "", f"loaded by the program's imports: {run.stdout.strip()}"
