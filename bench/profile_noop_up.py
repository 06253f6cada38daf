"""Where a cold and a no-op `up` of the demo stack spend their time (issue 35).

Deploys the demo stack cold, then runs the same `up` again (nothing changed), each with the
JSON protocol of `webhook.runners.stack_process`, and stamps:
- each line as it arrives: the engine's prelude, the first and last resource events, the
  summary, the result and the process's exit;
- each CLI command the run made, from its start to its end (a wrapper on PATH logs them);
- each resource's step, from its pre-event to its outputs event (image builds, the waits
  for healthy containers).
Beside it, the pieces measured alone: the interpreter with the child's and the program's
imports, the CLI's start (`pulumi version`), each `docker compose` run of the program,
the build-context hashing and the engine questions. Prints tables; writes nothing (a
profile, not a benchmark to track; docs/performance.md keeps its before/after).

Run with the toolchain's environment: `scripts/with-toolchain.sh .venv/bin/python
bench/profile_noop_up.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from pathlib import Path

from tests.support.demo_repo import DemoRepo
from tests.support.ports import free_port
from tests.support.real_stack import REPO_ROOT, pulumi_env, remove_project_containers

ROUNDS = 3
COMPOSE = str(Path(sys.executable).parent / "docker-compose")
PROGRAM_IMPORTS = (
    "import pulumi_docker, components.config, components.compose_stack, "
    "components.compose_stack.routes, components.github.workflow"
)


def timed(command: list[str], **options) -> float:
    begin = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True, timeout=600, **options)
    return time.perf_counter() - begin


def cli_logger(folder: Path, log: Path, env: dict[str, str]) -> dict[str, str]:
    """`env` with a `pulumi` first on PATH that logs `<epoch> start|end <command>` to `log`."""
    real = shutil.which("pulumi", path=env.get("PATH"))
    assert real, "the Pulumi CLI is not on PATH: run with scripts/with-toolchain.sh"
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "pulumi"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s start %s\\n" "$(date +%s.%N)" "$1 $2 $3" >> "{log}"\n'
        f'"{real}" "$@"\nrc=$?\n'
        f'printf "%s end %s\\n" "$(date +%s.%N)" "$1 $2 $3" >> "{log}"\nexit $rc\n'
    )
    script.chmod(0o755)
    return {**env, "PATH": f"{folder}{os.pathsep}{env.get('PATH', '')}"}


def cli_spans(log: Path, begin_epoch: float) -> dict[str, float]:
    """`<command> (n)` -> seconds the CLI run took, from the wrapper's log."""
    spans: dict[str, float] = {}
    started: dict[str, float] = {}
    for line in log.read_text().splitlines() if log.exists() else []:
        stamp, kind, command = line.split(" ", 2)
        words = [w for w in command.split() if not w.startswith("-")][:2]
        name = "`pulumi " + " ".join(words) + "`"
        if kind == "start":
            started[name] = float(stamp)
            spans.setdefault(f"{name} starts at", float(stamp) - begin_epoch)
        elif name in started:
            spans[f"{name} runs"] = float(stamp) - started.pop(name)
    return spans


def destroy(repo: DemoRepo, env: dict[str, str], check: bool = False) -> None:
    """`pulumi destroy` of the repo's stack; unless `check`, best effort, and whatever the
    project left on the engine is removed too (a bench's cleanup)."""
    subprocess.run(
        ["pulumi", "destroy", "--yes", "--skip-preview", "--stack", repo.stack],
        cwd=repo.path, env=env, capture_output=True, timeout=600, check=check,
    )  # fmt: skip
    if not check:
        remove_project_containers(repo.project)


