"""The client runs in the deploy job with only webhook/client/requirements.txt installed."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

SERVICE_ONLY = {"fastapi", "starlette", "pydantic", "pydantic_settings", "uvicorn", "pulumi"}


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            pins[name] = pinned
    return pins


def test_client_requirements_are_pinned_to_what_the_suite_runs_with(repo_root: Path) -> None:
    pins = _pins(repo_root / "webhook" / "client" / "requirements.txt")
    assert {"httpx", "tenacity"} <= set(pins)
    for name, pinned in pins.items():
        assert re.fullmatch(r"\d[\w.]*", pinned), f"{name} is not pinned exactly"
        assert version(name) == pinned, f"{name}: .venv has {version(name)}, client pins {pinned}"
    root = _pins(repo_root / "requirements.txt")
    for name in ("httpx", "tenacity"):
        assert pins[name] == root[name], f"{name} pinned differently from requirements.txt"


def test_the_client_imports_nothing_from_the_service_stack(repo_root: Path) -> None:
    probe = (
        "import sys, webhook.client.__main__; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo_root, capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    assert {"httpx", "tenacity"} <= loaded
    assert not loaded & SERVICE_ONLY, f"the deploy job does not install {loaded & SERVICE_ONLY}"
