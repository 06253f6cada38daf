"""The service as `serve` builds it: feedback from settings, on the orchestrator's states."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import httpx
import pytest

from tests.support.app_repo import AppRepo
from tests.support.fake_github import REPO, TOKEN, FakeGitHub
from tests.support.orchestrator import WAIT_LIMIT
from tests.support.service import serve_on_loopback
from webhook.http.app import create_app
from webhook.http.signature import sign
from webhook.settings import Settings

SECRET = "app-wiring-secret-0123456789"


def test_without_a_token_the_service_starts_and_says_feedback_is_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(webhook_secret=SECRET, state_dir=tmp_path / "state")
    with caplog.at_level(logging.INFO), serve_on_loopback(create_app(settings)) as url:
        assert httpx.get(f"{url}/healthz", timeout=10).status_code == 200
    assert "GitHub feedback is off: SLIPWAY_GITHUB_TOKEN is not set" in caplog.text


def test_with_a_token_the_orchestrators_state_changes_reach_github(
    tmp_path: Path, app_repo: AppRepo, fake_github: FakeGitHub
) -> None:
    sha = app_repo.commit_app("v1")
    settings = Settings(
        webhook_secret=SECRET,
        state_dir=tmp_path / "state",
        repo_url=str(app_repo.path),
        github_token=TOKEN,
        github_repository=REPO,
        github_api_url=fake_github.url,
        public_url="https://deploy.example.com",
    )
    body = json.dumps(
        {
            "ref": "refs/heads/main",
            "after": sha,
            "pusher": {"name": "dev"},
            "repository": {"full_name": REPO},
        }
    )
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "wiring-1",
        "X-Hub-Signature-256": sign(SECRET.encode(), body.encode()),
    }
    with serve_on_loopback(create_app(settings)) as url:
        answer = httpx.post(f"{url}/hooks/github", content=body, headers=headers, timeout=10)
        assert answer.status_code == 202, answer.text
        deadline = time.monotonic() + WAIT_LIMIT
        # Without the Pulumi CLI the Automation API runner fails: the job ends `failed`.
        while time.monotonic() < deadline:
            states = [s for d in fake_github.state.statuses.values() for s in d]
            if any(s["state"] != "in_progress" for s in states):
                break
            time.sleep(0.05)
    (deployment,) = fake_github.state.deployments.values()
    assert deployment["sha"] == sha and deployment["environment"] == "dev"
    statuses = fake_github.state.statuses[deployment["id"]]
    # in_progress when the job started; without the Pulumi CLI it is refused before it starts.
    assert [s["state"] for s in statuses] in (["in_progress", "failure"], ["failure"])
    assert statuses[-1]["log_url"] == "https://deploy.example.com/deployments/1/log"
