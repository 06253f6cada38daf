"""The `pulumi` commands Slipway's messages suggest work as given (issue 34).

They failed outside scripts/with-toolchain.sh (no `pulumi` on PATH) and without the
backend URL and passphrase `make up` uses. A config refusal that suggests one now says to
run it through scripts/pulumi.sh, and that wrapper runs from a bare environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from components.config import ConfigError, parse_config
from tests.support.real_stack import REPO_ROOT

WRAPPER = "scripts/pulumi.sh"


def test_a_refusal_that_suggests_pulumi_names_the_wrapper(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"composeFilez": ["a.yml"]}, stack="dev", root=tmp_path)
    text = str(refused.value)
    assert "`pulumi config rm slipway:composeFilez`" in text
    assert f"Run the `pulumi ...` commands above as `{WRAPPER} ...`" in text, text


@pytest.mark.pulumi_cli
def test_the_wrapper_runs_a_suggested_command_from_a_bare_environment(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "scripts").mkdir(parents=True)
    for name in ("pulumi.sh", "backend-env.sh", "with-toolchain.sh", "toolchain.sh",
                 "docker-engine.sh"):  # fmt: skip
        shutil.copy(REPO_ROOT / "scripts" / name, work / "scripts" / name)
    shutil.copy(REPO_ROOT / "Pulumi.yaml", work / "Pulumi.yaml")
    (work / ".venv").symlink_to(REPO_ROOT / ".venv")
    shutil.copytree(REPO_ROOT / "toolchain", work / "toolchain")  # its files key the cache
    bare = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    bare["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def wrapper(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(work / WRAPPER), *args], cwd=elsewhere, env=bare,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    init = wrapper("stack", "init", "dev")
    assert init.returncode == 0, init.stderr
    done = wrapper("config", "set", "--stack", "dev", "--secret", "slipway:webhookSecret", "x")
    assert done.returncode == 0, done.stderr
    assert "secure:" in (work / "Pulumi.dev.yaml").read_text()
    assert (work / ".pulumi-state" / ".passphrase").is_file()
