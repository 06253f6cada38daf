"""tests.support.ports: ports the kernel will not hand to the Pulumi engine meanwhile."""

from __future__ import annotations

import socket

from tests.support import ports


def test_ports_are_below_the_ephemeral_range_and_never_repeat() -> None:
    given = [ports.free_port() for _ in range(200)]
    assert len(set(given)) == len(given), "a port was handed out twice"
    assert all(ports.LOWEST <= port < ports._ephemeral_start() for port in given), given


def test_a_bound_port_is_not_handed_out(monkeypatch) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        taken = held.getsockname()[1]
        monkeypatch.setattr(ports, "LOWEST", taken)
        monkeypatch.setattr(ports, "_ephemeral_start", lambda: taken + 1000)
        monkeypatch.setattr(ports, "_given", set())
        given = [ports.free_port() for _ in range(1000)]  # every port of the range once
        assert taken not in given
