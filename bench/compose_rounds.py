"""Alternating rounds of a Slipway deploy and a Compose deploy of the same files on one engine.

Shared by bench/bench_stack_up.py and bench/bench_scale.py: per round, Slipway cold (nothing
of the project exists) then no-op (nothing changed), then Compose cold then no-op, so that
load from other jobs on the machine hits both alike. The build cache is warmed for both
first (not measured).
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

KINDS = ("s_cold", "s_noop", "c_cold", "c_noop")


def seconds(command: Sequence[str], **kwargs) -> float:
    """Wall seconds of `command`; stops the benchmark with its output when it fails."""
    begin = time.perf_counter()
    result = subprocess.run(
        list(command), capture_output=True, text=True, timeout=1800, check=False, **kwargs
    )
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{(result.stderr + result.stdout)[-3000:]}")
    return time.perf_counter() - begin


@dataclass
class Contenders:
    """How each tool deploys and removes the project.

    `slipway`: Slipway's deploy command (run in `slipway_cwd` with `slipway_env`);
    `destroy`: removes Slipway's deployment; `compose`: `docker compose -p .. -f ..`;
    `compose_up`: the Compose arguments that deploy (`up -d`, or `up -d --wait`)."""

    slipway: Sequence[str]
    slipway_env: dict[str, str]
    slipway_cwd: Path
    destroy: Callable[[], object]
    compose: Sequence[str]
    compose_env: dict[str, str]
    compose_up: Sequence[str] = ("up", "-d")

    def warm(self) -> None:
        """Build the images for both (cache warm), then leave nothing deployed."""
        seconds([*self.compose, "build"], env=self.compose_env)
        seconds(self.slipway, cwd=self.slipway_cwd, env=self.slipway_env)
        self.destroy()

    def round(self, times: dict[str, list[float]]) -> None:
        """One round: Slipway cold and no-op, then Compose cold and no-op; appends to `times`."""
        run = {"cwd": self.slipway_cwd, "env": self.slipway_env}
        times["s_cold"].append(seconds(self.slipway, **run))
        times["s_noop"].append(seconds(self.slipway, **run))
        self.destroy()
        times["c_cold"].append(seconds([*self.compose, *self.compose_up], env=self.compose_env))
        times["c_noop"].append(seconds([*self.compose, *self.compose_up], env=self.compose_env))
        self.compose_down()

    def compose_down(self) -> None:
        subprocess.run(
            [*self.compose, "down", "-v"], env=self.compose_env, capture_output=True,
            timeout=600, check=False,
        )  # fmt: skip


def alternating_rounds(contenders: Contenders, rounds: int) -> dict[str, list[float]]:
    """Warm, then `rounds` rounds; seconds per kind (`KINDS`). Both are removed at the end."""
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    try:
        contenders.warm()
        for _ in range(rounds):
            contenders.round(times)
    finally:
        contenders.destroy()
        contenders.compose_down()
    return times


def medians(times: dict[str, list[float]]) -> dict[str, float]:
    return {kind: statistics.median(values) for kind, values in times.items() if values}


def every_run(times: dict[str, list[float]]) -> str:
    """`s_cold: 1.00 / 1.10, ...`: every measurement, for the doc."""
    return ", ".join(f"{k}: {' / '.join(f'{t:.2f}' for t in v)}" for k, v in times.items())
