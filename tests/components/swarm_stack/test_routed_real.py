"""Zero downtime on Swarm: a routed service (`x-slipway`) behind Slipway's proxy on the
lab's manager, deployed by the real service, at 200 requests/s through the proxy.

Each release is a Swarm service of its own beside the live one; the proxy dials its tasks
on the overlay network only once they are healthy and pass the health paths through the
private route, then switches in one rename. A healthy update fails no request; a candidate
failing its healthcheck answers none and the deployment is rolled back.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.loadgen import Load
from tests.support import deploy_loop
from tests.support.deploy_loop import REAL, serving
from tests.support.paths import CACHE_DIR
from tests.support.swarm.lab import http_text
from tests.support.swarm.swarm_repo import APP, COMPOSE, SwarmRepo, build_routed_release
from webhook.cutover.swarm_engine import SwarmEngine
from webhook.orchestrator import OrchestratorSettings
from webhook.store.states import DeploymentState as S

pytestmark = [
    pytest.mark.pulumi_cli,
    pytest.mark.docker_engine,
    pytest.mark.slow,
    pytest.mark.timeout(900),
]
PORT = 18190
SETTINGS = OrchestratorSettings(
    **{**REAL.model_dump(), "watch_seconds": 3, "drain_seconds": 1, "health_deadline_seconds": 60}
)


def _releases(load: Load) -> tuple[Counter, list[str]]:
    """Answers per release, and every request that got no 200 (when, in UTC, what, and
    after how many ms: ~10,000 is the client's timeout, a few ms a refused connection)."""
    offset = time.time() - time.monotonic()
    answered = Counter(s.release for s in load.samples if s.status == 200)
    failed = sorted(
        f"{datetime.fromtimestamp(s.sent + offset, UTC):%H:%M:%S.%f} {s.status} "
        f"{s.release} {s.ms:.0f}ms"
        for s in load.samples
        if s.status != 200
    )
    return answered, failed


# What the nodes' engines say about their gossip and overlay peers (dockerd.log, UTC).
_GOSSIP = ("memberlist", "networkdb", "suspect", "peer", "node join", "node leave", "failed")


def _before(at: str, seconds: int) -> str:
    """HH:MM:SS `seconds` before `at`."""
    when = datetime.strptime(at, "%H:%M:%S") - timedelta(seconds=seconds)
    return f"{when:%H:%M:%S}"


def _gossip(lab, since: str) -> list[str]:
    """The lab engines' log lines about gossip and overlay peers since `since` (HH:MM:SS)."""
    folder = CACHE_DIR / "swarm-lab" / lab.env["SLIPWAY_SWARM_LAB_NAME"]  # swarm-lab.sh's
    lines = []
    for node in (1, 2, 3):
        path = folder / f"n{node}" / "dockerd.log"
        for line in path.read_text(errors="replace").splitlines() if path.exists() else ():
            at = line.partition('time="')[2][11:19]
            if at >= since and any(word in line.lower() for word in _GOSSIP):
                lines.append(f"  n{node} {line[:240]}")
    return lines[-80:]


def _explain(failed: list[str], total: int, loop, deployment: int, lab, project: str) -> str:
    """The failed requests (per second they were due) beside the cutover's log and the
    proxy's errors (per second they were answered, and upstream), all in UTC."""
    steps = [
        f"{line.at} {line.line}"
        for line in loop.service.store.read_log(deployment, limit=10_000)
        if "cutover" in line.line or "watch" in line.line or "up finished" in line.line
    ]
    proxy = lab.docker("logs", "--since", "30m", f"{project}-proxy", check=False)
    errors: Counter = Counter()
    for line in proxy.stderr.splitlines():
        if '"level":"error"' in line:
            entry = json.loads(line)
            when = datetime.fromtimestamp(entry["ts"], UTC)
            errors[f"{when:%H:%M:%S} {entry['status']} {entry['msg']}"] += 1
    due = Counter(f"{f.split('.')[0]} {f.split()[1]} {f.split()[2]}" for f in failed)
    slowest: dict[str, list[int]] = {}
    for f in failed:
        slowest.setdefault(f.split(".")[0], []).append(int(f.split()[-1].removesuffix("ms")))
    return "\n".join(
        [f"{len(failed)} failed of {total}; due per second (status, error, ms min-max):",
         *(f"  {k} x{n} {min(slowest[k[:8]])}-{max(slowest[k[:8]])}ms"
           for k, n in sorted(due.items())), "cutover:", *steps,
         "proxy errors per second:", *(f"  {k} x{n}" for k, n in sorted(errors.items())),
         "engines (gossip, overlay peers):", *_gossip(lab, _before(failed[0][:8], 20))]
    )  # fmt: skip


def test_routed_updates_through_the_proxy_drop_nothing(
    swarm_lab, tmp_path: Path, fake_github, octokit_examples_dir, monkeypatch
) -> None:
    # Three engines on a shared 2-core machine: a wider bound (never asserted on).
    monkeypatch.setattr(deploy_loop, "DEPLOY_LIMIT", 400.0)
    r1, r2 = build_routed_release(swarm_lab, "r1"), build_routed_release(swarm_lab, "r2")
    r3 = build_routed_release(swarm_lab, "r3", healthy=False)
    suffix = uuid.uuid4().hex[:8]
    repo = SwarmRepo.create(tmp_path / "repo", f"w{suffix}", f"slipway-w{suffix}", PORT, swarm_lab)
    listen = f"{swarm_lab.addrs[0]}:{PORT}"
    (repo.path / COMPOSE).write_text(
        (APP / "routed.yml").read_text().replace("MANAGER:18190", listen)
    )
    url = f"http://{listen}/cgi-bin/healthz"
    swarm = SwarmEngine(swarm_lab.manager)
    with serving(repo, tmp_path, fake_github, octokit_examples_dir, SETTINGS) as loop:
        first = loop.wait(loop.push(repo.release(r1)))
        assert first.state == S.SUCCEEDED, "\n".join(loop.log(first.id)[-40:])
        assert http_text(url) == "ok release=r1"

        with Load(url, rate=200) as healthy:
            second = loop.wait(loop.push(repo.release(r2)))
        log = "\n".join(loop.log(second.id))
        assert second.state == S.SUCCEEDED, log[-6000:]
        answered, failed = _releases(healthy)
        assert failed == [], _explain(
            failed, len(healthy.samples), loop, second.id, swarm_lab, repo.project
        )
        assert set(answered) == {"r1", "r2"}, answered
        # The old release's service is gone; only the new one is routed and running.
        assert list(swarm.release_containers(repo.project).values()) == [f"d{second.id}"]

        with Load(url, rate=200) as bad:
            third = loop.wait(loop.push(repo.release(r3)))
        log = "\n".join(loop.log(third.id))
        assert third.state == S.ROLLED_BACK, log[-6000:]
        assert f"candidate d{third.id} never received user traffic" in log, log[-6000:]
        # Its failing tasks are stopped at once, not restarted through the rollback.
        assert f"cutover: stopped candidate d{third.id}" in log, log[-6000:]
        answered, failed = _releases(bad)
        assert failed == [], _explain(
            failed, len(bad.samples), loop, third.id, swarm_lab, repo.project
        )
        assert set(answered) == {"r2"}, answered  # the bad candidate answered nothing
        assert http_text(url) == "ok release=r2"
        print(f"healthy: {len(healthy.samples)} requests; bad: {len(bad.samples)} requests")
