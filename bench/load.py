"""A constant-rate GET load in a process of its own (`python -m bench.load URL`).

Open loop: request n leaves at start + n/rate, whatever the answers before it. It runs until
its stdin closes (or `--limit` seconds), then prints one JSON list of samples
`[scheduled monotonic time, ms from scheduled time to answer, status (0: none), body]`.
Its own process keeps the benchmark's other threads (and their GIL) out of the timings;
CLOCK_MONOTONIC is the same in every process, so the times line up with the caller's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time

import httpx


async def run(url: str, rate: float, limit: float, stop: threading.Event) -> list[list]:
    samples: list[list] = []

    async def one(client: httpx.AsyncClient, due: float) -> None:
        try:
            answer = await client.get(url)
            status, text = answer.status_code, answer.text.strip()
        except httpx.HTTPError as error:
            status, text = 0, type(error).__name__
        samples.append([due, (time.monotonic() - due) * 1000, status, text])

    limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        start, tasks, n = time.monotonic(), [], 0
        while not stop.is_set() and time.monotonic() - start < limit:
            due = start + n / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(one(client, due)))
            n += 1
        await asyncio.gather(*tasks)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--limit", type=float, default=600.0, help="seconds at most")
    args = parser.parse_args()
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    samples = asyncio.run(run(args.url, args.rate, args.limit, stop))
    json.dump(samples, sys.stdout)


if __name__ == "__main__":
    main()
