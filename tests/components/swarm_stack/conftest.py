"""Fixtures of the Swarm tests: one 3-node lab per session (tests/support/swarm/lab.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.swarm.lab import SwarmLab, missing_parts, start_lab


@pytest.fixture(scope="session")
def swarm_lab() -> Iterator[SwarmLab]:
    """A 3-node Swarm (1 manager, 2 workers) in network namespaces; torn down after."""
    missing = missing_parts()
    if missing:
        reason = "the Swarm lab " + "; ".join(missing)
        if os.environ.get("SLIPWAY_REQUIRE_REAL") == "1":
            pytest.fail(f"{reason} (SLIPWAY_REQUIRE_REAL=1 requires it)")
        pytest.skip(reason)
    lab, started = start_lab()
    try:
        assert started.returncode == 0, f"swarm-lab.sh start failed:\n{started.stderr}"
        yield lab
    finally:
        stopped = lab.script("stop")
        assert stopped.returncode == 0, f"swarm-lab.sh stop failed:\n{stopped.stderr}"
