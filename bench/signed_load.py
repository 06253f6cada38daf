"""Signed push load for wrk, shared by the webhook benches: a pool of distinct pre-signed
push bodies, and one wrk run over it.

The service refuses a body it has seen before as a replay (the signature covers the body,
not the delivery id), so every request must carry a body of its own, signed with the
secret. wrk's Lua cannot compute an HMAC; the pool is signed here beforehand. A body is the
octokit push example with its `head_commit.message` (the last field) replaced:
`head .. unique .. tail`, so the pool file holds only `signature<TAB>unique` lines (a few MB
for a few hundred thousand bodies; the HMAC state after the common head is computed once and
copied) and wrk builds each body from the three parts. Each wrk thread takes every other
line; each request also gets its own X-GitHub-Delivery. A thread that used up its half
starts again from its first body (the answers are then replays): `reused` counts those
requests, and `unexpected` counts answers with another status than the expected one.
"""

from __future__ import annotations

import hmac
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from webhook.http.signature import PREFIX, sign

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "tools/node_modules/@octokit/webhooks-examples/api.github.com/index.json"
MARK = "\u0000slipway-bench-unique\u0000"
STARTUP_SECONDS = 120
"""A server's start on a loaded machine (the service's imports took over 30 s at load 90)."""
POOL_PER_SECOND = 20_000
"""Bodies signed per second of a run: more than any server here answers."""

WRK_SUMMARY = r"""
function done(summary, latency, requests)
  local unexpected, reused = 0, 0
  for _, t in ipairs(threads) do
    unexpected = unexpected + t:get("unexpected")
    reused = reused + t:get("reused")
  end
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,'
    .. '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,'
    .. '"p99_us":%d,"max_us":%d,"unexpected":%d,"reused":%d}\n',
    summary.requests, summary.duration, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    unexpected, reused))
end
"""

LUA = (
    r"""
threads, next_id = {}, 0
unexpected, reused = 0, 0
local uniques, signatures, n, i = {}, {}, 0, 0
local head, tail, expected
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end
function init(args)
  run_id, expected = args[1], tonumber(args[4])
  local parts = io.open(args[3], "rb"):read("*a")
  local cut = parts:find("\n", 1, true)
  head, tail = parts:sub(1, cut - 1), parts:sub(cut + 1)
  local k = 0
  for line in io.lines(args[2]) do
    if k % 2 == tid then
      local tab = line:find("\t", 1, true)
      n = n + 1
      signatures[n], uniques[n] = line:sub(1, tab - 1), line:sub(tab + 1)
    end
    k = k + 1
  end
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["X-GitHub-Event"] = "push"
end
function request()
  i = i + 1
  if i > n then i, reused = 1, reused + 1 elseif reused > 0 then reused = reused + 1 end
  wrk.headers["X-GitHub-Delivery"] = run_id .. "-" .. tid .. "-" .. i .. "-" .. reused
  wrk.headers["X-Hub-Signature-256"] = signatures[i]
  return wrk.format("POST", nil, nil, head .. uniques[i] .. tail)
end
function response(status, headers, body)
  if status ~= expected then unexpected = unexpected + 1 end
end
"""
    + WRK_SUMMARY
)


@dataclass
class Result:
    server: str
    connections: int
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float
    recorded: int | None = None
    cpu_ms: float | None = None  # server CPU (all threads and children) per accepted request


def push_example(branch: str) -> dict:
    """The octokit push example (the `refs/heads/master` one, ~8 KB) aimed at `branch`."""
    if not EXAMPLES.is_file():
        sys.exit(f"{EXAMPLES} missing: run `make tools` (npm ci in tools/) first")
    events = json.loads(EXAMPLES.read_text())
    pushes = next(e for e in events if e["name"] == "push")["examples"]
    example = next(p for p in pushes if p["ref"] == "refs/heads/master")
    return {**example, "ref": f"refs/heads/{branch}", "deleted": False}


def write_pool(work: Path, secret: str, branch: str, run_id: str, count: int) -> Path:
    """Sign `count` distinct push bodies into `work/<run_id>.pool` (and `.parts`, the
    common head and tail); returns the pool's path."""
    example = push_example(branch)
    example["head_commit"] = {**(example.get("head_commit") or {}), "message": MARK}
    head, tail = json.dumps(example, separators=(",", ":")).split(json.dumps(MARK))
    head, tail = head + '"', '"' + tail
    key = secret.encode()
    signed_head = hmac.new(key, head.encode(), "sha256")  # head_commit is last: a short tail
    pool = work / f"{run_id}.pool"
    with pool.open("w") as out:
        for number in range(count):
            unique = f"bench {run_id} {number}"
            digest = signed_head.copy()
            digest.update((unique + tail).encode())
            out.write(f"{PREFIX}{digest.hexdigest()}\t{unique}\n")
    assert f"{PREFIX}{digest.hexdigest()}" == sign(key, (head + unique + tail).encode())
    pool.with_suffix(".parts").write_text(f"{head}\n{tail}")
    return pool


def run_wrk(
    url: str, pool: Path, connections: int, seconds: int, run_id: str, expected: int
) -> dict[str, int]:
    """One wrk run (2 threads) over `pool`; wrk's summary plus `unexpected` (answers other
    than `expected`) and `reused` (requests after a thread ran out of bodies)."""
    script = pool.with_suffix(".lua")
    script.write_text(LUA)
    command = [
        "wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script),
        url, "--", run_id, str(pool), str(pool.with_suffix(".parts")), str(expected),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        sys.exit(f"wrk failed ({done.returncode}): {done.stderr.strip()}")
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("{"))
    return json.loads(line)


def signed_run(
    url: str, work: Path, secret: str, branch: str, connections: int, seconds: int,
    run_id: str, expected: int,
) -> dict[str, int]:  # fmt: skip
    """Sign a pool for `seconds` of load, run wrk over it, delete the pool."""
    pool = write_pool(work, secret, branch, run_id, max(2_000, seconds * POOL_PER_SECOND))
    try:
        return run_wrk(url, pool, connections, seconds, run_id, expected)
    finally:
        for suffix in (".pool", ".parts", ".lua"):
            pool.with_suffix(suffix).unlink(missing_ok=True)


def to_result(server: str, connections: int, stats: dict[str, int]) -> Result:
    """Accepted/s counts only answers with the expected status (not errors, not replays)."""
    errors = sum(stats[k] for k in ("read_errors", "write_errors", "timeouts", "connect_errors"))
    errors += stats.get("unexpected", stats["status_errors"])
    seconds = stats["duration_us"] / 1e6
    return Result(
        server=server,
        connections=connections,
        requests=stats["requests"],
        errors=errors,
        rps=(stats["requests"] - stats.get("unexpected", stats["status_errors"])) / seconds,
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
    )


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    """Poll `url` until it answers (STARTUP_SECONDS at most); exit if `process` dies first."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"server exited early with code {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    sys.exit(f"server at {url} did not come up within {STARTUP_SECONDS} s")
