"""A recovery that fails never stops the service; a missing prerequisite is said, not hit."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support.local_process import LocalProcessRunner
from tests.support.orchestrator import FAST, WAIT_LIMIT, Harness, make_orchestrator
from tests.support.ports import free_port
from tests.support.service import SECRET, TOKEN, make_settings, serve_on_loopback
from webhook.http.app import create_app
from webhook.orchestrator import build_orchestrator
from webhook.orchestrator.preflight import Preflight
from webhook.store import NewDeployment, Store
from webhook.store.states import DeploymentKind, DeploymentState

S = DeploymentState
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class ExportBreaks(LocalProcessRunner):
    """A runner whose first session (the recovery's) fails with an error nobody planned for."""

    broke = False

    def open(self, stack: str, work_dir: Path, binds_dir: Path | None = None):  # type: ignore[no-untyped-def]
        session = super().open(stack, work_dir, binds_dir)
        if not self.broke:
            self.broke = True

            def export_state() -> dict:
                raise KeyError("deployment")  # e.g. a state file of an unexpected shape

            session.export_state = export_state  # type: ignore[method-assign]
        return session


def interrupted_job(state_dir: Path, sha: str) -> int:
    """A deployment left `running` by a service that died."""
    with Store.open(state_dir / "slipway.db") as store:
        job = store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", sha))
        store.set_state(job.id, S.RUNNING, "deploying (test)")
        return job.id


def test_unexpected_recovery_error_fails_that_deployment_and_the_service_starts(
    app_repo, tmp_path: Path, caplog
) -> None:
    sha = app_repo.commit_app("one")
    state = tmp_path / "state"
    job = interrupted_job(state, sha)
    settings = make_settings(state, repo_url=str(app_repo.path))
    store = Store.open(settings.database_path)
    runner = ExportBreaks(tmp_path / "backend")
    orchestrator = build_orchestrator(settings, store, runner, FAST)
    try:
        with serve_on_loopback(create_app(settings, store, orchestrator)) as url:
            client = httpx.Client(base_url=url, headers=AUTH, timeout=30)
            body = client.get(f"/deployments/{job}").json()
            assert body["state"] == "failed"
            note = body["history"][-1]["note"]
            assert note.startswith("recovery failed: KeyError: 'deployment'; clear the stack's")
            assert "docs/runbook.md 'Recover from interrupted'" in note
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "degraded"
            [problem] = ready.json()["degraded"]
            assert problem["check"] == "recovery" and "KeyError: 'deployment'" in problem["problem"]
            assert "Recover from interrupted" in problem["fix"]
            # The service works: a new deployment runs to the end.
            new = client.post("/deployments", json={"sha": sha}).json()["id"]
            Harness(store, orchestrator, runner).wait_idle()
            assert client.get(f"/deployments/{new}").json()["state"] == "succeeded"
            client.close()
    finally:
        runner.stop_all()
        store.close()
    warnings = [r for r in caplog.records if "recovery of deployment" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].exc_info is None  # once, no traceback


def git_only_path(tmp_path: Path) -> str:
    """A PATH with git on it and no `pulumi` (the Python is started by its full path)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to("/usr/bin/git")
    return str(bin_dir)


def test_without_the_pulumi_cli_the_service_starts_and_says_so(
    app_repo, tmp_path: Path, repo_root: Path
) -> None:
    """The real `serve`, a repository configured, no Pulumi CLI: it starts, the interrupted
    deployment is failed with the reason, /readyz names the fix, a new one is refused."""
    sha = app_repo.commit_app("one")
    state = tmp_path / "state"
    job = interrupted_job(state, sha)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLIPWAY_", "PULUMI_"))}
    service = subprocess.Popen(
        [sys.executable, "-m", "webhook", "serve", "--port", str(port)],
        env={
            **env,
            "PATH": git_only_path(tmp_path),
            "PYTHONPATH": str(repo_root),
            "SLIPWAY_WEBHOOK_SECRET": SECRET,
            "SLIPWAY_API_TOKEN": TOKEN,
            "SLIPWAY_STATE_DIR": str(state),
            "SLIPWAY_REPO_URL": str(app_repo.path),
            "SLIPWAY_POLL_INTERVAL_SECONDS": "0",
        },
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=AUTH, timeout=10)
        deadline = time.monotonic() + WAIT_LIMIT
        while True:
            assert service.poll() is None, service.stderr.read() if service.stderr else ""
            try:
                ready = client.get("/readyz")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.05)
        assert ready.status_code == 200 and ready.json()["status"] == "degraded"
        checks = {p["check"]: p for p in ready.json()["degraded"]}
        assert set(checks) == {"pulumi_cli", "recovery"}
        assert "https://www.pulumi.com/docs/install/" in checks["pulumi_cli"]["fix"]

        body = client.get(f"/deployments/{job}").json()
        assert body["state"] == "failed"
        assert body["history"][-1]["note"].startswith(
            "recovery failed: the Pulumi CLI (`pulumi`) is not on the service's PATH; "
        )

        new = client.post("/deployments", json={"sha": sha}).json()["id"]
        while (body := client.get(f"/deployments/{new}").json())["state"] == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert [h["state"] for h in body["history"]] == ["queued", "failed"]
        assert body["history"][-1]["note"] == (
            "not started, the stack was not touched: the Pulumi CLI (`pulumi`) is not on the "
            "service's PATH; install it (https://www.pulumi.com/docs/install/) into a directory "
            "on the service's PATH, or add its directory to PATH (docs/install.md), then "
            "deploy again"
        )
        client.close()
    finally:
        service.terminate()
        _, stderr = service.communicate(timeout=30)
    assert "Traceback" not in stderr
    assert stderr.count("recovery of deployment") == 1


def test_preflight_looks_for_the_runner_commands_on_its_path() -> None:
    seen: list[tuple[str, str | None]] = []

    def which(name: str, path: str | None = None) -> str | None:
        seen.append((name, path))
        return None if name == "pulumi" else f"/usr/bin/{name}"

    preflight = Preflight(("git", "pulumi"), "/opt/bin", which)
    assert [p.check for p in preflight.problems()] == ["pulumi_cli"]
    assert seen == [("git", "/opt/bin"), ("pulumi", "/opt/bin")]
    assert preflight.blocker() is not None
    assert Preflight().blocker() is None  # a runner that needs nothing from PATH


class HeardPreviews:
    """Stands in for GitHub feedback: which previews were reported done, and why."""

    def __init__(self) -> None:
        self.previews: list[tuple[int, str | None]] = []

    def state_changed(self, deployment, note: str = "") -> None:  # type: ignore[no-untyped-def]
        pass

    def preview_done(self, deployment, collector, error=None) -> None:  # type: ignore[no-untyped-def]
        self.previews.append((deployment.id, error))


def test_a_refused_preview_is_reported_to_the_pull_request(
    app_repo, local_runner, tmp_path: Path
) -> None:
    observer = HeardPreviews()
    store, orchestrator = make_orchestrator(
        app_repo.path, tmp_path / "s", local_runner, observer=observer
    )
    orchestrator.pipeline.preflight = Preflight(("pulumi",), str(tmp_path / "empty-path"))
    orchestrator.start()
    try:
        harness = Harness(store, orchestrator, local_runner)
        preview = harness.request(
            app_repo.commit_app("one"), kind=DeploymentKind.PREVIEW, pr_number=7
        )
        harness.wait_idle()
        assert harness.states(preview) == ["queued", "failed"]
    finally:
        orchestrator.stop(10)
        store.close()
    [(heard, error)] = observer.previews
    assert heard == preview and error is not None
    assert error.startswith("not started, the stack was not touched: the Pulumi CLI")


def test_a_binds_folder_the_service_may_not_write_degrades_without_blocking(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "binds"
    locked = Preflight(binds_folder=folder, writable=lambda path: False)
    assert locked.problems() == []  # not made yet: the service makes it as it needs
    folder.mkdir()
    [problem] = locked.problems()
    assert problem.check == "binds_folder" and not problem.blocks_deploys
    assert str(folder) in problem.problem and f"chown -R {os.geteuid()}" in problem.fix
    assert locked.blocker() is None  # stacks without binds still deploy
    assert Preflight(binds_folder=folder).problems() == []  # writable here


def test_the_service_checks_the_binds_folder_of_its_state_dir(
    app_repo, local_runner, tmp_path: Path
) -> None:
    store, orchestrator = make_orchestrator(app_repo.path, tmp_path / "s", local_runner)
    try:
        assert orchestrator.pipeline.preflight.binds_folder == tmp_path / "s" / "binds"
    finally:
        store.close()
