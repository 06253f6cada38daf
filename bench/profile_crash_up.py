"""Where the two `up`s of a crash-at-start release spend their time (issue 35).

A healthy release of the demo stack is deployed, then one whose web container exits at once
(`DemoRepo.crashing`), then the healthy files again (the rollback), each with the JSON
protocol of `webhook.runners.stack_process`, as `bench/profile_noop_up.py` stamps one `up`:
its milestones, its CLI runs and each resource step (pre-event to outputs). Shows whether
the bad release's `up` waits on something the crashed container never gives (a health wait,
the provider's start checks) and what the rollback's `up` repeats. Prints tables; writes
nothing. The service's own steps around them (fingerprint, crash seen, rollback checkout,
health) are in `bench/bench_unchanged.py`'s table.

Run with the toolchain's environment: `scripts/with-toolchain.sh .venv/bin/python
bench/profile_crash_up.py`.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from bench.profile_noop_up import cli_logger, destroy, medians, stamped_up, table
from tests.support.demo_repo import DemoRepo
from tests.support.git import git
from tests.support.ports import free_port
from tests.support.real_stack import pulumi_env

ROUNDS = 3


def main() -> None:
    runs: dict[str, list[dict]] = {"bad release": [], "rollback": []}
    with tempfile.TemporaryDirectory() as tmp:
        suffix = uuid.uuid4().hex[:8]
        repo = DemoRepo.create(Path(tmp) / "repo", f"c{suffix}", f"slipway-c{suffix}", free_port())
        log = Path(tmp) / "cli.log"
        env = cli_logger(Path(tmp) / "wrapper", log, {**os.environ, **pulumi_env(Path(tmp) / "b")})
        try:
            for n in range(ROUNDS):
                good = repo.healthy(f"good{n}")
                stamped_up(repo, env, log)
                repo.crashing(f"bad{n}")
                runs["bad release"].append(stamped_up(repo, env, log))
                git(repo.path, "checkout", "-q", good, "--", "stacks")  # the rollback's files
                runs["rollback"].append(stamped_up(repo, env, log))
                git(repo.path, "checkout", "-q", "HEAD", "--", "stacks")
        finally:
            destroy(repo, env)
    print(f"crash-at-start release, medians of {ROUNDS} (load {os.getloadavg()[0]:.1f})\n")
    for label, done in runs.items():
        marks = medians([r["marks"] for r in done])
        print("\n".join(table(f"{label}: milestone (s from start)", marks)))
        print("\n".join(table(f"{label}: CLI run", medians([r["cli"] for r in done]))))
        print("\n".join(table(f"{label}: resource step", medians([r["steps"] for r in done]))))


if __name__ == "__main__":
    main()
