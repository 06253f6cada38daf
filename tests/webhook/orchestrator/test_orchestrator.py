"""The whole deploy path with a runner that really deploys (the commit's app, on loopback)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.orchestrator import FAST, Harness, make_orchestrator
from webhook.metrics import DeploymentCollector
from webhook.orchestrator import Orchestrator, service_queue
from webhook.orchestrator.recovery import release_stale_locks
from webhook.orchestrator.selection import pick_next
from webhook.queue import DeploymentQueue, QueueUnavailable, RecordingQueue
from webhook.settings import Settings
from webhook.store import Deployment, NewDeployment, Store
from webhook.store.states import DeploymentKind, DeploymentState

S = DeploymentState


@pytest.fixture
def harness(app_repo, local_runner, tmp_path: Path) -> Iterator[Harness]:
    store, orchestrator = make_orchestrator(app_repo.path, tmp_path / "state", local_runner)
    orchestrator.start()
    yield Harness(store, orchestrator, local_runner)
    orchestrator.stop(10)
    store.close()


def up_runs(harness: Harness, *ids: int) -> int:
    return sum(1 for i in ids for line in harness.log(i) if line.startswith("deploy: up starting"))


def test_orchestrator_is_a_deployment_queue(harness):
    assert isinstance(harness.orchestrator, DeploymentQueue)


def test_healthy_deploy_succeeds_and_records_the_healthy_commit(app_repo, harness):
    sha = app_repo.commit_app("one")
    job = harness.request(sha, reason="push to main")
    harness.wait_idle()
    assert harness.states(job) == ["queued", "running", "verifying", "succeeded"]
    assert harness.serving() == "one"
    log = harness.log(job)
    assert "  app: READY" in log  # up's output streamed into the deployment log
    assert any(line.startswith("health: pass http://127.0.0.1:") for line in log)
    assert f"deploy: up starting (slipway #{job} deploy {sha[:12]}: push to main)" in log
    assert harness.healthy_tag() == sha
    assert harness.store.last_good("dev").id == job


def test_unhealthy_deploy_is_rolled_back_and_the_old_app_answers(app_repo, harness):
    good = app_repo.commit_app("one")
    bad = app_repo.commit_app("two", health=500)
    first = harness.request(good)
    harness.wait_idle()
    second = harness.request(bad)
    harness.wait_idle()
    assert harness.states(second) == [
        "queued", "running", "verifying", "failed", "rolling_back", "rolled_back",
    ]  # fmt: skip
    assert harness.get(second).rolled_back_to == good
    assert harness.serving() == "one"
    log = harness.log(second)
    assert any(line.startswith("health: FAIL") and "HTTP 500" in line for line in log)
    assert any(line.startswith("rollback: up starting") for line in log)
    assert harness.healthy_tag() == good
    assert harness.store.last_good("dev").id == first


def test_up_raising_is_rolled_back(app_repo, harness):
    good = app_repo.commit_app("one")
    broken = app_repo.commit_app("broken", crash=True)
    harness.request(good)
    harness.wait_idle()
    job = harness.request(broken)
    harness.wait_idle()
    assert harness.states(job)[-3:] == ["failed", "rolling_back", "rolled_back"]
    history = harness.store.state_history(job)
    assert "up failed: app exited with code 3" in history[2].note
    assert "  app: cannot start: configuration broken" in harness.log(job)
    assert harness.serving() == "one"


def test_rollback_that_fails_too_is_rollback_failed(app_repo, harness, tmp_path: Path):
    database_down = tmp_path / "database-down"
    good = app_repo.commit_app("one", sick_while=str(database_down))
    bad = app_repo.commit_app("two", health=500)
    harness.request(good)
    harness.wait_idle()
    database_down.touch()  # the outside world changed: the old commit is not healthy anymore
    job = harness.request(bad)
    harness.wait_idle()
    assert harness.states(job)[-3:] == ["failed", "rolling_back", "rollback_failed"]
    note = harness.store.state_history(job)[-1].note
    assert f"rollback to {good[:12]} failed" in note and "needs a person" in note


def test_first_deploy_failing_has_nothing_to_roll_back_to(app_repo, harness):
    job = harness.request(app_repo.commit_app("one", health=503))
    harness.wait_idle()
    assert harness.states(job) == ["queued", "running", "verifying", "failed"]
    assert any("nothing to roll back to" in line for line in harness.log(job))
    assert harness.get(job).rolled_back_to is None


def test_unknown_commit_fails_without_touching_the_stack(app_repo, harness):
    app_repo.commit_app("one")
    job = harness.request("f" * 40)
    harness.wait_idle()
    assert harness.states(job) == ["queued", "running", "failed"]
    assert "is not in" in harness.store.state_history(job)[-1].note
    assert not any("rollback" in line for line in harness.log(job))


def test_burst_of_twenty_is_coalesced_to_the_newest(app_repo, harness):
    # Older commits start slowly, so the burst is fully recorded while the first `up` runs,
    # however loaded the machine is.
    shas = [app_repo.commit_app(f"v{n}", delay=0.5) for n in range(1, 20)]
    shas.append(app_repo.commit_app("v20"))
    ids = [harness.request(sha) for sha in shas]
    harness.wait_idle()
    assert up_runs(harness, *ids) <= 2
    assert harness.get(ids[-1]).state == S.SUCCEEDED
    assert harness.serving() == "v20"
    states = [harness.get(i).state for i in ids[:-1]]
    assert set(states) <= {S.SUPERSEDED, S.SUCCEEDED}
    assert states.count(S.SUPERSEDED) >= 18


def test_locked_stack_is_retried_until_the_lock_goes(app_repo, harness):
    lock_dir = harness.runner.backend_lock_dir("dev")
    lock_dir.mkdir(parents=True)
    lock = lock_dir / "engineer.json"
    lock.write_text(
        json.dumps(
            {"pid": os.getpid(), "username": "dev", "hostname": "laptop", "timestamp": "now"}
        )
    )
    job = harness.request(app_repo.commit_app("one"))
    harness.wait_for_log(job, "stack busy")
    lock.unlink()  # the engineer's `pulumi up` finished
    harness.wait_idle()
    assert harness.get(job).state == S.SUCCEEDED
    busy = [line for line in harness.log(job) if line.startswith("stack busy")]
    assert f"held by dev@laptop (pid {os.getpid()})" in busy[0]


def test_locked_stack_gives_up_naming_the_holder(app_repo, local_runner, tmp_path: Path):
    config = FAST.model_copy(update={"lock_retry_attempts": 3})
    store, orchestrator = make_orchestrator(app_repo.path, tmp_path / "s", local_runner, config)
    orchestrator.start()
    try:
        lock_dir = local_runner.backend_lock_dir("dev")
        lock_dir.mkdir(parents=True)
        (lock_dir / "x.json").write_text(
            json.dumps({"pid": 1, "username": "ci", "hostname": "runner", "timestamp": "t"})
        )
        harness = Harness(store, orchestrator, local_runner)
        job = harness.request(app_repo.commit_app("one"))
        harness.wait_idle()
        assert harness.states(job) == ["queued", "running", "failed"]
        note = store.state_history(job)[-1].note
        assert "held by ci@runner (pid 1)" in note and "gave up after 3 tries" in note
        assert sum(line.startswith("stack busy") for line in harness.log(job)) == 2
    finally:
        orchestrator.stop(10)
        store.close()


def test_manual_rollback_deploys_the_given_good_commit(app_repo, harness):
    good = app_repo.commit_app("one")
    newer = app_repo.commit_app("two")
    harness.request(good)
    harness.wait_idle()
    deployed = harness.request(newer)
    harness.wait_idle()
    job = harness.request(good, kind=DeploymentKind.ROLLBACK, rollback_of=deployed)
    harness.wait_idle()
    assert harness.states(job) == ["queued", "running", "verifying", "succeeded"]
    assert harness.get(job).rolled_back_to == good
    assert harness.serving() == "one"
    assert harness.store.last_good("dev").id == job


def test_previews_wait_behind_deployments(app_repo, local_runner, tmp_path: Path):
    store, orchestrator = make_orchestrator(app_repo.path, tmp_path / "s", local_runner)
    harness = Harness(store, orchestrator, local_runner)
    one, two = app_repo.commit_app("one"), app_repo.commit_app("two")
    # Recorded before the orchestrator starts: all are waiting when the worker looks.
    new = store.create_deployment
    preview = new(NewDeployment(DeploymentKind.PREVIEW, "dev", two, pr_number=7)).id
    older = new(NewDeployment(DeploymentKind.DEPLOY, "dev", one)).id
    newest = new(NewDeployment(DeploymentKind.DEPLOY, "dev", two)).id
    orchestrator.start()
    try:
        harness.wait_idle()
        assert harness.get(older).state == S.SUPERSEDED
        assert harness.get(newest).state == S.SUCCEEDED
        assert harness.get(preview).state == S.SUCCEEDED
        deployed_at = store.state_history(newest)[-1].at
        preview_started = store.state_history(preview)[1].at
        assert preview_started > deployed_at
        assert "preview: same 1" in store.state_history(preview)[-1].note
    finally:
        orchestrator.stop(10)
        store.close()


def _deployment(id_: int, kind: DeploymentKind, pr: int | None = None) -> Deployment:
    return Deployment(
        id_, kind, "dev", "a" * 40, "", "", S.QUEUED, "", "", None, pr, None, None, None
    )


def test_pick_next_rules():
    deploy, preview, rollback = (
        DeploymentKind.DEPLOY,
        DeploymentKind.PREVIEW,
        DeploymentKind.ROLLBACK,
    )
    queued = [_deployment(1, preview, 5), _deployment(2, deploy), _deployment(3, rollback)]
    pick = pick_next(queued)
    assert pick.job.id == 3 and [d.id for d in pick.superseded] == [2]
    previews = [_deployment(1, preview, 5), _deployment(2, preview, 6), _deployment(3, preview, 5)]
    pick = pick_next(previews)
    assert pick.job.id == 3 and [d.id for d in pick.superseded] == [1]
    assert pick_next([]).job is None


def test_shutdown_lets_a_running_up_finish_and_keeps_the_queue(app_repo, harness):
    slow = app_repo.commit_app("slow", delay=2.0)
    later = app_repo.commit_app("later")
    running = harness.request(slow)
    harness.wait_for_log(running, "app: starting slow")
    waiting = harness.request(later)
    harness.orchestrator.stop(30)
    assert harness.get(running).state == S.SUCCEEDED
    assert harness.get(waiting).state == S.QUEUED
    with pytest.raises(QueueUnavailable):
        harness.orchestrator.submit(waiting)


def test_shutdown_past_the_grace_period_records_interrupted(app_repo, harness):
    slow = app_repo.commit_app("slow", delay=3.0)
    job = harness.request(slow)
    harness.wait_for_log(job, "app: starting slow")
    harness.orchestrator.stop(0.1)
    assert harness.get(job).state == S.INTERRUPTED
    assert "grace period ran out" in harness.store.state_history(job)[-1].note
    # The up was not killed here (the process manager does that); once it ends, the job
    # stays interrupted and nothing more is recorded as if it had gone on.
    assert harness.orchestrator.join(30)
    assert harness.states(job) == ["queued", "running", "interrupted"]


CRASHING_SERVICE = """
import json, sys, time
from pathlib import Path
from tests.support.orchestrator import make_orchestrator
from tests.support.local_process import LocalProcessRunner
from webhook.store.states import DeploymentKind, DeploymentState
from webhook.store import NewDeployment

