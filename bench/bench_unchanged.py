"""Issue 35's deploy measures, against Docker Compose in the same run on the same engine:

- no-op redeploy: a push of a commit that changes nothing in the stack, accepted → the
  deployment final (`succeeded`, health checked), through the service; the same commit
  with `force` (the full `up`: what every no-op push cost before the unchanged path); and
  `docker compose up -d` of unchanged files. Median of 5 alternating rounds.
- crash at start: a push of a release whose web container exits at once → the previous
  release answering again (the deployment `rolled_back`); by hand: `docker compose up -d
  --build` of the bad release, noticing the exited container (polled), checking out the
  good commit and `docker compose up -d --build --wait` again. Median of 3 rounds.

`make bench` runs it with the toolchain's environment, as does
`scripts/with-toolchain.sh .venv/bin/python bench/bench_unchanged.py`.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

import httpx

from bench import demo_loop as loop
from tests.e2e.demo_repo import DemoRepo, git
from tests.support.live_service import API_TOKEN, LiveService
from tests.support.payloads import push
from tests.support.real_stack import docker_inspect, free_port
from webhook.store.states import DeploymentState as S

# The deploy worker at Compose's priority: with the production default (its processes in
# an idle CPU group, nice 10) a machine loaded by other jobs measures those jobs.
SETTINGS = loop.HEALTH.model_copy(update={"deploy_cpu_idle": False, "deploy_nice": 0})
NOOP_ROUNDS = 5
CRASH_ROUNDS = 3
FINAL = (S.SUCCEEDED, S.FAILED, S.ROLLED_BACK, S.ROLLBACK_FAILED)


def doc_commit(repo: DemoRepo, n: int) -> str:
    (repo.path / "NOTES.md").write_text(f"round {n}\n")
    git(repo.path, "add", "-A")
    git(repo.path, "commit", "-q", "-m", f"docs {n}")
    return git(repo.path, "rev-parse", "HEAD")


class Slipway:
    """The service deploying a demo repository; each call times one deployment."""

    def __init__(self, service: LiveService, repo: DemoRepo) -> None:
        self.service, self.repo = service, repo
        self.tails: list[float] = []  # push → the worker idle again (tag and clean-up done)

    def final(self, deployment_id: int):
        store = self.service.store
        return loop.wait_for(
            lambda: (d := store.get_deployment(deployment_id)).state in FINAL and d, step=0.01
        )

    def idle(self) -> float:
        """Wait until the stack's worker has finished every job; when it had."""
        loop.wait_for(lambda: self.service.orchestrator.depth() == 0, step=0.01)
        return time.perf_counter()

    def pushed(self, sha: str) -> tuple[float, object]:
        """Seconds from the push (on an idle worker) to the deployment's final state."""
        payload = push(loop.EXAMPLES, sha)  # GitHub's part, not timed
        begin = self.idle()
        answer = self.service.deliver("push", payload)
        assert answer.status_code == 202, answer.text
        done = self.final(answer.json()["id"])
        took = time.perf_counter() - begin
        self.tails.append(self.idle() - begin)
        return took, done

    def forced(self, sha: str) -> tuple[float, object]:
        begin = self.idle()
        answer = httpx.post(
            f"{self.service.url}/deployments",
            json={"sha": sha, "force": True},
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=10,
        )
        assert answer.status_code == 202, answer.text
        done = self.final(answer.json()["id"])
        took = time.perf_counter() - begin
        self.idle()
        return took, done

    def path_of(self, deployment) -> str:
        return self.service.store.applies_of(deployment.id)[0].path


