"""Finding 2 of issue 32: a token in SLIPWAY_REPO_URL reaches git through GIT_ASKPASS and
never appears in an error message, a log line, git's argv or the mirror's config."""

from __future__ import annotations

import base64
import functools
import http.server
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.git import git
from webhook.orchestrator.checkout import CheckoutError, GitMirror, UnknownCommitError
from webhook.orchestrator.git_auth import redact, split_credentials

USER, TOKEN = "x-access-token", "ghp_S3cretTokenValue0123456789"


class _AuthHandler(http.server.SimpleHTTPRequestHandler):
    """git's dumb HTTP protocol: static files, behind HTTP basic auth."""

    def do_GET(self) -> None:
        expected = "Basic " + base64.b64encode(f"{USER}:{TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def private_repo(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A repository served on loopback that needs the token: (URL with the token, its sha)."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    (work / "app.txt").write_text("one\n")
    git(work, "add", ".")
    git(work, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    sha = git(work, "rev-parse", "HEAD")
    served = tmp_path / "served"
    served.mkdir()
    git(tmp_path, "clone", "-q", "--bare", str(work), str(served / "repo.git"))
    git(served / "repo.git", "update-server-info")
    handler = functools.partial(_AuthHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{USER}:{TOKEN}@127.0.0.1:{server.server_port}/repo.git", sha
    finally:
        server.shutdown()
        thread.join(10)


def test_redact_and_split_remove_userinfo() -> None:
    url = f"https://{USER}:{TOKEN}@github.com/o/r.git"
    assert TOKEN not in redact(f"fatal: could not read {url}: denied")
    assert redact(url) == "https://***@github.com/o/r.git"
    clean, credentials = split_credentials(url)
    assert clean == "https://github.com/o/r.git"
    assert credentials == (USER, TOKEN)
    assert split_credentials("/srv/repo.git") == ("/srv/repo.git", None)
    assert split_credentials("git@github.com:o/r.git") == ("git@github.com:o/r.git", None)


def test_private_repository_is_cloned_without_the_token_on_disk(
    private_repo: tuple[str, str], tmp_path: Path
) -> None:
    url, sha = private_repo
    mirror = GitMirror(url, tmp_path / "state")
    assert mirror.resolve(sha) == sha
    config = (mirror.mirror_dir / "config").read_text()
    assert TOKEN not in config and USER not in config, config
    assert stat.S_IMODE(os.stat(mirror.mirror_dir / "config").st_mode) & 0o077 == 0
    assert stat.S_IMODE(os.stat(mirror.mirror_dir).st_mode) & 0o077 == 0
    assert TOKEN not in repr(mirror)
    with mirror.worktree(sha, "job") as tree:
        assert (tree / "app.txt").read_text() == "one\n"


def test_unknown_commit_message_has_no_token(private_repo: tuple[str, str], tmp_path: Path) -> None:
    url, sha = private_repo
    mirror = GitMirror(url, tmp_path / "state")
    mirror.resolve(sha)
    with pytest.raises(UnknownCommitError) as raised:
        mirror.resolve("b" * 40)
    assert TOKEN not in str(raised.value)
    assert "127.0.0.1" in str(raised.value)  # still names the repository


def test_failed_clone_message_has_no_token(tmp_path: Path) -> None:
    url = f"http://{USER}:{TOKEN}@127.0.0.1:9/nothing-listens-here.git"
    mirror = GitMirror(url, tmp_path / "state")
    with pytest.raises(CheckoutError) as raised:
        mirror.prepare()
    assert TOKEN not in str(raised.value), raised.value
    assert "***@127.0.0.1:9" in str(raised.value) or "127.0.0.1" in str(raised.value)


def test_wrong_token_fails_with_a_clear_message_and_no_token(
    private_repo: tuple[str, str], tmp_path: Path
) -> None:
    url, _ = private_repo
    wrong = url.replace(TOKEN, "ghp_WrongWrongWrong")
    with pytest.raises(CheckoutError) as raised:
        GitMirror(wrong, tmp_path / "state").prepare()
    assert "ghp_WrongWrongWrong" not in str(raised.value), raised.value


def test_mirror_made_with_the_token_in_its_config_is_cleaned(
    private_repo: tuple[str, str], tmp_path: Path
) -> None:
    url, sha = private_repo
    state = tmp_path / "state"
    (state / "git").mkdir(parents=True)
    git(tmp_path, "clone", "-q", "--mirror", url, str(state / "git" / "mirror.git"))
    assert TOKEN in (state / "git" / "mirror.git" / "config").read_text()  # the old way
    mirror = GitMirror(url, state)
    assert mirror.resolve(sha) == sha
    assert TOKEN not in (mirror.mirror_dir / "config").read_text()
    assert stat.S_IMODE(os.stat(mirror.mirror_dir / "config").st_mode) & 0o077 == 0
