"""The client runs in the deploy job with only deploy_client/requirements.lock installed."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from components.github.workflow import render_workflow
from scripts.lock import pins

SERVICE_ONLY = {"fastapi", "starlette", "pydantic", "pydantic_settings", "uvicorn", "pulumi"}


def test_client_lock_is_what_the_service_and_the_suite_run_with(repo_root: Path) -> None:
    client = pins(repo_root / "deploy_client" / "requirements.lock")
    runtime = pins(repo_root / "requirements.lock")
    assert {"httpx", "tenacity"} <= set(client)
    for name, (pinned, hashes) in client.items():
        assert runtime.get(name) == (pinned, hashes), f"{name}: not the service's resolution"
        assert version(name) == pinned, f"{name}: .venv has {version(name)}, client pins {pinned}"


def test_the_deploy_job_installs_the_client_lock_checked_by_hash() -> None:
    install = "pip install --require-hashes --no-deps -r deploy_client/requirements.lock"
    assert install in render_workflow()


def test_the_client_imports_nothing_from_the_service_stack(repo_root: Path) -> None:
    probe = (
        "import sys, deploy_client.__main__; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo_root, capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    assert {"httpx", "tenacity"} <= loaded
    assert not loaded & SERVICE_ONLY, f"the deploy job does not install {loaded & SERVICE_ONLY}"
