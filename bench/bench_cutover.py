"""Benchmark the health-gated cutover against today's in-place replacement, under load.

The real service deploys the demo stack (signed push → `pulumi up` → containers → health),
once with web routed through Slipway's proxy (stacks/demo/routed.yml, docs/cutover.md) and
once as today (stacks/demo/compose.yml: web publishes its port, replaced in place). A load
generator on 127.0.0.1 (bench/loadgen, Go) sends a constant 200 requests/s (open loop:
each request leaves at its scheduled time, whatever the answers before it) to a static file
of web that names its release (`/release.txt`; a turning release deletes it, and fails its
health check). Scenarios:

- baseline: no deploy; p99 latency (before each healthy deploy, and after the last);
- healthy: a new image is deployed (several rounds); failed requests, p99 against the
  baselines just before and just after it;
- bad candidate: the new release fails its health check; requests it answered, failures;
- turns unhealthy: the release fails ~30 s after the switch; time to switch back.

Run: `scripts/with-toolchain.sh .venv/bin/python bench/bench_cutover.py` (--no-write prints
only). Results go to docs/performance.md between `<!-- bench:cutover -->` markers.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.loadgen import Load, Sample
from bench.performance_doc import write_section
from tests.support.deploy_loop import Loop, routed_loop
from tests.support.fake_github import TOKEN, FakeGitHub
from tests.support.paths import TOOLS_DIR
from tests.support.routed_repo import RoutedRepo, TurningRepo
from webhook.orchestrator.config import OrchestratorSettings
from webhook.store.states import DeploymentState

S = DeploymentState
RATE = 200  # requests per second
BASELINE = 45  # seconds of load with no deploy before each healthy deploy
EXAMPLES = TOOLS_DIR / "@octokit" / "webhooks-examples" / "api.github.com"
WATCH = {  # the service's settings in both benchmarks
    "watch_seconds": 45,
    "watch_failures": 3,
    # the service's default: each watch round is one more request through the proxy
    "watch_interval_seconds": OrchestratorSettings.model_fields["watch_interval_seconds"].default,
    "drain_seconds": 2,
}
TURN_AFTER = 33  # seconds from the release's first health probe (~30 s after the switch)
MODES = {"routed": ("cutover (routed)", RoutedRepo), "in-place": ("in place", TurningRepo)}


def p99(samples: list[Sample]) -> float:
    times = sorted(s.ms for s in samples)
    return times[max(int(len(times) * 0.99) - 1, 0)] if times else 0.0


@dataclass
class Result:
    """One scenario of one mode: one list of samples per round."""

    mode: str
    scenario: str
    rounds: list[list[Sample]]
    new: list[str] = field(default_factory=list)  # each round's new release, if counted
    note: str = ""

    @property
    def samples(self) -> list[Sample]:
        return [s for r in self.rounds for s in r]

    @property
    def failed(self) -> list[Sample]:
        return [s for s in self.samples if s.status != 200]

    @property
    def by_new(self) -> int:
        """Requests answered by each round's new release."""
        return sum(
            Counter(s.release for s in r)[new] for r, new in zip(self.rounds, self.new, strict=True)
        )

    @property
    def p99s(self) -> list[float]:
        return [p99(r) for r in self.rounds]

    def row(self, baseline: Result) -> str:
        """p99 of all rounds' requests together (each round's in parentheses); × baseline:
        that p99 over the baseline's, also pooled (each round over the two baselines that
        bracket it, measured just before and just after, in parentheses). The baseline's
        note: how far its own windows differ, with no deploy at all (the machine's noise)."""
        ours = self.p99s
        ratio = p99(self.samples) / p99(baseline.samples)
        each = f" ({listed(ours, '{:.1f}')})" if len(ours) > 1 else ""
        ratios = bracketed_ratios(self.rounds, baseline.rounds) if self is not baseline else []
        each_ratio = f" ({listed(ratios, '{:.2f}')})" if len(ratios) > 1 else ""
        note = self.note
        if self is baseline and len(ours) > 1:
            note = f"its own {BASELINE} s windows differ up to {max(ours) / min(ours):.1f}× in p99"
        return (
            f"| {self.mode} | {self.scenario} | {len(self.samples)} | {len(self.failed)} | "
            f"{self.by_new if self.new else '-'} | {p99(self.samples):.1f}{each} | "
            f"{ratio:.2f}×{each_ratio} | {note} |"
        )


def bracketed_ratios(rounds: list[list[Sample]], baselines: list[list[Sample]]) -> list[float]:
    """Each round's p99 over the p99 of the baselines just before and just after it (one
    more baseline than rounds), so a drift of the machine's noise weighs on both sides."""
    if len(baselines) != len(rounds) + 1:
        return []
    return [
        p99(r) / p99(before + after)
        for r, before, after in zip(rounds, baselines, baselines[1:], strict=False)
    ]


def listed(values: list[float], form: str) -> str:
    return ", ".join(form.format(v) for v in values)


