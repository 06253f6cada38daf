"""The loopback fake of the GitHub REST API: one server (server.py) for what Slipway's
feedback client calls (feedback.py) and what the github Pulumi provider calls (provider.py
and the repository it keeps, repo_state.py)."""

from tests.support.fake_github.server import REPO, TOKEN, FakeGitHub, Recorded

__all__ = ["REPO", "TOKEN", "FakeGitHub", "Recorded"]