repo, state, backend, slow, good = sys.argv[1:6]
store, orchestrator = make_orchestrator(Path(repo), Path(state), LocalProcessRunner(Path(backend)))
orchestrator.start()
first = store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", slow))
orchestrator.submit(first.id)
while store.get_deployment(first.id).state != DeploymentState.RUNNING:
    time.sleep(0.01)
second = store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", good))
orchestrator.submit(second.id)
print(json.dumps([first.id, second.id]), flush=True)
time.sleep(120)
"""


def test_kill_during_up_then_restart_marks_interrupted_and_resumes(
    app_repo, local_runner, tmp_path: Path, repo_root: Path
):
    slow = app_repo.commit_app("slow", delay=30)
    good = app_repo.commit_app("good")
    state = tmp_path / "state"
    arguments = [str(app_repo.path), str(state), str(local_runner.root), slow, good]
    service = subprocess.Popen(
        [sys.executable, "-c", CRASHING_SERVICE, *arguments],
        cwd=repo_root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first, second = json.loads(service.stdout.readline())
        # Watch from this process: the killed service's store is only read here.
        reader = Store.open(state / "slipway.db")
        Harness(reader, None, local_runner).wait_for_log(first, "app: starting slow")
        reader.close()
    finally:
        service.kill()
        service.wait()
    lock_dir = local_runner.backend_lock_dir("dev")
    assert len(list(lock_dir.glob("*.json"))) == 1  # left behind by the dead process
    state_file = local_runner.root / "stacks" / "dev" / "state.json"
    assert json.loads(state_file.read_text())["deployment"]["pending_operations"]

    store, orchestrator = make_orchestrator(app_repo.path, state, local_runner)
    orchestrator.start()
    try:
        harness = Harness(store, orchestrator, local_runner)
        assert harness.get(first).state == S.INTERRUPTED
        log = harness.log(first)
        assert any(line.startswith("recovery: removed stale lock") for line in log)
        assert "recovery: cleared 1 pending operation(s) of stack dev" in log
        harness.wait_idle()
        assert harness.get(second).state == S.SUCCEEDED
        assert harness.serving() == "good"
        assert list(lock_dir.glob("*.json")) == []
    finally:
        orchestrator.stop(10)
        store.close()


def test_restart_never_breaks_a_lock_held_by_a_live_process(app_repo, local_runner, tmp_path):
    lock_dir = local_runner.backend_lock_dir("dev")
    lock_dir.mkdir(parents=True)
    here = socket.gethostname()
    live = {"pid": os.getpid(), "username": "me", "hostname": here, "timestamp": "t"}
    other_host = {"pid": 999_999_999, "username": "you", "hostname": "elsewhere", "timestamp": "t"}
    dead = {"pid": 999_999_999, "username": "me", "hostname": here, "timestamp": "t"}
    for name, info in (("live", live), ("other", other_host), ("dead", dead)):
        (lock_dir / f"{name}.json").write_text(json.dumps(info))
        (lock_dir / f"{name}.json.attrs").write_text("{}")  # the backend's metadata sidecar
    lines: list[str] = []
    held = release_stale_locks(lock_dir, lines.append)
    assert sorted(lock.path.stem for lock in held) == ["live", "other"]
    assert sorted(p.name for p in lock_dir.iterdir()) == [
        "live.json", "live.json.attrs", "other.json", "other.json.attrs",
    ]  # fmt: skip
    assert any("not broken" in line and "you@elsewhere" in line for line in lines)


class RecordingObserver:
    """Stands in for webhook.feedback.wiring.GitHubFeedback."""

    def __init__(self) -> None:
        self.changes: list[tuple[int, str, str]] = []
        self.previews: list[tuple[int, object, str | None]] = []

    def state_changed(self, deployment: Deployment, note: str = "") -> None:
        self.changes.append((deployment.id, str(deployment.state), note))

    def preview_done(self, deployment: Deployment, collector: object, error: str | None = None):
        self.previews.append((deployment.id, collector, error))


def test_observer_hears_every_state_change_after_the_store(app_repo, local_runner, tmp_path):
    observer = RecordingObserver()
    store, orchestrator = make_orchestrator(
        app_repo.path, tmp_path / "s", local_runner, observer=observer
    )
    orchestrator.start()
    try:
        harness = Harness(store, orchestrator, local_runner)
        good = harness.request(app_repo.commit_app("one"))
        harness.wait_idle()
        bad = harness.request(app_repo.commit_app("two", health=500))
        harness.wait_idle()
        preview = harness.request(app_repo.shas["two"], kind=DeploymentKind.PREVIEW, pr_number=3)
        harness.wait_idle()
    finally:
        orchestrator.stop(10)
    for deployment_id in (good, bad, preview):
        heard = [state for i, state, _ in observer.changes if i == deployment_id]
        assert heard == harness.states(deployment_id)[1:]  # all but the initial `queued`
    assert [(i, type(c).__name__, e) for i, c, e in observer.previews] == [
        (preview, "PreviewCollector", None)
    ]
    store.close()


def test_service_queue_is_the_orchestrator_only_with_a_repository(tmp_path: Path, caplog):
    with Store.open(tmp_path / "db.sqlite") as store:
        configured = Settings(webhook_secret="s" * 32, repo_url="/srv/repo", state_dir=tmp_path)
        assert isinstance(service_queue(configured, store), Orchestrator)
        bare = Settings(webhook_secret="s" * 32, repo_url="", state_dir=tmp_path)
        assert isinstance(service_queue(bare, store), RecordingQueue)
    assert "SLIPWAY_REPO_URL is not set" in caplog.text


def test_a_deployment_taken_before_its_submit_is_not_counted_forever(app_repo, harness):
    """The worker reads the store, so it may run or supersede a row before `submit` comes."""
    sha = app_repo.commit_app("one")
    early = harness.store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", sha))
    harness.store.set_state(early.id, S.SUPERSEDED, "taken by the worker before submit")
    harness.orchestrator.submit(early.id)
    harness.wait_idle()
    assert harness.orchestrator.depth() == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(list(DeploymentKind)), st.integers(1, 3)),
        max_size=12,
    )
)
def test_pick_next_properties(requests):
    queued = [_deployment(i + 1, kind, pr) for i, (kind, pr) in enumerate(requests)]
    pick = pick_next(queued)
    changing = [d for d in queued if d.kind != DeploymentKind.PREVIEW]
    if not queued:
        assert pick.job is None and pick.superseded == ()
        return
    ids = {d.id for d in pick.superseded}
    assert pick.job.id not in ids
    if changing:
        # The newest deploy/rollback runs; every older one is superseded; previews wait.
        assert pick.job.id == max(d.id for d in changing)
        assert ids == {d.id for d in changing} - {pick.job.id}
    else:
        # Previews: the oldest pull request goes first, with its newest preview.
        first = min(queued, key=lambda d: d.id)
        same = [d.id for d in queued if d.pr_number == first.pr_number]
        assert pick.job.id == max(same) and ids == set(same) - {pick.job.id}


def test_deployment_collector_counts_states_and_dates_the_last_healthy(tmp_path: Path):
    with Store.open(tmp_path / "db.sqlite") as store:
        done = store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "web", "a" * 40))
        store.set_state(done.id, S.RUNNING)
        store.set_state(done.id, S.VERIFYING)
        finished = store.set_state(done.id, S.SUCCEEDED)
        store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "web", "b" * 40))
        families = {f.name: f for f in DeploymentCollector(store).collect()}
    counts = {tuple(s.labels.values()): s.value for s in families["slipway_deployments"].samples}
    assert counts == {("deploy", "succeeded"): 1, ("deploy", "queued"): 1}
    [healthy] = families["slipway_last_healthy_timestamp_seconds"].samples
    expected = datetime.fromisoformat(finished.updated_at.replace("Z", "+00:00")).timestamp()
    assert healthy.labels == {"stack": "web"} and healthy.value == pytest.approx(expected)


def test_a_deploy_asked_with_a_short_sha_tags_the_full_sha(app_repo, harness):
    """The healthy-commit tag held the sha as asked (`3f78685`); it is resolved at checkout
    and the tag always holds the full 40-character sha (issue 34 item 7)."""
    sha = app_repo.commit_app("short")
    job = harness.request(sha[:7], reason="short sha")
    harness.wait_idle()
    assert harness.states(job)[-1] == "succeeded", harness.log(job)
    assert harness.healthy_tag() == sha
    assert f"tag: slipway:healthy-sha={sha}" in harness.log(job)
