"""Play the rendered workflow's `deploy` job here, step by step, the way the runner would.

Only what the deploy job uses is understood: `run` steps with bash, `env` with
`${{ secrets.X }}` and `${{ steps.ID.outputs.Y }}`, step outputs through $GITHUB_OUTPUT, and
`if:` conditions made of `success()`, `failure()`, `always()` and
`steps.ID.outcome == '...'` joined by `&&`. Anything else raises, so that a change to the
workflow that this player cannot follow fails loudly instead of being skipped. `uses` steps
and the pip install are skipped: this environment already has Python and the client.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML

_EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")
_OUTCOME = re.compile(r"steps\.([\w-]+)\.outcome == '(\w+)'")


@dataclass
class StepRun:
    id: str
    name: str
    exit_code: int
    output: str


@dataclass
class JobRun:
    steps: list[StepRun] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(step.exit_code != 0 for step in self.steps)

    def step(self, step_id: str) -> StepRun:
        return next(s for s in self.steps if s.id == step_id)


def _condition(expression: str | None, failed: bool, outcomes: dict[str, str]) -> bool:
    if expression is None:
        return not failed
    verdict = True
    for term in (t.strip() for t in expression.split("&&")):
        if term == "success()":
            verdict &= not failed
        elif term == "failure()":
            verdict &= failed
        elif term == "always()":
            pass
        elif match := _OUTCOME.fullmatch(term):
            verdict &= outcomes.get(match.group(1)) == match.group(2)
        else:
            raise ValueError(f"this player does not understand the condition {term!r}")
    return verdict


def _substitute(value: str, secrets: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    def one(match: re.Match[str]) -> str:
        parts = match.group(1).split(".")
        if parts[0] == "secrets" and len(parts) == 2:
            return secrets.get(parts[1], "")  # GitHub gives "" for an unset secret
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            return outputs.get(parts[1], {}).get(parts[3], "")
        raise ValueError(f"this player does not understand ${{{{ {match.group(1)} }}}}")

    return _EXPRESSION.sub(one, str(value))


def _read_outputs(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def run_deploy_job(
    workflow_text: str, *, secrets: dict[str, str], sha: str, repo_root: Path, work_dir: Path
) -> JobRun:
    """Run the deploy job's steps in order; returns what each step printed and exited with."""
    job = YAML(typ="safe").load(io.StringIO(workflow_text))["jobs"]["deploy"]
    run = JobRun()
    outcomes: dict[str, str] = {}
    outputs: dict[str, dict[str, str]] = {}
    python_dir = str(Path(sys.executable).parent)
    for index, step in enumerate(job["steps"]):
        step_id = step.get("id", f"step{index}")
        if "uses" in step or "pip install" in step.get("run", ""):
            run.skipped.append(step.get("name", step_id))
            continue
        if not _condition(step.get("if"), run.failed, outcomes):
            run.skipped.append(step["name"])
            continue
        output_file = work_dir / f"{step_id}.output"
        env = {
            "PATH": f"{python_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "GITHUB_SHA": sha,
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_ACTIONS": "true",
        }
        env.update({k: _substitute(v, secrets, outputs) for k, v in step.get("env", {}).items()})
        result = subprocess.run(
            ["bash", "-e", "-c", step["run"]],
            cwd=repo_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        outcomes[step_id] = "success" if result.returncode == 0 else "failure"
        outputs[step_id] = _read_outputs(output_file)
        run.steps.append(
            StepRun(step_id, step["name"], result.returncode, result.stdout + result.stderr)
        )
    return run
