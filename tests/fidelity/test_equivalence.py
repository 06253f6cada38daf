"""Slipway's `up` deploys what `docker compose up` deploys, compared on the real engine.

Each case is deployed twice on one engine from one copy of the project: by Docker Compose
(project `fa…`) and by Slipway (project `fb…`, real Pulumi CLI and provider). Containers
(with their images and probes from inside), networks and volumes are compared field by
field; every difference must be in tests/fidelity/allowlist.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fidelity import engine
from tests.fidelity.allowlist import ALLOWED, unexplained, used
from tests.fidelity.coverage import CASES
from tests.support.fidelity import normalize
from tests.support.fidelity.diff import diff, flatten

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

# case → (fields compared, differences, indexes of the allowlist entries that allowed them)
RESULTS: dict[str, tuple[int, int, set[int]]] = {}


def deploy_both(ws: engine.Workspace, files: list[str], wait: bool) -> tuple[dict, dict]:
    """Both ups at once (independent projects), then both projects as the engine has them."""
    engine.up_both(ws, files, wait)
    found = []
    for side in (ws.compose, ws.slipway):
        engine.settle(side.project)
        found.append({**engine.read_project(side.project), "host ports": engine.host_ports(side)})
    return found[0], found[1]


@pytest.mark.parametrize("case", list(CASES))
def test_slipway_up_matches_compose_up(case: str, tmp_path: Path) -> None:
    files, wait = CASES[case]
    ws = engine.make_workspace(tmp_path)
    try:
        a, b = deploy_both(ws, files, wait)
    finally:
        engine.remove_workspace(ws)
    assert not engine.leftovers(ws), "cleanup left objects on the engine"
    tables = {
        "compose": normalize.replacements(a, ws.compose.project, ws.compose.variables),
        "slipway": normalize.replacements(b, ws.slipway.project, ws.slipway.variables),
    }
    normalizer = normalize.Normalize(tables)
    differences = diff(a, b, [normalizer])
    compared = sum(len(flatten(view)) for view in normalizer(a, "compose").values())
    RESULTS[case] = (compared, len(differences), used(differences))
    assert sum(k.startswith("container ") for k in a) >= 2, "the case deployed no containers"
    left = unexplained(differences)
    assert not left, f"{len(left)} difference(s) not in the allowlist:\n" + "\n".join(
        str(d)[:600] for d in left
    )


def test_every_allowlist_entry_is_still_needed() -> None:
    """After all cases: an entry that allowed nothing is stale (fixed, or a case changed)."""
    if set(RESULTS) != set(CASES):
        pytest.skip("needs every case of this run (some were deselected or failed)")
    needed = set().union(*(entry for _, _, entry in RESULTS.values()))
    stale = [
        entry.path
        for i, entry in enumerate(ALLOWED)
        if i not in needed and not entry.path.startswith("Replacement.")  # test_replacement's
    ]
    print(
        f"fidelity: {sum(c for c, _, _ in RESULTS.values())} fields compared in "
        f"{len(RESULTS)} cases, {sum(d for _, d, _ in RESULTS.values())} differences, "
        f"{len(ALLOWED)} allowlist entries"
    )
    assert not stale, f"allowlist entries no case needs any more: {stale}"
