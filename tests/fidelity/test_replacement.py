"""A new image replaces the containers; the data in every volume stays (real engine).

Deployed by Docker Compose and by Slipway side by side: write into the named volume, into
each container's anonymous volumes and into the image's own VOLUME, change the build
context (a new image), deploy again, and read what the new containers find. Compose keeps
it all; Slipway's differences must be in the allowlist (path `Replacement.<volume path>`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fidelity import engine
from tests.fidelity.allowlist import unexplained
from tests.support.fidelity.diff import diff

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

FILES = ["case/replace.yml"]
PATHS = ("/data", "/anon", "/anon-long", "/image-vol")  # /image-vol: the image's VOLUME
CONTAINERS = ("db-1", "db-2")


def _replica_ids(project: str) -> dict[str, str]:
    found = engine.inspect("container", [f"{project}-{c}" for c in CONTAINERS])
    return {c["Name"].lstrip("/"): c["Id"] for c in found}


def _volumes(project: str) -> set[str]:
    """The volumes the replicas mount now (after the second up, Slipway's old containers'
    image VOLUMEs are left detached, as documented; the test removes them)."""
    found = engine.inspect("container", [f"{project}-{c}" for c in CONTAINERS])
    return {m["Name"] for c in found for m in c["Mounts"] if m.get("Type") == "volume"}


def _found(project: str) -> dict[str, dict]:
    """What each replica finds in each volume path: `{"container <project>-db-1": {...}}`."""
    reads = {p: f"cat {p}/mark-* 2>/dev/null | sort" for p in PATHS}
    return {
        f"container <project>-{c}": {
            "Replacement": engine.probe(f"{project}-{c}", reads),
        }
        for c in CONTAINERS
    }


def test_data_in_every_volume_survives_a_new_image(tmp_path: Path) -> None:
    ws = engine.make_workspace(tmp_path)
    first_volumes: set[str] = set()
    try:
        engine.up_both(ws, FILES)
        first_volumes = _volumes(ws.compose.project) | _volumes(ws.slipway.project)
        before = {}
        for side in (ws.compose, ws.slipway):
            before.update(_replica_ids(side.project))
            for c in CONTAINERS:
                marks = "; ".join(f"echo {p}:{c} > {p}/mark-{c}" for p in PATHS)
                engine.probe(f"{side.project}-{c}", {"write": marks})
        (ws.root / "case/app/content").write_text("release two\n")  # a new image
        engine.up_both(ws, FILES)
        for side in (ws.compose, ws.slipway):
            for name, cid in _replica_ids(side.project).items():
                assert cid != before.pop(name), f"{side.name}: {name} was not replaced"
                served = engine.probe(name, {"c": "cat /srv/content"})["c"]
                assert served == "release two\n", f"{side.name}: {name} runs the old image"
        assert not before, f"containers gone after the second up: {before}"
        compose, slipway = _found(ws.compose.project), _found(ws.slipway.project)
    finally:
        engine.remove_workspace(ws)
        engine.remove_volumes(sorted(first_volumes))
    assert not engine.leftovers(ws)
    for c in CONTAINERS:  # the reference: Compose keeps every volume's data
        found = compose[f"container <project>-{c}"]["Replacement"]
        # the named volume is shared by both replicas; anonymous ones are per container
        assert found["/data"].split() == [f"/data:{x}" for x in CONTAINERS]
        assert all(found[p].split() == [f"{p}:{c}"] for p in PATHS[1:]), found
    differences = diff(compose, slipway, [])
    left = unexplained(differences)
    assert not left, "\n".join(map(str, left))
    assert differences, "Slipway keeps the image VOLUME's data now: drop its allowlist entry"