def stamped_up(repo: DemoRepo, env: dict[str, str], log: Path) -> dict[str, dict[str, float]]:
    """Seconds from the start to each milestone of one `up`, each CLI run's span and each
    resource step's span (json protocol)."""
    command = [
        sys.executable, "-m", "webhook.runners.stack_process", "up", "--stack", repo.stack,
        "--work-dir", str(repo.path), "--protocol", "json",
    ]  # fmt: skip
    log.write_text("")
    begin_epoch = time.time()
    begin = time.perf_counter()
    marks: dict[str, float] = {}
    steps: dict[str, float] = {}
    pre: dict[str, float] = {}
    process = subprocess.Popen(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    for line in process.stdout:
        now = time.perf_counter() - begin
        marks.setdefault("first line", now)
        record = json.loads(line) if line.startswith("{") else {}
        event = record.get("event") or {}
        if "preludeEvent" in event:
            marks.setdefault("engine prelude", now)
        if "resourcePreEvent" in event:
            marks.setdefault("first resource event", now)
            meta = event["resourcePreEvent"]["metadata"]
            pre[meta["urn"]] = now
        if "resOutputsEvent" in event:
            marks["last resource outputs"] = now
            meta = event["resOutputsEvent"]["metadata"]
            if meta["urn"] in pre:
                steps[step_name(meta)] = now - pre[meta["urn"]]
        if "summaryEvent" in event:
            marks["summary"] = now
        if "result" in record:
            marks["result"] = now
    process.wait()
    marks["exit"] = time.perf_counter() - begin
    return {"marks": marks, "cli": cli_spans(log, begin_epoch), "steps": steps}


def step_name(meta: dict) -> str:
    """`<type> <name> (<op>)`, the name without the project prefix."""
    urn = meta["urn"]
    name = urn.rsplit("::", 1)[-1]
    kind = meta.get("type", "").rsplit(":", 1)[-1]
    short = name.split("-", 2)[-1] if name.startswith("slipway-") else name
    return f"{kind} {short} ({meta.get('op')})"


def medians(runs: list[dict[str, float]]) -> dict[str, float]:
    keys: dict[str, None] = {}
    for run in runs:
        keys.update(dict.fromkeys(run))
    return {k: statistics.median(r[k] for r in runs if k in r) for k in keys}


def pieces(repo: DemoRepo, env: dict[str, str]) -> dict[str, list[float]]:
    """The parts of an `up`, each run alone ROUNDS times."""
    compose = [COMPOSE, "-p", repo.project, "-f", str(repo.path / "stacks/demo/compose.yml")]
    code = (
        "import sys, time; sys.path.insert(0, '.'); from pathlib import Path; "
        "from components.compose_stack import images, engine; t = time.perf_counter(); "
        "[images.context_digest(Path('stacks/demo') / c) for c in ('db', 'web', 'worker')]; "
        "h = time.perf_counter(); engine.read([f'{sys.argv[1]}-{s}-1' for s in "
        "('db', 'web', 'worker')]); print(h - t, time.perf_counter() - h)"
    )
    out: dict[str, list[float]] = defaultdict(list)
    for _ in range(ROUNDS):
        out["python + the child's imports (stack_process)"].append(
            timed([sys.executable, "-c", "import webhook.runners.stack_process"], cwd=REPO_ROOT)
        )
        out["python + the program's imports"].append(
            timed([sys.executable, "-c", PROGRAM_IMPORTS], cwd=repo.path)
        )
        out["`pulumi version` (CLI start)"].append(timed(["pulumi", "version"], env=env))
        out["`docker compose config --format json`"].append(
            timed([*compose, "config", "--format", "json"], env=env)
        )
        out["`docker compose config --hash *`"].append(
            timed([*compose, "config", "--hash", "*"], env=env)
        )
        out["`docker compose version --short`"].append(
            timed([COMPOSE, "version", "--short"], env=env)
        )
        done = subprocess.run(
            [sys.executable, "-c", code, repo.project], cwd=repo.path, env=env,
            capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        hashing, engine = (float(x) for x in done.stdout.split())
        out["build-context hashing (3 contexts, in process)"].append(hashing)
        out["engine questions (`docker version` + `inspect`)"].append(engine)
    return out


def table(title: str, values: dict[str, float]) -> list[str]:
    rows = [f"| {title} | s |", "|---|---|"]
    rows += [f"| {name} | {value:.2f} |" for name, value in values.items()]
    return [*rows, ""]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        suffix = uuid.uuid4().hex[:8]
        repo = DemoRepo.create(Path(tmp) / "repo", f"f{suffix}", f"slipway-f{suffix}", free_port())
        log = Path(tmp) / "cli.log"
        env = cli_logger(Path(tmp) / "wrapper", log, {**os.environ, **pulumi_env(Path(tmp) / "b")})
        cold: list[dict] = []
        noop: list[dict] = []
        try:
            for _ in range(ROUNDS):
                cold.append(stamped_up(repo, env, log))
                noop.append(stamped_up(repo, env, log))
                destroy(repo, env, check=True)
            stamped_up(repo, env, log)
            alone = pieces(repo, env)
        finally:
            destroy(repo, env)
    print(f"`up` of the demo stack, medians of {ROUNDS} (load {os.getloadavg()[0]:.1f})\n")
    for label, runs in (("cold", cold), ("no-op", noop)):
        print(
            "\n".join(
                table(f"{label}: milestone (s from start)", medians([r["marks"] for r in runs]))
            )
        )
        print("\n".join(table(f"{label}: CLI run", medians([r["cli"] for r in runs]))))
        print("\n".join(table(f"{label}: resource step", medians([r["steps"] for r in runs]))))
    print(
        "\n".join(
            table("piece measured alone", {k: statistics.median(v) for k, v in alone.items()})
        )
    )


if __name__ == "__main__":
    main()
