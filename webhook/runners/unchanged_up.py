"""`make up`'s unchanged path: skip `pulumi up` when the last healthy `make up` vouches for it.

The service's proof (webhook/orchestrator/unchanged.py), for the CLI. After a `make up`
ends healthy, `record` keeps, per stack, the checkout's fingerprint (fingerprint.py), the
stack's outputs, the engine's containers (engine_state.py) and a hash of the stack's state
file. The next `make up` runs `check`: when the fingerprint, the state file and the engine
are all as recorded, it probes the recorded health checks once and `up` is skipped. Any
doubt runs the full `up`, and `check` forgets the proof first: `FORCE=1`, a backend that is
not a local folder, a state written by another `pulumi` run, a changed file or variable the
program reads, a container stopped, recreated, restarted or unhealthy, a failed probe.

    python -m webhook.runners.unchanged_up check --stack dev   # 0: skipped, healthy; 10: run up
    python -m webhook.runners.unchanged_up record --stack dev --summary FILE
    python -m webhook.runners.unchanged_up forget --stack dev
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from components.atomic_write import write_atomically
from webhook.health import HealthConfigError, HealthPolicy, check_health, parse_health_checks
from webhook.orchestrator import engine_state
from webhook.orchestrator.fingerprint import FingerprintError, fingerprint
from webhook.runners.summary import SummaryError, last_summary

FORMAT = "slipway-make-up-proof/1"
SKIPPED, RUN_UP = 0, 10
# One pass: the engine was just proved to run the healthy containers, unchanged.
UNCHANGED_HEALTH = HealthPolicy(interval_seconds=0.25, consecutive_passes=1, deadline_seconds=5)


class Doubt(Exception):
    """Why the recorded proof cannot vouch for this `make up`: the full `up` runs."""


def backend_dir(env: Mapping[str, str]) -> Path:
    """The local folder of the file backend; Doubt for any other backend."""
    url = env.get("PULUMI_BACKEND_URL", "")
    if not url.startswith("file://"):
        raise Doubt(f"the backend {url or '(Pulumi Cloud)'} is not a local folder (file://)")
    return Path(url.removeprefix("file://")).expanduser()


def proof_path(backend: Path, stack: str) -> Path:
    return backend / ".slipway" / "make-up" / f"{stack}.json"


def state_hash(backend: Path, project: str, stack: str) -> str:
    """SHA-256 of the stack's state file: another `pulumi` run that wrote it changes it."""
    folder = backend / ".pulumi" / "stacks" / project
    for name in (f"{stack}.json", f"{stack}.json.gz"):
        if (folder / name).is_file():
            return hashlib.sha256((folder / name).read_bytes()).hexdigest()
    raise Doubt(f"no state file for stack {stack} under {folder}")


def pulumi_project(tree: Path) -> str:
    return str((yaml.safe_load((tree / "Pulumi.yaml").read_text()) or {}).get("name", ""))


def current_proof(tree: Path, stack: str, env: Mapping[str, str]) -> dict[str, Any]:
    """What the proof compares: fingerprint, state file, engine (not yet the outputs)."""
    backend = backend_dir(env)
    try:
        printed = fingerprint(tree, stack, env)
    except FingerprintError as error:
        raise Doubt(f"fingerprint unknown: {error}") from error
    try:
        live = engine_state.read_project(printed.project, printed.docker_host)
    except engine_state.EngineError as error:
        raise Doubt(f"engine not read: {error}") from error
    return {
        "format": FORMAT,
        "fingerprint": printed.digest,
        "parts": printed.parts,
        "project": printed.project,
        "docker_host": printed.docker_host,
        "state": state_hash(backend, pulumi_project(tree), stack),
        "containers": {name: c.as_json() for name, c in live.items()},
    }


def compare(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Why `current` is not what `recorded` proved healthy; [] when it is (pure)."""
    if recorded.get("format") != FORMAT:
        return [f"the proof's format is {recorded.get('format')!r}, not {FORMAT}"]
    if recorded["fingerprint"] != current["fingerprint"]:
        names = [
            name
            for name in sorted(set(recorded["parts"]) | set(current["parts"]))
            if recorded["parts"].get(name) != current["parts"].get(name)
        ]
        return [f"the rendered stack changed: {', '.join(names) or 'fingerprint'}"]
    if recorded["state"] != current["state"]:
        return ["the stack's state was written since (another `pulumi` run)"]
    return engine_state.differences(
        engine_state.from_json(recorded["containers"]),
        engine_state.from_json(current["containers"]),
    )


def check(tree: Path, stack: str, env: Mapping[str, str], say) -> int:
    """SKIPPED when the proof holds and the health checks pass; else RUN_UP (proof forgotten)."""
    try:
        if env.get("FORCE"):
            raise Doubt("FORCE is set")
        path = proof_path(backend_dir(env), stack)
        if not path.is_file():
            raise Doubt("no healthy `make up` of this stack is recorded here")
        recorded = json.loads(path.read_text())
        problems = compare(recorded, current_proof(tree, stack, env))
        if problems:
            raise Doubt("; ".join(problems))
        report = check_health(
            parse_health_checks(recorded["outputs"].get("healthChecks")), UNCHANGED_HEALTH, say
        )
        if not report.healthy:
            raise Doubt(f"the health checks fail ({report.summary})")
    except (Doubt, HealthConfigError, OSError, ValueError, KeyError) as why:
        forget(stack, env)
        say(f"make up: full up: {why}")
        return RUN_UP
    urls = " ".join(str(c.get("url")) for c in recorded["outputs"].get("healthChecks") or [])
    say(
        f"make up: unchanged since the last healthy `make up` (fingerprint "
        f"{recorded['fingerprint'][:12]}, the state and {len(recorded['containers'])} "
        "containers as recorded): `pulumi up` skipped (FORCE=1 runs it)"
    )
    say(
        f"make up: stack '{stack}' unchanged and healthy."
        + (f" It answers at: {urls}" if urls else "")
    )
    return SKIPPED


def record(tree: Path, stack: str, env: Mapping[str, str], outputs: Mapping[str, Any]) -> str:
    """Keep the proof of a `make up` that just ended healthy; a line for the log."""
    try:
        proof = {**current_proof(tree, stack, env), "outputs": dict(outputs)}
        write_atomically(proof_path(backend_dir(env), stack), json.dumps(proof, indent=1))
    except (Doubt, OSError) as why:
        return f"make up: the next run is a full up ({why})"
    return f"make up: recorded as the proof of the next run ({len(proof['containers'])} containers)"


def forget(stack: str, env: Mapping[str, str]) -> None:
    with contextlib.suppress(Doubt):
        proof_path(backend_dir(env), stack).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webhook.runners.unchanged_up")
    parser.add_argument("operation", choices=("check", "record", "forget"))
    parser.add_argument("--stack", required=True)
    parser.add_argument("--summary", type=Path, help="record: the output of `stack_process up`")
    args = parser.parse_args(argv)
    tree, env = Path.cwd(), dict(os.environ)

    def say(line: str) -> None:
        print(line, flush=True)

    if args.operation == "check":
        return check(tree, args.stack, env, say)
    if args.operation == "record":
        if args.summary is None:
            parser.error("record needs --summary FILE")
        try:
            outputs = last_summary(args.summary.read_text()).get("outputs") or {}
        except SummaryError as error:
            say(f"make up: the next run is a full up ({error})")
            return 0
        say(record(tree, args.stack, env, outputs))
        return 0
    forget(args.stack, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
