"""The in-memory repository behind tests/support/fake_github/provider.py: owner, branches, file
contents and commits. Each handler takes the route's parameters plus `query` and `body` and
returns an `Answer` shaped like GitHub's documented response. Secrets, environments and
webhooks are in repo_settings.py."""

from __future__ import annotations

import base64
import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_github.answers import Answer, invalid, not_found, now
from tests.support.fake_github.repo_settings import RepoSettings

BOT = {"name": "slipway-bot", "email": "slipway-bot@users.noreply.example.com"}


def blob_sha(content: bytes) -> str:
    """Git's object id of a blob with `content` (what GitHub reports as a file's `sha`)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Commit:
    sha: str
    message: str
    parent: str | None
    files: list[dict[str, str]]  # [{filename, status}]
    date: str = field(default_factory=now)


@dataclass
class Branch:
    head: str
    files: dict[str, bytes] = field(default_factory=dict)


class RepoState(RepoSettings):
    """One repository `owner/repo`; `branches` exist from the start with a README commit."""

    def __init__(self, owner: str, repo: str, branches: tuple[str, ...], owner_is_org: bool):
        super().__init__()
        self.owner, self.repo, self.owner_is_org = owner, repo, owner_is_org
        self.repo_id, self.owner_id = 700_001, 500_001
        self.api_url = ""  # set by the server once it has a port
        self.default_branch = branches[0]
        self.commits: dict[str, Commit] = {}
        self._counter = itertools.count(1)
        self.branches: dict[str, Branch] = {}
        for name in branches:
            sha = self._commit("Initial commit", None, [("README.md", "added")])
            self.branches[name] = Branch(head=sha, files={"README.md": b"# shop\n"})

    # -- helpers the tests use ----------------------------------------------------------------

    def file_text(self, path: str, branch: str) -> str | None:
        content = self.branches[branch].files.get(path)
        return None if content is None else content.decode()

    # -- owner and repository -----------------------------------------------------------------

    def _owner(self) -> dict[str, Any]:
        kind = "Organization" if self.owner_is_org else "User"
        return {"login": self.owner, "id": self.owner_id, "type": kind, "site_admin": False}

    def get_org(self, **_: Any) -> Answer:
        if not self.owner_is_org:
            return not_found()
        return Answer(200, {**self._owner(), "url": f"{self.api_url}/orgs/{self.owner}"})

    def get_repo(self, **_: Any) -> Answer:
        full = f"{self.owner}/{self.repo}"
        return Answer(200, {
            "id": self.repo_id, "node_id": f"R_{self.repo_id}", "name": self.repo,
            "full_name": full, "private": True, "visibility": "private", "owner": self._owner(),
            "url": f"{self.api_url}/repos/{full}", "html_url": f"https://github.example/{full}",
            "default_branch": self.default_branch, "archived": False, "disabled": False,
        })  # fmt: skip

    def get_branch(self, branch: str, **_: Any) -> Answer:
        if branch not in self.branches:
            return not_found("Branch not found")
        head = self.branches[branch].head
        return Answer(200, {"name": branch, "commit": self._commit_json(head), "protected": False})

    # -- contents and commits -----------------------------------------------------------------

    def _commit(self, message: str, parent: str | None, files: list[tuple[str, str]]) -> str:
        sha = hashlib.sha1(f"commit {next(self._counter)} {message}".encode()).hexdigest()
        changed = [{"filename": name, "status": status} for name, status in files]
        self.commits[sha] = Commit(sha=sha, message=message, parent=parent, files=changed)
        return sha

    def _git_commit_json(self, sha: str) -> dict[str, Any]:
        commit = self.commits[sha]
        person = {**BOT, "date": commit.date}
        parents = [{"sha": commit.parent}] if commit.parent else []
        return {
            "sha": sha, "message": commit.message, "author": person, "committer": person,
            "url": f"{self.api_url}/repos/{self.owner}/{self.repo}/git/commits/{sha}",
            "parents": parents, "tree": {"sha": hashlib.sha1(sha.encode()).hexdigest()},
        }  # fmt: skip

    def _commit_json(self, sha: str, *, with_files: bool = False) -> dict[str, Any]:
        git = self._git_commit_json(sha)
        found = {
            "sha": sha, "node_id": f"C_{sha[:12]}", "commit": git,
            "url": f"{self.api_url}/repos/{self.owner}/{self.repo}/commits/{sha}",
            "author": {"login": BOT["name"]}, "committer": {"login": BOT["name"]},
            "parents": git["parents"],
        }  # fmt: skip
        if with_files:
            found["files"] = self.commits[sha].files
        return found

    def _content_json(self, path: str, branch: str) -> dict[str, Any]:
        content = self.branches[branch].files[path]
        encoded = base64.encodebytes(content).decode()  # GitHub wraps the base64 in lines too
        url = f"{self.api_url}/repos/{self.owner}/{self.repo}/contents/{path}"
        return {
            "type": "file", "encoding": "base64", "size": len(content),
            "name": path.rsplit("/", 1)[-1], "path": path, "content": encoded,
            "sha": blob_sha(content), "url": f"{url}?ref={branch}",
            "git_url": f"{self.api_url}/repos/{self.owner}/{self.repo}/git/blobs/"
            f"{blob_sha(content)}",
            "html_url": f"https://github.example/{self.owner}/{self.repo}/blob/{branch}/{path}",
            "download_url": None,
        }  # fmt: skip

    def _branch_of(self, name: str | None) -> str | None:
        branch = name or self.default_branch
        return branch if branch in self.branches else None

    def get_contents(self, path: str, query: dict[str, list[str]], **_: Any) -> Answer:
        branch = self._branch_of(query.get("ref", [None])[0])
        if branch is None:
            return not_found("No commit found for the ref")
        if path not in self.branches[branch].files:
            return not_found()
        return Answer(200, self._content_json(path, branch))

    def put_contents(self, path: str, body: dict[str, Any], **_: Any) -> Answer:
        if not body.get("message") or "content" not in body:
            return invalid("Invalid request: message and content are required")
        branch = self._branch_of(body.get("branch"))
        if branch is None:
            return not_found(f"Branch {body.get('branch')} not found")
        files = self.branches[branch].files
        exists = path in files
        if exists and not body.get("sha"):
            return invalid('Invalid request.\n\n"sha" wasn\'t supplied.')
        if exists and body["sha"] != blob_sha(files[path]):
            return Answer(409, {"message": f"{path} does not match {body['sha']}"})
        files[path] = base64.b64decode(body["content"])
        return Answer(200 if exists else 201, self._write(branch, path, body, exists))

    def delete_contents(self, path: str, body: dict[str, Any], **_: Any) -> Answer:
        branch = self._branch_of((body or {}).get("branch"))
        if branch is None or path not in self.branches[branch].files:
            return not_found()
        files = self.branches[branch].files
        if body.get("sha") != blob_sha(files[path]):
            return Answer(409, {"message": f"{path} does not match {body.get('sha')}"})
        del files[path]
        return Answer(200, self._write(branch, path, body, None))

    def _write(self, branch: str, path: str, body: dict[str, Any], existed: bool | None) -> dict:
        status = "removed" if existed is None else "modified" if existed else "added"
        sha = self._commit(body["message"], self.branches[branch].head, [(path, status)])
        self.branches[branch].head = sha
        content = None if existed is None else self._content_json(path, branch)
        return {"content": content, "commit": self._git_commit_json(sha)}

    def get_commit(self, sha: str, **_: Any) -> Answer:
        if sha not in self.commits:
            return invalid(f"No commit found for SHA: {sha}")
        return Answer(200, self._commit_json(sha, with_files=True))
