"""The demo stack on the real Pulumi CLI, the real docker provider and a real Docker engine.

`up` runs as `make up` runs it (the program inline, in `webhook.runners.stack_process`);
refresh, outputs and destroy go through the `pulumi` CLI itself, which needs no program.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.support.real_stack import docker_inspect

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]


def test_preview_up_noop_refresh_destroy_of_the_demo_stack(real_stack, tmp_path) -> None:
    commands = tmp_path / "cli-commands.log"
    real_stack.log_cli_commands(commands)
    preview = real_stack.stack_process("preview")
    assert preview.returncode == 0, preview.stderr + preview.stdout
    assert real_stack.last_json(preview)["changes"]["create"] >= 8
    assert docker_inspect("{{.Name}}", real_stack.container("web")) == ""  # preview made nothing

    up = real_stack.stack_process("up", "--check-health")
    assert up.returncode == 0, up.stderr + up.stdout
    summary = real_stack.last_json(up)
    assert summary["health"]["healthy"] is True
    assert summary["outputs"]["services"] == {
        service: real_stack.container(service) for service in ("db", "web", "worker")
    }
    answer = httpx.get(real_stack.health_url, timeout=5)
    assert answer.status_code == 200 and "ok release=dev" in answer.text
    # web was created only once db was healthy (depends_on: service_healthy)
    assert docker_inspect("{{.State.Health.Status}}", real_stack.container("db")) == "healthy"
    assert docker_inspect("{{.State.Running}}", real_stack.container("worker")) == "true"

    again = real_stack.stack_process("up")
    assert again.returncode == 0, again.stderr + again.stdout
    changes = real_stack.last_json(again)["changes"]
    assert set(changes) == {"same"}, f"a second up changed something: {changes}"
    # Outputs and change counts came from up's own events (webhook/runners/up_report.py):
    # the CLI was not run again to read them, and they are what it would have said.
    ran = [command_words(line) for line in commands.read_text().splitlines()]
    assert sum(words[:1] == ["up"] for words in ran) == 2, ran
    assert not [w for w in ran if w[:2] in (["stack", "output"], ["stack", "history"])], ran
    # No CLI run before each operation (webhook/runners/quick_stack.py): the stack is used by
    # name, never selected; the version is asked once per CLI binary, then cached.
    assert not [w for w in ran if w[:2] == ["stack", "select"]], ran
    assert sum(w[:1] == ["version"] for w in ran) <= 1, ran
    told = json.loads(real_stack.pulumi("stack", "output", "--json", "--show-secrets").stdout)
    assert real_stack.last_json(again)["outputs"] == told
    history = real_stack.pulumi("stack", "history", "--json", "--page-size", "1")
    assert json.loads(history.stdout)[0]["resourceChanges"] == changes

    refresh = real_stack.pulumi("refresh", "--yes", "--skip-preview")
    assert refresh.returncode == 0, refresh.stderr + refresh.stdout
    outputs = real_stack.pulumi("stack", "output", "--json")
    assert json.loads(outputs.stdout)["healthChecks"][0]["url"] == real_stack.health_url

    destroy = real_stack.pulumi("destroy", "--yes", "--skip-preview")
    assert destroy.returncode == 0, destroy.stderr + destroy.stdout
    assert docker_inspect("{{.Name}}", real_stack.container("web")) == ""
    assert docker_inspect("{{.Name}}", f"{real_stack.project}_db-data") == ""


def command_words(line: str) -> list[str]:
    """A logged CLI command line without its flags: `stack output`, `up`, ..."""
    return [word for word in line.split() if not word.startswith("-")]
