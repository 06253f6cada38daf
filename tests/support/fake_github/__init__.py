"""The loopback fake of the GitHub REST API: what Slipway's feedback client and the github
Pulumi provider call (feedback.py, provider.py and the repository it keeps, repo_state.py)."""

from tests.support.fake_github.feedback import FakeGitHub

TOKEN = "ghs_fake_installation_token"  # what the `fake_github` fixture's server accepts
REPO = "Codertocat/Hello-World"  # the repository of the octokit example payloads

__all__ = ["REPO", "TOKEN", "FakeGitHub"]
