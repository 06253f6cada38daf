"""A new image replaces the containers; the data in every volume stays (real engine).

Deployed by Docker Compose and by Slipway side by side: write into the named volume and
into each container's anonymous volumes, change the build context (a new image), deploy
again, and find the data in the new containers, as `docker compose up` keeps it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.fidelity import engine

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

FILES = ["case/replace.yml"]
PATHS = ("/data", "/anon", "/anon-long")
CONTAINERS = ("db-1", "db-2")


def _up_both(ws: engine.Workspace) -> None:
    with ThreadPoolExecutor(2) as pool:
        ups = [pool.submit(engine.compose_up, ws, FILES), pool.submit(engine.slipway_up, ws, FILES)]
        for up in ups:
            up.result()


def _replica_ids(project: str) -> dict[str, str]:
    found = engine.inspect("container", [f"{project}-{c}" for c in CONTAINERS])
    return {c["Name"].lstrip("/"): c["Id"] for c in found}


def _read(container: str) -> str:
    command = "; ".join(f"cat {p}/mark-* 2>/dev/null | sort" for p in PATHS)
    return engine.probe(container, {"read": command})["read"]


def test_data_in_every_volume_survives_a_new_image(tmp_path: Path) -> None:
    ws = engine.make_workspace(tmp_path)
    try:
        _up_both(ws)
        before = {}
        for side in (ws.compose, ws.slipway):
            before.update(_replica_ids(side.project))
            for c in CONTAINERS:
                name = f"{side.project}-{c}"
                marks = "; ".join(f"echo {p}:{c} > {p}/mark-{c}" for p in PATHS)
                engine.probe(name, {"write": marks})
        (ws.root / "case/app/content").write_text("release two\n")  # a new image
        _up_both(ws)
        for side in (ws.compose, ws.slipway):
            after = _replica_ids(side.project)
            assert set(after) == {f"{side.project}-{c}" for c in CONTAINERS}
            for name, cid in after.items():
                assert cid != before[name], f"{side.name}: {name} was not replaced"
                served = engine.probe(name, {"c": "cat /srv/content"})["c"]
                assert served == "release two\n", f"{side.name}: {name} runs the old image"
            for c in CONTAINERS:
                data = _read(f"{side.project}-{c}")
                # the named volume is shared by both replicas; anonymous ones per container
                expected = sorted(f"{p}:{x}" for p in PATHS for x in CONTAINERS if p == "/data")
                expected += [f"{p}:{c}" for p in PATHS[1:]]
                assert data.split() == expected, f"{side.name} {c}: {data!r}"
    finally:
        engine.remove_workspace(ws)
    assert not engine.leftovers(ws)
