"""Benchmark the health-gated cutover against today's in-place replacement, under load.

The real service deploys the demo stack (signed push → `pulumi up` → containers → health),
once with web routed through Slipway's proxy (stacks/demo/routed.yml, docs/cutover.md) and
once as today (stacks/demo/compose.yml: web publishes its port, replaced in place). A load
generator on 127.0.0.1 sends a constant 200 requests/s (open loop: each request leaves at
its scheduled time, whatever the answers before it) to a static file of web that names
its release (`/release.txt`; a turning release deletes it, and fails its health check). Scenarios:

- baseline: no deploy; p99 latency;
- healthy: a new image is deployed; failed requests, p99 against the baseline;
- bad candidate: the new release fails its health check; requests it answered, failures;
- turns unhealthy: the release fails ~30 s after the switch; time to switch back.

Run: `scripts/with-toolchain.sh .venv/bin/python bench/bench_cutover.py` (--no-write prints
only). Results go to docs/performance.md between `<!-- bench:cutover -->` markers.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.performance_doc import write_section
from tests.conftest import TOOLS_DIR
from tests.cutover.conftest import routed_loop
from tests.cutover.routed_repo import RoutedRepo, TurningRepo
from tests.e2e.test_deploy_loop import Loop
from tests.github_feedback.conftest import TOKEN
from tests.github_feedback.fake_github import FakeGitHub
from webhook.states import DeploymentState

S = DeploymentState
ROOT = Path(__file__).resolve().parent.parent
RATE = 200  # requests per second
LIMIT = 600.0  # seconds: no scenario's load runs longer
EXAMPLES = TOOLS_DIR / "@octokit" / "webhooks-examples" / "api.github.com"
TURN_AFTER = 33  # seconds from the release's first health probe (~30 s after the switch)


@dataclass
class Sample:
    sent: float  # monotonic time the request was scheduled
    ms: float
    status: int  # 0: no answer
    release: str


@dataclass
class Load:
    """`bench/load.py` at RATE on `url` in its own process, until the block ends (or LIMIT)."""

    url: str
    samples: list[Sample] = field(default_factory=list)
    process: subprocess.Popen | None = None

    def __enter__(self) -> Load:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.load", self.url, "--rate", str(RATE),
             "--limit", str(LIMIT)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        return self

    def __exit__(self, *_: object) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.close()  # the generator stops, prints its samples and exits
        assert self.process.stdout is not None
        out = self.process.stdout.read()
        self.process.wait(timeout=60)
        self.samples = [
            Sample(due, ms, status, text.rsplit("release=", 1)[-1])
            for due, ms, status, text in json.loads(out)
        ]


def p99(samples: list[Sample]) -> float:
    times = sorted(s.ms for s in samples)
    return times[max(int(len(times) * 0.99) - 1, 0)] if times else 0.0


@dataclass
class Result:
    mode: str
    scenario: str
    samples: list[Sample]
    new: str = ""
    note: str = ""

    @property
    def failed(self) -> list[Sample]:
        return [s for s in self.samples if s.status != 200]

    @property
    def by_new(self) -> int:
        return Counter(s.release for s in self.samples)[self.new] if self.new else 0

    def row(self, baseline: float) -> str:
        p = p99(self.samples)
        ratio = f"{p / baseline:.2f}×" if baseline else "-"
        return (
            f"| {self.mode} | {self.scenario} | {len(self.samples)} | {len(self.failed)} | "
            f"{self.by_new if self.new else '-'} | {p:.1f} ({ratio}) | {self.note} |"
        )


def deploy_under_load(loop: Loop, sha: str, settle: float = 2.0) -> tuple[list[Sample], list]:
    with Load(loop.repo.release_url) as load:
        time.sleep(1)
        deployment = loop.wait(loop.push(sha), S.SUCCEEDED, S.ROLLED_BACK, S.ROLLBACK_FAILED)
        time.sleep(settle)
    return load.samples, loop.log(deployment.id)


def baseline(loop: Loop, seconds: float) -> list[Sample]:
    with Load(loop.repo.release_url) as load:
        time.sleep(seconds)
    return load.samples


def switch_back_note(log: list[str], samples: list[Sample]) -> str:
    back = [line for line in log if "cutover: switched back" in line]
    failed = [s.sent for s in samples if s.status != 200]
    gap = f"; users saw failures for {max(failed) - min(failed):.2f} s" if failed else ""
    if not back:
        return "not switched back: nothing watches the release after its check" + gap
    seconds = back[0].split(" s after the failure")[0].rsplit(" ", 1)[-1]
    return f"switched back {seconds} s after detection{gap}"


def run_mode(mode: str, repo_class: type[TurningRepo], github: FakeGitHub) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp, routed_loop(
        Path(tmp), github, EXAMPLES, repo_class,
        watch_seconds=45, watch_failures=3, watch_interval_seconds=0.5, drain_seconds=2,
    ) as loop:  # fmt: skip
        first = loop.wait(loop.push(loop.repo.healthy("r1")))
        assert first.state == S.SUCCEEDED, loop.log(first.id)[-20:]
        results.append(Result(mode, "baseline, no deploy", baseline(loop, 20)))
        samples, _ = deploy_under_load(loop, loop.repo.healthy("r2"))
        results.append(Result(mode, "healthy deploy (new image)", samples, "r2"))
        samples, _ = deploy_under_load(loop, loop.repo.unhealthy("bad"))
        results.append(Result(mode, "bad candidate (fails its check)", samples, "bad"))
        sha = loop.repo.turning_unhealthy("turning", TURN_AFTER)
        with Load(loop.repo.release_url) as load:
            deployment = loop.wait(loop.push(sha), S.SUCCEEDED, S.ROLLED_BACK, S.ROLLBACK_FAILED)
            if deployment.state == S.SUCCEEDED:  # in place: nothing watches; wait for the turn
                time.sleep(TURN_AFTER + 10)
            time.sleep(2)
        log = loop.log(deployment.id)
        note = switch_back_note(log, load.samples)
        results.append(Result(mode, "turns unhealthy after the switch", load.samples, "", note))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    with FakeGitHub(TOKEN) as github:
        results = []
        for mode, repo_class in (("cutover (routed)", RoutedRepo), ("in place", TurningRepo)):
            results += run_mode(mode, repo_class, github)
            print(*(r.row(p99(results[0].samples)) for r in results), sep="\n", flush=True)
    rows = []
    for mode in dict.fromkeys(r.mode for r in results):
        ours = [r for r in results if r.mode == mode]
        base = p99(ours[0].samples)
        rows += [r.row(base) for r in ours]
    text = "\n".join(
        [
            "## Health-gated cutover under load (`bench/bench_cutover.py`)",
            "",
            f"`bench/bench_cutover.py` on {platform.python_implementation()} "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}: the real service, CLI, "
            f"provider and engine; {RATE} requests/s (open loop, httpx on 127.0.0.1) to the web "
            "static `/release.txt` (busybox httpd) through the proxy (routed) or the "
            "published port (in place), during each deployment. Watch window 45 s, 3 failed "
            "rounds 0.5 s apart switch back. p99 is from each request's scheduled time; the "
            "ratio is to that mode's baseline.",
            "",
            "| mode | scenario | requests | failed | answered by the new release | p99 ms "
            "(× baseline) | note |",
            "|---|---|---:|---:|---:|---:|---|",
            *rows,
        ]
    )
    print(text)
    if not args.no_write:
        write_section("cutover", text)


if __name__ == "__main__":
    main()
