"""The deploy loop on the real parts: how fast a push starts `up`, how fast a failed release
is replaced by the old one again, and what a no-op redeploy costs.

Slipway: the service (uvicorn, loopback) with the AutomationRunner on the real CLI, the
bridged docker provider and our engine, a real git repository whose commits are releases of
the demo app (tests/support/demo_repo.py). The peer, measured in the same run on the same
engine: the same releases handled by hand with `docker compose up -d` (what a person does
when a release is bad: check out the old commit and bring it up again).

Run with the toolchain's environment: `scripts/with-toolchain.sh .venv/bin/python
bench/bench_deploy_loop.py` (`make bench` does).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.demo_loop import (
    EXAMPLES,
    HEALTH,
    answers,
    compose_command,
    every_run,
    publish,
    slipway_on,
    wait_for,
)
from tests.support.demo_repo import DemoRepo
from tests.support.git import git
from tests.support.payloads import push
from tests.support.ports import free_port
from tests.support.real_stack import REPO_ROOT
from webhook.store.states import DeploymentState as S

ROUNDS = 3


def slipway_rounds(tmp: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"start": [], "restore": [], "noop": []}
    suffix = uuid.uuid4().hex[:8]
    repo = DemoRepo.create(tmp / "repo", f"b{suffix}", f"slipway-b{suffix}", free_port())
    with slipway_on(tmp, repo, HEALTH) as (service, env):
        store = service.store

        def deliver(sha: str) -> tuple[int, float]:
            answer = service.deliver("push", push(EXAMPLES, sha))
            assert answer.status_code == 202, answer.text
            return answer.json()["id"], time.perf_counter()

        def final(deployment_id: int):
            return wait_for(
                lambda: (
                    (d := store.get_deployment(deployment_id)).state
                    in (S.SUCCEEDED, S.FAILED, S.ROLLED_BACK, S.ROLLBACK_FAILED)
                    and d
                )
            )

        for n in range(ROUNDS):
            good = repo.healthy(f"good{n}")
            deployment_id, accepted = deliver(good)
            wait_for(
                lambda i=deployment_id: any("up starting" in x.line for x in store.read_log(i))
            )
            times["start"].append(time.perf_counter() - accepted)
            assert final(deployment_id).state == S.SUCCEEDED

            bad = repo.unhealthy(f"bad{n}")
            deployment_id, _ = deliver(bad)
            wait_for(lambda n=n: answers(repo.health_url, f"broken release=bad{n}"), step=0.05)
            broken_at = time.perf_counter()  # the bad release answers users from here
            wait_for(lambda n=n: answers(repo.health_url, f"ok release=good{n}"), step=0.05)
            times["restore"].append(time.perf_counter() - broken_at)
            assert final(deployment_id).state == S.ROLLED_BACK

            stack_up(repo, env)  # the checkout's commit, so that the next `up` is a no-op
            times["noop"].append(stack_up(repo, env))
    return times


def stack_up(repo: DemoRepo, env: dict[str, str]) -> float:
    """`up` of the repository's checked-out commit, as `make up` runs it; seconds taken."""
    begin = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "webhook.runners.stack_process", "up", "--stack", repo.stack,
         "--work-dir", str(repo.path)],
        cwd=REPO_ROOT, env={**os.environ, **env}, capture_output=True, timeout=600, check=True,
    )  # fmt: skip
    return time.perf_counter() - begin


def compose_rounds(tmp: Path) -> dict[str, list[float]]:
    """The peer: a person with `docker compose up -d`, the same releases, the same engine."""
    times: dict[str, list[float]] = {"restore": [], "noop": []}
    suffix = uuid.uuid4().hex[:8]
    repo = DemoRepo.create(tmp / "compose-repo", f"c{suffix}", f"compose-c{suffix}", free_port())
    compose = compose_command(repo)
    env = {**os.environ, "COMPOSE_BAKE": "false"}
    try:
        for n in range(ROUNDS):
            good = repo.healthy(f"good{n}")
            subprocess.run([*compose, "up", "-d", "--build", "--wait"], env=env, check=True,
                           capture_output=True)  # fmt: skip
            repo.unhealthy(f"bad{n}")
            subprocess.run([*compose, "up", "-d", "--build"], env=env, check=True,
                           capture_output=True)  # fmt: skip
            wait_for(lambda n=n: answers(repo.health_url, f"broken release=bad{n}"), step=0.05)
            broken_at = time.perf_counter()
            git(repo.path, "checkout", "-q", good, "--", "stacks")
            subprocess.run([*compose, "up", "-d", "--build"], env=env, check=True,
                           capture_output=True)  # fmt: skip
            wait_for(lambda n=n: answers(repo.health_url, f"ok release=good{n}"), step=0.05)
            times["restore"].append(time.perf_counter() - broken_at)
            git(repo.path, "checkout", "-q", "main", "--", "stacks")
            begin = time.perf_counter()
            subprocess.run([*compose, "up", "-d"], env=env, check=True, capture_output=True)
            times["noop"].append(time.perf_counter() - begin)
    finally:
        subprocess.run([*compose, "down", "-v"], env=env, capture_output=True)
    return times


def report(ours: dict[str, list[float]], peer: dict[str, list[float]]) -> str:
    med = statistics.median
    runs = {
        f"{who} {k}": v
        for who, data in (("Slipway", ours), ("compose", peer))
        for k, v in data.items()
    }
    return "\n".join(
        [
            "## The deploy loop on the real parts",
            "",
            "`bench/bench_deploy_loop.py`: the service with the AutomationRunner, the real CLI,"
            " provider and engine, a git repository of demo-app releases; medians of "
            f"{ROUNDS} rounds. Health checks every 0.5 s, 2 passes in a row, 10 s deadline. "
            "Peer in the same run: the same releases by hand with `docker compose up -d`.",
            "",
            "| measure | Slipway (s) | by hand with Compose (s) | ratio |",
            "|---|---|---|---|",
            f"| accepted push → `up` started | {med(ours['start']):.2f} | — | — |",
            f"| bad release answering → old release answering again | "
            f"{med(ours['restore']):.2f} | {med(peer['restore']):.2f} | "
            f"{med(ours['restore']) / med(peer['restore']):.1f}x |",
            f"| no-op redeploy | {med(ours['noop']):.2f} | {med(peer['noop']):.2f} | "
            f"{med(ours['noop']) / med(peer['noop']):.1f}x |",
            "",
            "The restore time by hand counts only `docker compose up -d` of the old commit "
            "(the person has already noticed and checked it out); Slipway's counts noticing "
            "too: the health checks must fail until their deadline (10 s here, 120 s by "
            "default) before the rollback `up` starts. Health-gated cutover removes this "
            "window for routed services (docs/cutover.md).",
            "",
            every_run(runs),
        ]
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ours = slipway_rounds(Path(tmp))
        peer = compose_rounds(Path(tmp))
    publish("deploy-loop", report(ours, peer))


if __name__ == "__main__":
    main()
