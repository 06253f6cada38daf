"""Issue 35's deploy measures, against Docker Compose in the same run on the same engine:

- no-op redeploy: a push of a commit that changes nothing in the stack, accepted → the
  deployment final (`succeeded`, health checked), through the service; the same commit
  with `force` (the full `up`: what every no-op push cost before the unchanged path); and
  `docker compose up -d` of unchanged files. Median of 5 alternating rounds.
- crash at start: a push of a release whose web container exits at once → the previous
  release answering again (the deployment `rolled_back`); by hand: `docker compose up -d
  --build` of the bad release, noticing the exited container (polled), checking out the
  good commit and `docker compose up -d --build --wait` again. Median of 3 rounds.
- where Slipway's time goes: each step of those no-op and crash deployments, from the
  times of their log lines (`UNCHANGED_STEPS`, `CRASH_STEPS`).

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
from datetime import UTC, date, datetime
from pathlib import Path

import httpx

from bench import demo_loop as loop
from tests.support.demo_repo import DemoRepo
from tests.support.git import git
from tests.support.live_service import API_TOKEN, SECRET, LiveService
from tests.support.payloads import push
from tests.support.ports import free_port
from tests.support.real_stack import docker_inspect
from tests.support.service import signed_delivery
from webhook.store.states import DeploymentState as S

# The deploy worker at Compose's priority: with the production default (its processes in
# an idle CPU group, nice 10) a machine loaded by other jobs measures those jobs.
SETTINGS = loop.HEALTH.model_copy(update={"deploy_cpu_idle": False, "deploy_nice": 0})
NOOP_ROUNDS = 5
CRASH_ROUNDS = 3
FINAL = (S.SUCCEEDED, S.FAILED, S.ROLLED_BACK, S.ROLLBACK_FAILED)
# Where a deployment's time goes: (step, the log line that ends it), in order; each step
# runs from the end of the one before (the first from the push) to its line's time.
UNCHANGED_STEPS = (
    ("accepted, the worker started", "state: running"),
    ("git: fetch, worktree", "checked out"),
    ("proof: fingerprint, engine read", "up skipped"),
    ("health check (1 pass, the watch)", "health: healthy"),
    ("recorded `succeeded`", "state: succeeded"),
)
CRASH_STEPS = (
    ("accepted to `up` starting (git, fingerprint)", "deploy: up starting"),
    ("`up` of the bad release", "deploy: up finished"),
    ("crash seen, `failed`", "state: failed"),
    ("rollback: git, path chosen", "rollback: up starting"),
    ("rollback `up`", "rollback: up finished"),
    ("rollback health (2 passes)", "health: healthy"),
    ("recorded `rolled_back`", "state: rolled_back"),
)


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
        self.client = httpx.Client(timeout=10)  # GitHub's connection set-up is not timed
        self.begun = 0.0  # wall clock of the last push, for `steps`

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
        signed = signed_delivery("push", push(loop.EXAMPLES, sha), secret=SECRET)  # GitHub's
        begin = self.idle()
        self.begun = time.time()
        answer = self.client.post(f"{self.service.url}/hooks/github", **signed)
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

    def steps(self, deployment_id: int, marks: tuple[tuple[str, str], ...]) -> dict[str, float]:
        """Seconds per step of the last push's deployment, from its log's times."""
        lines = self.service.store.read_log(deployment_id)
        out, last, index = {}, self.begun, 0
        for step, mark in marks:
            while index < len(lines) and mark not in lines[index].line:
                index += 1
            if index == len(lines):
                break
            at = datetime.strptime(lines[index].at, "%Y-%m-%dT%H:%M:%S.%fZ")
            now = at.replace(tzinfo=UTC).timestamp()
            out[step], last = now - last, now
        return out


def compose(repo: DemoRepo, *args: str) -> float:
    env = {**os.environ, "COMPOSE_BAKE": "false"}
    begin = time.perf_counter()
    subprocess.run([*loop.compose_command(repo), *args], env=env, check=True, capture_output=True)
    return time.perf_counter() - begin


def measure(tmp: Path) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """(times of each measure, per round; times of each step, per round)."""
    names = ("unchanged", "unchanged_job", "forced", "compose_noop", "crash", "compose_crash")
    times: dict[str, list[float]] = {name: [] for name in names}
    split: dict[str, list[float]] = {}
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
                for step, seconds in ours.steps(done.id, UNCHANGED_STEPS).items():
                    split.setdefault(f"no-op: {step}", []).append(seconds)
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
                for step, seconds in ours.steps(done.id, CRASH_STEPS).items():
                    split.setdefault(f"crash: {step}", []).append(seconds)
                times["compose_crash"].append(by_hand_crash(peer, n))
        finally:
            ours.client.close()
            subprocess.run([*loop.compose_command(peer), "down", "-v"], capture_output=True)
    return times, split


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


def report(times: dict[str, list[float]], split: dict[str, list[float]]) -> str:
    med = {k: statistics.median(v) for k, v in times.items()}

    def ratio(ours: str, theirs: str) -> str:
        return f"{med[ours] / med[theirs]:.2f}x"

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
            f"| no-op push, unchanged path (push → `succeeded`, health checked), median "
            f"of {NOOP_ROUNDS} | {med['unchanged']:.2f} | {med['compose_noop']:.2f} "
            f"(`up -d` no-op) | {ratio('unchanged', 'compose_noop')} |",
            f"| the same push: until the worker is idle again (the proof base recorded, "
            f"the worktree removed) | {med['unchanged_job']:.2f} | "
            f"{med['compose_noop']:.2f} | {ratio('unchanged_job', 'compose_noop')} |",
            f"| the same push with `force` (full `up`, the path every no-op took before) | "
            f"{med['forced']:.2f} | {med['compose_noop']:.2f} | "
            f"{ratio('forced', 'compose_noop')} |",
            f"| crash-at-start release: push → previous release answering again, median of "
            f"{CRASH_ROUNDS} | {med['crash']:.2f} | {med['compose_crash']:.2f} (by hand) | "
            f"{ratio('crash', 'compose_crash')} |",
            "",
            "Where Slipway's time goes (medians of the same rounds, from the times of the "
            "deployment's log lines; each step ends at the line named in `UNCHANGED_STEPS` "
            "and `CRASH_STEPS`):",
            "",
            *split_table(split),
            "",
            "How to read it: a push is timed from the signed delivery's POST (on an open "
            "connection, as GitHub's would be) to the deployment's final state in the "
            "store. Rounds alternate between Slipway and Compose. The no-op by Compose "
            "checks no health; Slipway's unchanged path renders the stack (Compose's model "
            "is reused while every file Compose reads is byte-identical: "
            "webhook/orchestrator/render_cache.py), proves the engine runs the healthy "
            "deployment's containers, probes the health URL once and leaves the "
            "`slipway:healthy-sha` tag as it is (no Pulumi CLI run). The crash by hand "
            "counts a person who notices the exited container at once (polled every 50 ms) "
            "and runs `up --build` of the good files; Slipway's counts the `up` of the bad "
            "release, the crash ending the health wait (webhook/orchestrator/"
            "release_watch.py), the rollback's full `up` and its two health passes. Both "
            "`up`s are full Pulumi runs: the crash ratio follows the full `up`'s speed "
            "(the section on the demo stack, `bench/bench_stack_up.py`). Each `up` gets "
            "the service's Compose render (no `docker compose` run in the program: "
            "webhook/orchestrator/render_handoff.py) and, after an earlier operation of "
            "the stack, a child whose imports are done (webhook/runners/standby.py); the "
            "bad `up` waits on nothing the crashed container never gives "
            "(`bench/profile_crash_up.py`).",
            "",
            loop.every_run(times),
        ]
    )


def split_table(split: dict[str, list[float]]) -> list[str]:
    """The median of each step, as table rows."""
    rows = ["| step (from the deployment's log) | median (s) |", "|---|---|"]
    rows += [f"| {step} | {statistics.median(v):.2f} |" for step, v in split.items()]
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        times, split = measure(Path(tmp))
    loop.publish("unchanged", report(times, split))


if __name__ == "__main__":
    main()
