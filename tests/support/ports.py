"""Free loopback ports for tests and benches, out of the kernel's ephemeral range.

A port found free is only a promise until someone binds it. Ports from the ephemeral range
(`bind(0)`) are the ones the kernel hands out next to every other process: the Pulumi engine,
its providers and every outgoing connection. A container published on such a port after a
deploy's engine and plugins started can find it taken ("bind: address already in use"; CI run
of 2026-12-07). Ports below that range are handed out by nobody but this module, which also
never gives the same port twice in one process.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 10000
_given: set[int] = set()


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _free(port: int) -> bool:
    """True when `port` binds on 127.0.0.1 for TCP and for UDP (some tests publish UDP)."""
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def free_port() -> int:
    """A loopback port that is free now, outside the ephemeral range, new to this process."""
    top = _ephemeral_start()
    candidates = list(range(LOWEST, top)) if top - LOWEST >= 1000 else []
    random.shuffle(candidates)
    for port in candidates[:2000]:
        if port not in _given and _free(port):
            _given.add(port)
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # no range left: the kernel
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
