"""The GitHub components through the real github provider, against a loopback fake GitHub API.

The program runs inline (webhook.runners.stack_process) on the pinned Pulumi CLI with our
bridged github provider; its `baseUrl` (GITHUB_BASE_URL) is tests/support/fake_github/server.py,
whose repository holds the private keys of the secrets scopes and so can tell what really arrived.
"""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import pytest

from components.github.workflow import WORKFLOW_PATH, WorkflowSpec, render_workflow
from tests.components.github.provider_stack import GitHubSide, make_github_stack
from tests.support.fake_github import FakeGitHub

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.slow]

OWNER, REPO = "acme", "shop"


def _secrets() -> dict[str, str]:
    """Values unique to the test run, so finding one in a file cannot be a coincidence."""
    tag = uuid.uuid4().hex[:12]
    return {
        "DEPLOY_URL": f"https://deploy-{tag}.example.test",
        "DEPLOY_TOKEN": f"token-{tag}-Zq8",
        "HEALTH_URLS": f"https://shop-{tag}.example.test/healthz https://shop-{tag}.example.test/",
    }


@pytest.fixture
def api():
    with FakeGitHub(repository=f"{OWNER}/{REPO}", branches=("main", "release")) as fake:
        yield fake
    assert fake.unhandled == []  # the provider called nothing the fake does not know


def _run(stack, *args: str) -> dict:
    result = stack.stack_process(*args)
    assert result.returncode == 0, result.stderr + result.stdout
    return stack.last_json(result)


def _cli(stack, *args: str) -> None:
    result = stack.pulumi(*args)
    assert result.returncode == 0, result.stderr + result.stdout


def _files_text(folder: Path) -> str:
    """Every file under `folder` as text (gzipped state files unpacked)."""
    texts = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        texts.append((gzip.decompress(data) if path.suffix == ".gz" else data).decode("latin-1"))
    return "\n".join(texts)


def test_environment_secrets_workflow_and_hook_through_the_real_provider(tmp_path, api) -> None:
    side = GitHubSide(
        branch="release",
        environment="production",
        secrets=_secrets(),
        events=("push", "pull_request", "release"),
        webhook_secret=f"whsec-{uuid.uuid4().hex}",
    )
    stack = make_github_stack(tmp_path, api, side)
    try:
        assert _run(stack, "up")["changes"] == {"create": 13}
        state = api.repository

        # (a) each secret arrived sealed with the environment's public key, and opens to the value
        assert set(state.environments) == {"production"}
        assert state.secret_names("production") == set(side.secrets)
        assert state.secret_names() == set()  # nothing repository-wide
        for name, value in side.secrets.items():
            record = state.scopes["production"].secrets[name]
            assert record["key_id"] == state.scopes["production"].key_id
            assert value not in record["encrypted_value"]
            assert state.plaintext(name, "production") == value

        # (b) the workflow the component renders, committed on the configured branch only
        expected = render_workflow(WorkflowSpec(branch="release", environment="production"))
        assert state.file_text(WORKFLOW_PATH, "release") == expected
        assert state.file_text(WORKFLOW_PATH, "main") is None
        head = state.commits[state.branches["release"].head]
        assert head.message == "slipway: update the deploy workflow"
        assert head.files == [{"filename": WORKFLOW_PATH, "status": "added"}]

        # (c) one hook: JSON, TLS verified, the HMAC secret, the configured + required events
        [hook] = state.hooks.values()
        assert hook["active"] is True
        assert sorted(hook["events"]) == ["ping", "pull_request", "push", "release"]
        assert hook["config"] == {
            "url": side.webhook_url,
            "content_type": "json",
            "insecure_ssl": "0",
            "secret": side.webhook_secret,
        }

        # (d) a second up, and a refresh (the provider reads everything back), change nothing
        writes = len(api.writes())
        assert _run(stack, "up")["changes"] == {"same": 13}
        assert _run(stack, "refresh")["changes"] == {"same": 13}
        assert _run(stack, "up")["changes"] == {"same": 13}
        assert api.writes()[writes:] == []

        # (e) no secret value in plain text in the backend's state or the stack config
        config_text = (stack.work / f"Pulumi.{stack.stack}.yaml").read_text()
        state_text = _files_text(Path(stack.env["PULUMI_BACKEND_URL"].removeprefix("file://")))
        assert "DEPLOY_TOKEN" in state_text and side.webhook_url in state_text  # the right files
        assert config_text.count("secure: v1:") == len(side.secrets) + 1
        for value in [*side.secrets.values(), side.webhook_secret]:
            assert value not in state_text
            assert value not in config_text

        # (f) destroy removes everything it made, and only that
        assert _run(stack, "destroy")["changes"] == {"delete": 13}
        assert state.environments == {} and state.hooks == {}
        assert state.scopes.keys() == {""} and state.secret_names() == set()
        assert state.file_text(WORKFLOW_PATH, "release") is None
        assert state.file_text("README.md", "release") == "# shop\n"
    finally:
        stack.pulumi("destroy", "--yes", "--skip-preview")
    assert all(request.status != 401 for request in api.requests)


def test_repository_secrets_and_in_place_updates_through_the_real_provider(tmp_path, api) -> None:
    side = GitHubSide(
        branch="main",
        environment=None,
        secrets=_secrets(),
        events=("push",),
        webhook_secret=f"whsec-{uuid.uuid4().hex}",
    )
    stack = make_github_stack(tmp_path, api, side)
    try:
        assert _run(stack, "up")["changes"] == {"create": 12}
        state = api.repository
        assert state.environments == {}
        assert {name: state.plaintext(name) for name in side.secrets} == side.secrets
        expected = render_workflow(WorkflowSpec(branch="main", environment=""))
        assert state.file_text(WORKFLOW_PATH, "main") == expected
        [(hook_id, hook)] = state.hooks.items()
        assert sorted(hook["events"]) == ["ping", "pull_request", "push"]

        # a new secret value is sealed again; new events edit the same hook (no replacement)
        rotated = f"token-{uuid.uuid4().hex}"
        _cli(stack, "config", "set", "--secret", "--path", "slipway:repoSecrets.DEPLOY_TOKEN",
             rotated)  # fmt: skip
        _cli(stack, "config", "set", "--path", "slipway:webhook.events[1]", "workflow_run")
        assert _run(stack, "up")["changes"] == {"update": 2, "same": 10}
        assert state.plaintext("DEPLOY_TOKEN") == rotated
        assert state.plaintext("DEPLOY_URL") == side.secrets["DEPLOY_URL"]
        assert list(state.hooks) == [hook_id]
        assert sorted(state.hooks[hook_id]["events"]) == [
            "ping", "pull_request", "push", "workflow_run"
        ]  # fmt: skip
        assert state.hooks[hook_id]["config"]["secret"] == side.webhook_secret

        assert _run(stack, "destroy")["changes"] == {"delete": 12}
        assert state.secret_names() == set() and state.hooks == {}
        assert state.file_text(WORKFLOW_PATH, "main") is None
    finally:
        stack.pulumi("destroy", "--yes", "--skip-preview")
