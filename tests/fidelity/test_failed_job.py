"""A failed `service_completed_successfully` job stops the deployment on both sides (real
engine): `up` fails, the job's exit code is kept, its dependant is never started."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fidelity import engine

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]

FILES = ["case/failed_job.yml"]


def _state(project: str, service: str) -> dict | None:
    found = engine.inspect("container", engine.ids("container", project))
    states = [c["State"] for c in found if c["Name"] == f"/{project}-{service}-1"]
    return states[0] if states else None


def test_a_failed_job_keeps_its_dependants_from_starting(tmp_path: Path) -> None:
    ws = engine.make_workspace(tmp_path)
    try:
        for up in (engine.compose_up, engine.slipway_up):
            with pytest.raises(AssertionError) as failed:
                up(ws, FILES, **({"wait": False} if up is engine.compose_up else {}))
            assert "migrate" in str(failed.value)
        for side in (ws.compose, ws.slipway):
            job = _state(side.project, "migrate")
            assert job is not None and job["ExitCode"] == 3, f"{side.name}: {job}"
            app = _state(side.project, "app")
            assert app is None or app["StartedAt"].startswith("0001-"), (
                f"{side.name}: the dependant of a failed job was started: {app}"
            )
    finally:
        engine.remove_workspace(ws)
    assert not engine.leftovers(ws)