def deploy_under_load(loop: Loop, sha: str, settle: float = 2.0) -> tuple[list[Sample], list]:
    with Load(loop.repo.release_url, RATE) as load:
        time.sleep(1)
        deployment = loop.wait(loop.push(sha), S.SUCCEEDED, S.ROLLED_BACK, S.ROLLBACK_FAILED)
        time.sleep(settle)
    return load.samples, loop.log(deployment.id)


def baseline(loop: Loop, seconds: float) -> list[Sample]:
    with Load(loop.repo.release_url, RATE) as load:
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


def run_mode(
    mode: str, repo_class: type[TurningRepo], github: FakeGitHub, rounds: int
) -> list[Result]:
    with (
        tempfile.TemporaryDirectory() as tmp,
        routed_loop(Path(tmp), github, EXAMPLES, repo_class, **WATCH) as loop,
    ):
        first = loop.wait(loop.push(loop.repo.healthy("r0")))
        assert first.state == S.SUCCEEDED, loop.log(first.id)[-20:]
        quiet, healthy = Result(mode, "baseline, no deploy", []), None
        for n in range(1, rounds + 1):  # each deploy between two baselines
            quiet.rounds.append(baseline(loop, BASELINE))
            samples, _ = deploy_under_load(loop, loop.repo.healthy(f"r{n}"))
            healthy = healthy or Result(mode, "healthy deploy (new image)", [])
            healthy.rounds.append(samples)
            healthy.new.append(f"r{n}")
        quiet.rounds.append(baseline(loop, BASELINE))
        assert healthy is not None
        samples, log = deploy_under_load(loop, loop.repo.unhealthy("bad"))
        bad = Result(mode, "bad candidate (fails its check)", [samples], ["bad"], outcome(log))
        sha = loop.repo.turning_unhealthy("turning", TURN_AFTER)
        with Load(loop.repo.release_url, RATE) as load:
            deployment = loop.wait(loop.push(sha), S.SUCCEEDED, S.ROLLED_BACK, S.ROLLBACK_FAILED)
            if deployment.state == S.SUCCEEDED:  # in place: nothing watches; wait for the turn
                time.sleep(TURN_AFTER + 10)
            time.sleep(2)
        note = switch_back_note(loop.log(deployment.id), load.samples)
        turning = Result(mode, "turns unhealthy after the switch", [load.samples], note=note)
    return [quiet, healthy, bad, turning]


def outcome(log: list[str]) -> str:
    """The deployment's final state line, shortened."""
    states = [line for line in log if line.startswith("state: ")]
    return states[-1][len("state: ") :][:90].replace("|", "/") if states else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--rounds", type=int, default=3, help="healthy deploys, routed")
    parser.add_argument(
        "--in-place-rounds", type=int, default=3, help="healthy deploys in place (each fails)"
    )
    parser.add_argument("--only", choices=sorted(MODES), help="one mode (implies --no-write)")
    args = parser.parse_args()
    modes = {args.only: MODES[args.only]} if args.only else MODES
    with FakeGitHub(TOKEN) as github:
        rows = []
        for key, (mode, repo_class) in modes.items():
            rounds = args.in_place_rounds if key == "in-place" else args.rounds
            results = run_mode(mode, repo_class, github, rounds)
            rows += [r.row(results[0]) for r in results]
            print(*rows, sep="\n", flush=True)
    text = "\n".join(
        [
            "## Health-gated cutover under load (`bench/bench_cutover.py`)",
            "",
            f"`bench/bench_cutover.py` on {platform.python_implementation()} "
            f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}: the real service, CLI, "
            f"provider and engine; {RATE} requests/s (open loop, bench/loadgen: Go, a process "
            "of its own at nice -10, on 127.0.0.1) to the web static `/release.txt` (busybox "
            "httpd) through the proxy (routed) or the published port (in place), during each "
            f"deployment. Watch window {WATCH['watch_seconds']} s, {WATCH['watch_failures']} "
            f"failed rounds {WATCH['watch_interval_seconds']:g} s apart (the default) switch "
            "back. Deployments at SLIPWAY_DEPLOY_NICE=10, in the idle CPU group "
            "(SLIPWAY_DEPLOY_CPU_IDLE). "
            "p99 is from each request's scheduled time. Healthy deploys: "
            f"{args.rounds} rounds routed ({args.in_place_rounds} in place), each between two "
            f"{BASELINE} s baselines (one before, one after); p99 is over all rounds' requests "
            "together (each round's in parentheses) and × baseline is that over all baselines' "
            "(each round's over the two baselines around it in parentheses); the other rows are "
            "single runs.",
            "",
            "| mode | scenario | requests | failed | answered by the new release | p99 ms "
            "| × baseline | note |",
            "|---|---|---:|---:|---:|---:|---:|---|",
            *rows,
        ]
    )
    print(text)
    if not (args.no_write or args.only):
        write_section("cutover", text)


if __name__ == "__main__":
    main()
