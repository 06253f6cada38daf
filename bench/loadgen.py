"""The load generator (bench/loadgen/main.go): built once per source into the cache, run as
a process of its own.

`Load(url, rate)` sends GETs at a constant rate (open loop) until its block ends; then
`samples` holds one `Sample` per request. The generator is Go, standard library only:
an asyncio/httpx client at 200 requests/s queued requests itself for up to a second while
curl through the same path answered in under 50 ms, so a Python client measured itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.paths import CACHE_DIR

SOURCE = Path(__file__).resolve().parent / "loadgen"
CACHE = CACHE_DIR / "bench"
# The generator stands for users' clients, which do not share the server's CPU: it runs
# above the server's processes (as root; unprivileged, nice refuses and it runs at 0).
CLIENT_NICE = -10


@dataclass
class Sample:
    sent: float  # CLOCK_MONOTONIC (time.monotonic()) when the request was due
    ms: float  # from then to the answer
    status: int  # 0: no answer
    release: str  # the body's `release=` value, or the error's type


def binary() -> Path:
    """The built generator, keyed by its sources' hash (built here on first use)."""
    digest = hashlib.sha256()
    for name in ("go.mod", "main.go"):
        digest.update((SOURCE / name).read_bytes())
    path = CACHE / f"loadgen-{digest.hexdigest()[:16]}"
    if path.exists():
        return path
    go = shutil.which("go") or (
        "/usr/local/go/bin/go" if Path("/usr/local/go/bin/go").exists() else None
    )
    if go is None:
        raise RuntimeError("the benchmark's load generator needs Go: install Go 1.26 and run again")
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    subprocess.run(
        [go, "build", "-trimpath", "-o", str(partial), "."],
        cwd=SOURCE, check=True, timeout=300,
        env={**os.environ, "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"},
    )  # fmt: skip
    partial.replace(path)
    return path


@dataclass
class Load:
    """The generator at `rate` on `url` until the block ends (or `limit` seconds)."""

    url: str
    rate: float = 200.0
    limit: float = 600.0
    samples: list[Sample] = field(default_factory=list)
    process: subprocess.Popen | None = None

    def __enter__(self) -> Load:
        command = [str(binary()), "-rate", str(self.rate), "-limit", str(self.limit), self.url]
        self.process = subprocess.Popen(
            ["nice", "-n", str(CLIENT_NICE), *command],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        return self

    def __exit__(self, *_: object) -> None:
        assert self.process is not None
        out, err = self.process.communicate(input="", timeout=60)  # stdin closes: it stops
        if self.process.returncode != 0:
            raise RuntimeError(f"load generator failed ({self.process.returncode}): {err.strip()}")
        self.samples = [
            Sample(due, ms, status, text.rsplit("release=", 1)[-1])
            for due, ms, status, text in json.loads(out)
        ]
