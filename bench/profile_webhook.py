"""Where an accepted signed push costs the service its time (issue 35): py-spy samples a
running `python -m webhook serve` while wrk sends distinct signed pushes.

Starts the service as bench/bench_webhook.py does, warms it up, then records the event
loop's thread with py-spy (`record --format raw`, 200 Hz) during one wrk run, and prints
the functions with the most samples: by their own time and with what they call. Also
prints each thread's share of the samples. A profile, not a benchmark: prints, writes
nothing.

    .venv/bin/python bench/profile_webhook.py [--connections 16] [--seconds 10]

Needs `wrk` and py-spy (requirements-dev.txt); root or ptrace rights over the child.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.bench_webhook import BRANCH, SECRET, start_slipway
from bench.signed_load import signed_run, to_result, wait_until_up
from tests.support.ports import free_port

SITE = re.compile(r" \(/.*?([^/]+/[^/]+\.py):\d+\)")


def shares(raw: Path) -> tuple[Counter[str], Counter[str], Counter[str], int]:
    """Samples per thread, and the loop thread's per function (own, inclusive)."""
    threads: Counter[str] = Counter()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    loop_total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        thread = re.sub(r"\(\d+\)", "", frames[0]).strip()
        threads[thread] += int(count)
        if "MainThread" not in thread:
            continue
        loop_total += int(count)
        names = [SITE.sub(r" (\1)", frame) for frame in frames[1:]]
        own[names[-1]] += int(count)
        for name in set(names):
            inclusive[name] += int(count)
    return threads, own, inclusive, loop_total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists() or shutil.which("wrk") is None:
        sys.exit("needs py-spy (pip install -r requirements-dev.txt) and wrk (apt-get install wrk)")
    with tempfile.TemporaryDirectory(prefix="slipway-profile-") as tmp:
        work = Path(tmp)
        port = free_port()
        server = start_slipway(work, port)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", server)
            url = f"http://127.0.0.1:{port}/hooks/github"
            signed_run(url, work, SECRET, BRANCH, 4, 2, "warmup", 202)
            raw = work / "profile.txt"
            command = [spy, "record", "-p", str(server.pid), "-d", str(args.seconds + 2)]
            command += ["-r", "200", "-t", "-f", "raw", "-o", str(raw)]
            recorder = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            time.sleep(1)  # py-spy attached
            run_id = f"profile-{time.time_ns()}"
            stats = signed_run(
                url, work, SECRET, BRANCH, args.connections, args.seconds, run_id, 202
            )
            recorder.wait(timeout=args.seconds + 60)
        finally:
            server.terminate()
            server.wait(timeout=30)
        result = to_result("slipway", args.connections, stats)
        print(f"{result.rps:,.0f} accepted/s, p99 {result.p99_ms:.1f} ms (profiled: slower)")
        threads, own, inclusive, loop_total = shares(raw)
    total = sum(threads.values())
    print("\nsamples per thread:")
    for name, count in threads.most_common(8):
        print(f"  {100 * count / total:5.1f}%  {name}")
    for title, counter in (("own time", own), ("inclusive", inclusive)):
        print(f"\nevent loop thread, {title} (% of its samples):")
        for name, count in counter.most_common(args.top):
            print(f"  {100 * count / loop_total:5.1f}%  {name}")


if __name__ == "__main__":
    main()
