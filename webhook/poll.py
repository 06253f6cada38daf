"""The missed-delivery poll: deploy the branch head when no webhook delivery brought it.

Every SLIPWAY_POLL_INTERVAL_SECONDS (0 = off; the first check one interval after start)
the service asks the mirror's remote for the deployed branch's head with `git ls-remote`.
A head commit that no path ever queued is queued with the reason "missed webhook: found by
polling"; webhook.dedupe decides, inside the store's write, so the delivery path and the
poll never queue one commit twice. One git process at a time, on the service's event loop;
it is killed after a timeout or when the service stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from enum import StrEnum
from pathlib import Path

from prometheus_client import CollectorRegistry

from webhook.dedupe import MISSED_REASON
from webhook.metrics import poll_checks
from webhook.orchestrator.checkout import GitMirror
from webhook.orchestrator.git_auth import redact
from webhook.queue import DeploymentQueue, hand_off
from webhook.settings import Settings
from webhook.store import Store

log = logging.getLogger("slipway.poll")

GIT_TIMEOUT_SECONDS = 30.0


class PollResult(StrEnum):
    """What one check found (the `result` label of `slipway_poll_checks_total`)."""

    MISSED = "missed"  # a head no delivery brought: queued now
    SEEN = "seen"  # the head was queued before (by a delivery, the API or the poll)
    NO_BRANCH = "no_branch"  # the remote has no such branch
    ERROR = "error"  # git failed or timed out; tried again next interval


def ls_remote_command(repo_url: str, mirror_dir: Path | None, ref: str) -> list[str]:
    """`git ls-remote` of `ref`: on the mirror's `origin` once it exists, else on the URL."""
    if mirror_dir is not None:
        return ["git", "--git-dir", str(mirror_dir), "ls-remote", "origin", ref]
    return ["git", "ls-remote", repo_url, ref]


def head_from_ls_remote(output: str, ref: str) -> str | None:
    """The sha `ls-remote` printed for exactly `ref`, or None."""
    for line in output.splitlines():
        sha, _, name = line.partition("\t")
        if name.strip() == ref and sha:
            return sha.strip().lower()
    return None


class Poller:
    """The periodic check, as an asyncio task of the service (`start` / `stop`)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        queue: DeploymentQueue,
        registry: CollectorRegistry,
    ) -> None:
        self.interval = settings.deploy.poll_interval_seconds
        self.stack = settings.deploy.stack
        self.ref = f"refs/heads/{settings.deploy.branch}"
        self.mirror = GitMirror(settings.deploy.repo_url, settings.deploy.state_dir)
        self.store = store
        self.queue = queue
        self.checks = poll_checks(registry)
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> PollResult:
        """One check: ask the remote for the head and queue it if it was never queued."""
        result = await self._check()
        self.checks.labels(str(result)).inc()
        return result

    async def _check(self) -> PollResult:
        output = await self._ls_remote()
        if output is None:
            return PollResult.ERROR
        sha = head_from_ls_remote(output, self.ref)
        if sha is None:
            return PollResult.NO_BRANCH
        deployment = await self.store.queue_missed_commit_async(
            self.stack, sha, self.ref, MISSED_REASON
        )
        if deployment is None:
            return PollResult.SEEN
        refused = await hand_off(self.store, self.queue, deployment, deployment.delivery_id)
        if refused is not None:  # the next check finds the commit again
            log.error("poll: %s", refused, extra={"deployment_id": deployment.id})
            return PollResult.ERROR
        log.warning(
            "poll: %s at %s was never delivered by a webhook; queued as deployment %s",
            self.ref,
            sha,
            deployment.id,
            extra={"deployment_id": deployment.id},
        )
        return PollResult.MISSED

    async def _ls_remote(self) -> str | None:
        """The output of `git ls-remote`, or None (logged) when it failed."""
        mirror = self.mirror.mirror_dir
        command = ls_remote_command(
            self.mirror.fetch_url, mirror if (mirror / "HEAD").is_file() else None, self.ref
        )
        env = self.mirror.git_env()  # never prompts; a token only through GIT_ASKPASS
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            out, err = await asyncio.wait_for(process.communicate(), GIT_TIMEOUT_SECONDS)
        except TimeoutError:
            log.warning("poll: git ls-remote took over %ss; killed", GIT_TIMEOUT_SECONDS)
            return None
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        if process.returncode != 0:
            log.warning("poll: git ls-remote failed: %s", redact(err.decode(errors="replace")))
            return None
        return out.decode(errors="replace")

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # a broken check must not end the poll
                log.exception("poll: check failed")
                self.checks.labels(str(PollResult.ERROR)).inc()

    def start(self) -> None:
        """Begin checking every interval (call on the service's event loop)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="slipway-poll")

    async def stop(self) -> None:
        """Stop checking; a git process in flight is killed."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def missed_delivery_poll(
    settings: Settings, store: Store, queue: DeploymentQueue, registry: CollectorRegistry
) -> Poller | None:
    """The service's poll, or None when it is off (interval 0) or nothing is deployed
    (no SLIPWAY_REPO_URL)."""
    if settings.deploy.poll_interval_seconds <= 0 or not settings.deploy.repo_url:
        return None
    return Poller(settings, store, queue, registry)
