"""A bad release on the 3-node lab Swarm: Slipway's whole-stack rollback against
`docker stack deploy` with `update_config.failure_action: rollback`, on the same Swarm.

The stack is tests/support/swarm/app (api global on 3 nodes with a host-mode port, worker 2
replicas on the workers); the bad release's api fails its healthcheck, its worker is
healthy. Each round, alternating:

- Slipway: the service with the AutomationRunner (bench/bench_unchanged.py's `Slipway`)
  deploying a git repository of releases; push of the good release (`succeeded`), then of
  the bad one: seconds from the push to the deployment `rolled_back` (every service
  converged on the previous release, health checked); then every service's spec and
  running tasks are checked to be the previous release's images.
- `docker stack deploy` of the same file with `failure_action: rollback` on both
  services: the good release deployed and converged, then the bad one: seconds from the
  deploy until Swarm's rollback of api has completed, and how many services it left on
  the bad release once nothing is updating (its exit code is recorded too).

Needs root (the lab: scripts/swarm-lab.sh). Run with the toolchain's environment:
`sudo scripts/with-toolchain.sh .venv/bin/python bench/bench_swarm.py [--no-write]`
(`make bench` does). `--rounds N` sets the rounds (default 3).
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path

from bench import demo_loop as loop
from bench.bench_unchanged import SETTINGS, Slipway
from tests.support.ports import free_port
from tests.support.swarm import equivalence as eq
from tests.support.swarm.lab import SwarmLab, missing_parts, start_lab
from tests.support.swarm.swarm_repo import COMPOSE, IMAGES, SwarmRepo, build_release, image
from webhook.store.states import DeploymentState as S

ROUNDS = 3
GOOD, BAD = "benchgood", "benchbad"
SETTLED = ("", "completed", "rollback_completed")  # UpdateStatus.State: nothing in progress


def on_release(repo: SwarmRepo, release: str) -> list[str]:
    """The services whose spec and every running task are on `release`'s image."""
    return [
        s
        for s in IMAGES
        if repo.spec_image(s) == image(s, release) and repo.running_images(s) == {image(s, release)}
    ]


def settled_on(repo: SwarmRepo, release: str) -> bool:
    """Every service on `release`, no update in progress."""
    return len(on_release(repo, release)) == len(IMAGES) and all(
        repo.update_state(s) in SETTLED for s in IMAGES
    )


class StackDeploy:
    """The peer: `docker stack deploy` of the same releases with failure_action rollback."""

    def __init__(self, repo: SwarmRepo) -> None:
        self.repo = repo
        compose = repo.path / COMPOSE
        text = compose.read_text().replace("monitor: 3s}", "monitor: 3s, failure_action: rollback}")
        assert text.count("failure_action: rollback") == len(IMAGES), text
        # stack deploy reads the 3.x schema: a config's `content` is not in it, `file` is.
        motd = re.search(r'content: "(.*)"', text)
        assert motd, text
        (compose.parent / "motd.txt").write_text(motd[1])
        compose.write_text(text.replace(motd[0], "file: ./motd.txt"))
        self.exit_codes: list[int] = []

    def deploy(self, release: str) -> None:
        self.repo.release(release)
        done = eq.stack_deploy(self.repo.lab, [self.repo.path / COMPOSE], self.repo.project, {})
        assert done.returncode == 0, done.stderr
        self.exit_codes.append(done.returncode)

    def bad_round(self) -> tuple[float, list[str]]:
        """Seconds from the bad release's deploy to api rolled back by Swarm; the services
        left on the bad release once nothing updates."""
        self.deploy(GOOD)
        loop.wait_for(lambda: settled_on(self.repo, GOOD), step=0.2)
        begin = time.perf_counter()
        self.deploy(BAD)
        loop.wait_for(
            lambda: (
                self.repo.update_state("api") == "rollback_completed"
                and "api" in on_release(self.repo, GOOD)
            ),
            step=0.1,
        )
        took = time.perf_counter() - begin
        loop.wait_for(lambda: all(self.repo.update_state(s) in SETTLED for s in IMAGES), step=0.2)
        return took, on_release(self.repo, BAD)


def rounds(argv: list[str]) -> int:
    """`--rounds N` of the command line, else ROUNDS."""
    return int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else ROUNDS


def measure(tmp: Path, lab: SwarmLab, count: int) -> tuple[dict[str, list[float]], dict]:
    build_release(lab, GOOD)
    build_release(lab, BAD, healthy=False)
    suffix = uuid.uuid4().hex[:6]
    repo = SwarmRepo.create(tmp / "repo", f"w{suffix}", f"slipway-w{suffix}", free_port(), lab)
    peer = StackDeploy(
        SwarmRepo.create(tmp / "peer", f"sd{suffix}", f"sd{suffix}", free_port(), lab)
    )
    times: dict[str, list[float]] = {"slipway": [], "stack_deploy": []}
    facts: dict = {"left_bad": [], "notes": []}
    with loop.slipway_on(tmp, repo, SETTINGS) as (service, _):
        ours = Slipway(service, repo)
        try:
            for n in range(count):
                if not one_round(ours, repo, peer, times, facts):
                    facts["cut"] = f"round {n + 1} ran past the 300 s bound of a wait"
                    break
        finally:
            eq.stack_rm(lab, peer.repo.project)
    facts["exit_codes"] = peer.exit_codes
    return times, facts


