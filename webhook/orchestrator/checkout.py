"""Git checkout for deployments: one mirror of the repository, one worktree per job.

The mirror (`<state>/git/mirror.git`) is a bare `git clone --mirror` of SLIPWAY_REPO_URL;
each job gets `<state>/git/worktrees/<name>` at its exact commit, removed afterwards. The
deploy pipeline names one worktree per stack, so every job of a stack checks out at the
same path (webhook/orchestrator/pipeline.py says why). A token in the URL reaches git only
through GIT_ASKPASS and never a message or the mirror's config (webhook/orchestrator/git_auth.py);
the mirror is readable by the service's user only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from webhook.orchestrator.git_auth import askpass_env, redact, split_credentials
from webhook.runners.cpu_group import command

SHA_PATTERN = re.compile(r"^[0-9a-f]{7,64}$")
# No FETCH_HEAD (nothing reads it) and no maintenance started by the fetch: a deployment
# waits for neither; the worker runs `maintain` after the job.
FETCH_FLAGS = ("--prune", "--quiet", "--no-write-fetch-head", "--no-auto-maintenance")


class CheckoutError(RuntimeError):
    """Git could not produce the requested worktree."""


class UnknownCommitError(CheckoutError):
    """The commit is not in the repository, even after a fetch."""


def _run_git(
    args: list[str],
    *,
    cwd: Path | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`git ARGS`, started in the calling deploy worker's CPU group (cpu_group.command)."""
    return subprocess.run(
        command(["git", *args]), cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def _git(
    args: list[str],
    *,
    cwd: Path | None = None,
    timeout: float = 300,
    env: dict[str, str] | None = None,
) -> str:
    result = _run_git(args, cwd=cwd, timeout=timeout, env=env)
    if result.returncode != 0:
        raise CheckoutError(redact(f"git {' '.join(args)} failed: {result.stderr.strip()}"))
    return result.stdout


@dataclass
class GitMirror:
    """A bare mirror of `repo_url` under `state_dir`, handing out worktrees per commit."""

    repo_url: str = field(repr=False)  # may hold a token: shown only through `display_url`
    state_dir: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _secured: bool = field(default=False, repr=False)

    @property
    def display_url(self) -> str:
        """The repository URL as it may be shown: without user or token."""
        return redact(self.repo_url)

    @property
    def fetch_url(self) -> str:
        """The URL git is given (the token goes through GIT_ASKPASS)."""
        return split_credentials(self.repo_url)[0]

    def git_env(self) -> dict[str, str]:
        """The environment of every git process that talks to the remote."""
        return askpass_env(self.state_dir, split_credentials(self.repo_url)[1])

    @property
    def mirror_dir(self) -> Path:
        return self.state_dir / "git" / "mirror.git"

    @property
    def worktrees_dir(self) -> Path:
        return self.state_dir / "git" / "worktrees"

    def _ensure_mirror(self) -> None:
        if (self.mirror_dir / "HEAD").is_file():
            if not self._secured:
                self._secure_existing()
            return
        if not self.repo_url:
            raise CheckoutError(
                "SLIPWAY_REPO_URL is not set: set it to the repository to deploy "
                "(an https/ssh URL or a local path)."
            )
        self.mirror_dir.parent.mkdir(parents=True, exist_ok=True)
        partial = self.mirror_dir.with_name("mirror.git.partial")
        shutil.rmtree(partial, ignore_errors=True)
        # --no-local: a local path is cloned through git's transport too. The default for a
        # path copies its object files one by one, and a commit made meanwhile could leave the
        # mirror with the commit but not its tree ("unable to read tree", seen in CI).
        partial.mkdir(mode=0o700)  # the mirror is the service user's alone
        clone = ["clone", "--mirror", "--no-local", "--quiet", self.fetch_url, str(partial)]
        _git(clone, env=self.git_env())
        (partial / "config").chmod(0o600)
        partial.rename(self.mirror_dir)  # atomic: a half-made clone is never used
        self._secured = True

    def _secure_existing(self) -> None:
        """A mirror made before tokens were kept out of it: drop the token from its remote
        URL and make it private (once per process)."""
        git_dir = ["--git-dir", str(self.mirror_dir)]
        if self._try_git("config", "--get", "remote.origin.url") != self.fetch_url:
            _git([*git_dir, "config", "remote.origin.url", self.fetch_url])
        self.mirror_dir.chmod(0o700)
        (self.mirror_dir / "config").chmod(0o600)
        self._secured = True

    def prepare(self) -> None:
        """Clone the mirror now if it does not exist (done at start, off the request path)."""
        with self._lock:
            self._ensure_mirror()

    def _git_dir(self) -> list[str]:
        return ["--git-dir", str(self.mirror_dir)]

    def maintain(self) -> None:
        """`git maintenance run --auto` on the mirror: what each fetch would start (packing
        loose objects when there are many), run by the worker after a job, off its path."""
        with self._lock:
            if (self.mirror_dir / "HEAD").is_file():
                self._try_git("maintenance", "run", "--auto", "--quiet")

    def _try_git(self, *args: str) -> str | None:
        """Run git on the mirror; its output, or None when it failed (allowed to fail)."""
        result = _run_git(["--git-dir", str(self.mirror_dir), *args], env=self.git_env())
        return result.stdout.strip() if result.returncode == 0 else None

    def _full_sha(self, sha: str) -> str | None:
        return self._try_git("rev-parse", "--verify", "--quiet", f"{sha}^{{commit}}")

    def resolve(self, sha: str) -> str:
        """Fetch if needed and return the full sha of `sha`; UnknownCommitError if absent."""
        sha = sha.strip().lower()
        if not SHA_PATTERN.match(sha):
            raise UnknownCommitError(
                f"{sha!r} is not a commit sha: give 7 to 64 hexadecimal characters."
            )
        with self._lock:
            self._ensure_mirror()
            full = self._full_sha(sha)
            if full is None:
                _git([*self._git_dir(), "fetch", *FETCH_FLAGS, "origin"], env=self.git_env())
                full = self._full_sha(sha)
            if full is None and len(sha) == 40:
                # Servers that allow fetching by sha (GitHub does) can still provide it.
                self._try_git("fetch", "--quiet", "origin", sha)
                full = self._full_sha(sha)
            if full is None:
                raise UnknownCommitError(
                    f"commit {sha} is not in {self.display_url} (fetched just now): check that "
                    "it was pushed and that SLIPWAY_REPO_URL names the right repository."
                )
            return full

    @contextmanager
    def worktree(self, sha: str, name: str, resolved: bool = False) -> Iterator[Path]:
        """Yield a fresh worktree of commit `sha` named `name`; it is removed on exit.
        `resolved`: `sha` is what `resolve` returned (no second git run to check it)."""
        full_sha = sha if resolved else self.resolve(sha)
        path = self.worktrees_dir / name
        with self._lock:
            self._remove(path)
            if path.exists():
                raise CheckoutError(
                    f"the worktree {path} is left from an earlier job and could not be "
                    "removed (files in it that this user may not delete, e.g. written by a "
                    "container through a bind mount): remove it by hand, then deploy again"
                )
            self.worktrees_dir.mkdir(parents=True, exist_ok=True)
            git_dir = ["--git-dir", str(self.mirror_dir)]
            _git([*git_dir, "worktree", "add", "--detach", "--quiet", str(path), full_sha])
        try:
            yield path
        finally:
            with self._lock:
                self._remove(path)

    def _remove(self, path: Path) -> None:
        if path.exists():
            self._try_git("worktree", "remove", "--force", str(path))
            shutil.rmtree(path, ignore_errors=True)
            self._try_git("worktree", "prune")

    def remove_stale_worktrees(self) -> list[str]:
        """Remove worktrees left by a previous process (crash recovery); return their names."""
        if not self.worktrees_dir.is_dir():
            return []
        names = sorted(p.name for p in self.worktrees_dir.iterdir())
        with self._lock:
            for name in names:
                self._remove(self.worktrees_dir / name)
        return names
