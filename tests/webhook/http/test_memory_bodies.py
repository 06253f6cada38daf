"""Issue 32: 20 concurrent 128 MiB bodies to every route, with and without auth, leave the
real service process (`python -m webhook serve`) under PEAK_RSS_BOUND and answering.

Half the connections declare the 128 MiB (Content-Length), half stream it chunked; each
stops sending as soon as the service answers or closes. The peak is the kernel's own
high-water mark of the process (VmHWM in /proc/<pid>/status), so no sample can miss it.
"""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import httpx

from tests.support.ports import free_port
from tests.support.routes import ROUTES
from tests.support.service import TOKEN, ServeProcess

PEAK_RSS_BOUND = 150 * 1024 * 1024  # docs/webhook.md, "Limits"
BODY = 128 * 1024 * 1024
CONCURRENT = 20
PIECE = 1024 * 1024


def _kib(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    assert found, status
    return int(found[1]) * 1024


async def _send_big(
    port: int, method: str, path: str, auth: bool, chunked: bool
) -> tuple[int, int]:
    """One 128 MiB request; (the answer's status or 0 when the connection just closed,
    body bytes sent before the service answered)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    bearer = f"Authorization: Bearer {TOKEN}\r\n" if auth else ""
    length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {BODY}"
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{bearer}"
        f"Content-Type: application/json\r\n{length}\r\n\r\n"
    )
    piece = b"\0" * PIECE
    frame = f"{PIECE:x}\r\n".encode() + piece + b"\r\n" if chunked else piece
    answer = asyncio.ensure_future(reader.read(64))
    sent = 0
    try:
        writer.write(head.encode())
        while sent < BODY and not answer.done():
            writer.write(frame)
            await writer.drain()
            sent += PIECE
        first = await asyncio.wait_for(answer, 60)
    except (ConnectionError, OSError):
        first = answer.result() if answer.done() and not answer.exception() else b""
    finally:
        answer.cancel()
        writer.close()
    status = int(first[9:12]) if first.startswith(b"HTTP/1.1 ") else 0
    return status, sent


async def _flood(port: int) -> list[tuple[str, bool, list[tuple[int, int]]]]:
    rounds = []
    for method, path in ROUTES:
        for auth in (False, True):
            results = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        _send_big(port, method, path, auth, chunked=n % 2 == 1)
                        for n in range(CONCURRENT)
                    )
                ),
                300,
            )
            rounds.append((f"{method} {path}", auth, list(results)))
    return rounds


def test_twenty_concurrent_128_mib_bodies_per_route_stay_under_the_rss_bound(
    tmp_path: Path,
) -> None:
    server = ServeProcess(tmp_path / "state", free_port())
    pid = server.process.pid
    try:
        before = _kib(pid, "VmRSS")
        rounds = asyncio.run(_flood(httpx.URL(server.url).port or 0))
        peak = _kib(pid, "VmHWM")
        after = _kib(pid, "VmRSS")
        print(
            f"\nRSS before {before / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB, "
            f"after {after / 2**20:.1f} MiB; {len(rounds)} rounds of {CONCURRENT} x 128 MiB"
        )
        for route, auth, results in rounds:
            statuses = {status for status, _ in results}
            # 413, or (without auth, a chunked body the route had not read yet) 401; 0: the
            # service closed the connection while the client was still sending (the kernel's
            # reset can drop the 413 before the client reads it). Never the whole body.
            allowed = {413, 0} if auth else {413, 401, 0}
            assert statuses <= allowed, (route, auth, statuses)
            assert max(sent for _, sent in results) < BODY, (route, auth, "read it all")
        assert peak < PEAK_RSS_BOUND, f"peak RSS {peak / 2**20:.1f} MiB"
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        answer = httpx.get(
            f"{server.url}/deployments", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert answer.status_code == 200, answer.text
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(30)