def one_round(ours: Slipway, repo: SwarmRepo, peer: StackDeploy, times: dict, facts: dict) -> bool:
    """One alternating round; False when a bounded wait ran out (the rounds before stand)."""
    try:
        _, done = ours.pushed(repo.release(GOOD))
        assert done.state == S.SUCCEEDED, done
        took, done = ours.pushed(repo.release(BAD))
        assert done.state == S.ROLLED_BACK, done
        assert on_release(repo, GOOD) == list(IMAGES), "Slipway left a service behind"
        history = ours.service.store.state_history(done.id)
        facts["notes"].append(next(c.note for c in history if c.state == S.FAILED))
        times["slipway"].append(took)
        took, left = peer.bad_round()
        times["stack_deploy"].append(took)
        facts["left_bad"].append(left)
    except SystemExit as stuck:  # bench/demo_loop.py's bounded wait
        print(f"round cut: {stuck}\n{newest_deployment(ours)}", file=sys.stderr)
        return False
    ran = f"Slipway {times['slipway'][-1]:.1f} s, stack deploy {took:.1f} s"
    print(f"round: {ran}, left on the bad release: {left}", file=sys.stderr)
    return True


def newest_deployment(ours: Slipway) -> str:
    """The newest deployment's state and the end of its log: where a cut round stood."""
    store = ours.service.store
    newest = store.list_deployments(limit=1)
    if not newest:
        return "no deployment was recorded"
    lines = [line.line for line in store.read_log(newest[0].id, limit=10_000)]
    return f"deployment {newest[0].id}: {newest[0].state}\n" + "\n".join(lines[-40:])


def first_sentence(med: dict[str, float]) -> str:
    """Which tool was back first in this run's medians, and why it can differ."""
    if med["slipway"] > med["stack_deploy"]:
        return (
            "Swarm alone is faster to put the failing service back (it only rolls back api, "
            "on the node where its first new task failed)."
        )
    return (
        "Both columns include Swarm's own rollback of api, whose length varies from round "
        "to round (every run below): in this run's medians Slipway had every service back "
        "before Swarm had api alone back."
    )


def report(times: dict[str, list[float]], facts: dict) -> str:
    assert times["stack_deploy"], f"no round finished: {facts.get('cut')}"
    med = {k: statistics.median(v) for k, v in times.items()}
    rounds = len(times["stack_deploy"])
    cut = f" ({facts['cut']}: the machine was loaded by other jobs)" if "cut" in facts else ""
    left = facts["left_bad"][-1]
    codes = sorted(set(facts["exit_codes"]))
    note = facts["notes"][-1].split("; up failed:")[0]
    return "\n".join(
        [
            "## A bad release on a 3-node Swarm (`bench/bench_swarm.py`)",
            "",
            f"{date.today().isoformat()}, Python {platform.python_version()}, load average "
            f"{os.getloadavg()[0]:.1f} at the end; {rounds} round(s), alternating{cut}. The lab "
            "(scripts/swarm-lab.sh: 1 manager, 2 workers, each a dockerd in a network "
            "namespace of this machine) and tests/support/swarm/app: api global on the 3 nodes "
            "(host-mode port, healthcheck every 1 s, 3 retries), worker 2 replicas on the "
            "workers; `update_config: {parallelism: 1, monitor: 3s}`. The bad release's api "
            "fails its healthcheck, its worker is healthy. Slipway: the service with the "
            "AutomationRunner, the real CLI and provider, a push through the webhook; the "
            "deploy worker at normal CPU priority. Peer: `docker stack deploy` of the same "
            "file with `failure_action: rollback` on both services, on the same Swarm.",
            "",
            "| measure | Slipway (s) | `docker stack deploy` (s) |",
            "|---|---|---|",
            f"| bad release → the failing service (api) back on the previous release, median "
            f"| (within the next row) | {med['stack_deploy']:.1f} |",
            f"| bad release → **every** service on the previous release (Slipway: push → "
            f"`rolled_back`, health checked), median | {med['slipway']:.1f} | never: "
            f"{len(left)} of {len(IMAGES)} services left on the bad release "
            f"({', '.join(left) or 'none'}) |",
            f"| what CI is told | deployment `rolled_back`, deploy client exits 1 | exit "
            f"{', '.join(map(str, codes))} |",
            "",
            f"How to read it. {first_sentence(med)} Swarm's own rollback leaves the stack "
            "mixed: the healthy-looking worker stays on the bad release and `docker stack "
            "deploy` reported success. Slipway's time is the push, the `up` of the bad "
            "release until Swarm's rollback of api ends (the converge wait, "
            "components/swarm_stack/converge.py), then the `up` of the last healthy commit "
            "(worker rolled back task by task, `monitor: 3s` each) and its health checks: "
            "every service runs the previous release's image again, on every node. The "
            f"record's note: `{note}`.",
            "",
            loop.every_run(times),
        ]
    )


def main() -> None:
    missing = missing_parts()
    if missing:
        print(f"bench_swarm: skipped, the Swarm lab {'; '.join(missing)}", file=sys.stderr)
        return
    lab, started = start_lab()
    try:
        assert started.returncode == 0, f"swarm-lab.sh start failed:\n{started.stderr}"
        with tempfile.TemporaryDirectory() as tmp:
            times, facts = measure(Path(tmp), lab, rounds(sys.argv[1:]))
    finally:
        lab.script("stop")
    loop.publish("swarm", report(times, facts))


if __name__ == "__main__":
    main()