def compose(repo: DemoRepo, *args: str) -> float:
    env = {**os.environ, "COMPOSE_BAKE": "false"}
    begin = time.perf_counter()
    subprocess.run([*loop.compose_command(repo), *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - begin


def measure(tmp: Path) -> dict[str, list[float]]:
    names = ("unchanged", "unchanged_job", "forced", "compose_noop", "crash", "compose_crash")
    times: dict[str, list[float]] = {name: [] for name in names}
    suffix = uuid.uuid4().hex[:8]
    repo = DemoRepo.create(tmp / "repo", f"u{suffix}", f"slipway-u{suffix}", free_port())
    peer = DemoRepo.create(tmp / "peer", f"p{suffix}", f"compose-p{suffix}", free_port())
    with loop.slipway_on(tmp, repo, SETTINGS) as (service, _):
        ours = Slipway(service, repo)
        try:
            _, first = ours.pushed(repo.healthy("good"))
            assert first.state == S.SUCCEEDED, first
            peer.healthy("good")
            compose(peer, "up", "-d", "--build", "--wait")
            for n in range(NOOP_ROUNDS):
                took, done = ours.pushed(doc_commit(repo, n))
                assert done.state == S.SUCCEEDED and ours.path_of(done) == "unchanged", done
                times["unchanged"].append(took)
                times["unchanged_job"].append(ours.tails[-1])
                times["compose_noop"].append(compose(peer, "up", "-d"))
                took, done = ours.forced(git(repo.path, "rev-parse", "HEAD"))
                assert done.state == S.SUCCEEDED and ours.path_of(done) == "up", done
                times["forced"].append(took)
            for n in range(CRASH_ROUNDS):
                good = repo.healthy(f"good{n}")
                _, done = ours.pushed(good)
                assert done.state == S.SUCCEEDED, done
                took, done = ours.pushed(repo.crashing(f"bad{n}"))
                assert done.state == S.ROLLED_BACK, done
                assert loop.answers(repo.health_url, f"ok release=good{n}")
                times["crash"].append(took)
                times["compose_crash"].append(by_hand_crash(peer, n))
        finally:
            subprocess.run([*loop.compose_command(peer), "down", "-v"], capture_output=True)
    return times


def by_hand_crash(peer: DemoRepo, n: int) -> float:
    """A person with Compose: bad release up, notice its exited web, the good one back."""
    good = peer.healthy(f"good{n}")
    compose(peer, "up", "-d", "--build", "--wait")
    peer.crashing(f"bad{n}")
    web = f"{peer.project}-web-1"
    begin = time.perf_counter()
    compose(peer, "up", "-d", "--build")
    loop.wait_for(lambda: docker_inspect("{{.State.Status}}", web) == "exited", step=0.05)
    git(peer.path, "checkout", "-q", good, "--", "stacks")
    compose(peer, "up", "-d", "--build", "--wait")
    loop.wait_for(lambda: loop.answers(peer.health_url, f"ok release=good{n}"), step=0.05)
    took = time.perf_counter() - begin
    git(peer.path, "checkout", "-q", "main", "--", "stacks")
    return took


def report(times: dict[str, list[float]]) -> str:
    med = {k: statistics.median(v) for k, v in times.items()}
    return "\n".join(
        [
            "## Unchanged deploys and crashing releases (`bench/bench_unchanged.py`)",
            "",
            f"{date.today().isoformat()}, Python {platform.python_version()}, load average "
            f"{os.getloadavg()[0]:.1f} at the end. "
            "The service with the AutomationRunner, the real CLI, provider and engine, a git "
            "repository of demo-app releases; health checks every 0.5 s, 2 passes in a row "
            "(1 on the unchanged path), 10 s deadline; the deploy worker at Compose's CPU "
            "priority (`SLIPWAY_DEPLOY_CPU_IDLE=false`, `SLIPWAY_DEPLOY_NICE=0`: with the "
            "production default, idle CPU group, a machine loaded by other jobs measures "
            "those jobs); each push waits for an idle worker. Peer in the same run: "
            "`docker compose up -d` of the same files on the same engine.",
            "",
            "| measure | Slipway (s) | Compose (s) | ratio |",
            "|---|---|---|---|",
            f"| no-op push, unchanged path (accepted → `succeeded`, health checked), median "
            f"of {NOOP_ROUNDS} | {med['unchanged']:.2f} | {med['compose_noop']:.2f} "
            f"(`up -d` no-op) | {med['unchanged'] / med['compose_noop']:.2f}x |",
            f"| the same push: until the worker is idle again (the `slipway:healthy-sha` tag "
            f"written by the CLI, the worktree removed) | {med['unchanged_job']:.2f} | "
            f"{med['compose_noop']:.2f} | {med['unchanged_job'] / med['compose_noop']:.2f}x |",
            f"| the same push with `force` (full `up`, the path every no-op took before) | "
            f"{med['forced']:.2f} | {med['compose_noop']:.2f} | "
            f"{med['forced'] / med['compose_noop']:.2f}x |",
            f"| crash-at-start release: push → previous release answering again, median of "
            f"{CRASH_ROUNDS} | {med['crash']:.2f} | {med['compose_crash']:.2f} (by hand) | "
            f"{med['crash'] / med['compose_crash']:.2f}x |",
            "",
            "Rounds alternate between Slipway and Compose. The no-op by Compose checks no "
            "health; Slipway's unchanged path proves the engine runs the healthy deployment's "
            "containers and probes the health URL once. The crash by hand counts a person "
            "who notices the exited container at once (polled every 50 ms); Slipway's counts "
            "the build and `up` of the bad release, the crash ending the health wait "
            "(webhook/orchestrator/release_watch.py) and the rollback `up`.",
            "",
            loop.every_run(times),
        ]
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        times = measure(Path(tmp))
    loop.publish("unchanged", report(times))


if __name__ == "__main__":
    main()
