"""Drift checks and reconciles on the real Pulumi CLI, docker provider and engine.

The service deploys the demo repository, checks it every few seconds (drift_loop.INTERVAL),
and each test changes the running stack by hand the way people do on a VPS; the next check
must name the resource and the field, and a reconcile must put it back (docs/drift.md).
The hand-change tests share one stack (module fixture `shared`; each leaves it reconciled)
and make their change once checks pass by the engine snapshot
(webhook/orchestrator/drift_snapshot.py), so each proves the snapshot sees it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.drift_loop import (
    DriftLoop,
    compose,
    docker,
    drift_loop,
    kill_main_process,
    older_checkout,
    restarted_by_policy,
)
from tests.support.fake_github import TOKEN, FakeGitHub
from webhook.store.drift import DriftCheck, DriftResult
from webhook.store.states import DeploymentState

pytestmark = [pytest.mark.pulumi_cli, pytest.mark.docker_engine, pytest.mark.slow]
S = DeploymentState
FULL_EVERY = 10.0  # s: SLIPWAY_DRIFT_FULL_REFRESH_SECONDS of the 20-checks test


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, octokit_examples_dir: Path):
    """One service, repository and stack for the hand-change tests (one deploy and one
    destroy for all, not one each): every test leaves the stack reconciled, in sync."""
    tmp = tmp_path_factory.mktemp("drift")
    with (
        FakeGitHub(TOKEN) as github,
        drift_loop(tmp, github, octokit_examples_dir, drift_github_status=True) as loop,
    ):
        deployed(loop, snapshot=False)
        yield loop


@pytest.fixture
def loop(shared: DriftLoop) -> DriftLoop:
    """The shared stack once checks pass by the engine snapshot again (after the previous
    test's reconcile): a hand change made now must change the snapshot to be found."""
    shared.snapshot_in_effect()
    return shared


@pytest.fixture
def fresh_loop(tmp_path: Path, fake_github: FakeGitHub, octokit_examples_dir: Path):
    """A stack of its own, for a test that deploys another commit."""
    with drift_loop(tmp_path, fake_github, octokit_examples_dir) as loop:
        yield loop


def deployed(loop: DriftLoop, snapshot: bool = True) -> str:
    """Deploy a healthy release; its sha. With `snapshot`, also wait until checks pass by
    the engine pre-check (a full refresh found it in sync, the next check the engine
    unchanged): a hand change made then must change the snapshot to be found at all."""
    sha = loop.repo.healthy("one")
    done = loop.wait(loop.push(sha))
    assert done.state == S.SUCCEEDED, "\n".join(loop.log(done.id))
    if snapshot:
        loop.snapshot_in_effect()
    return sha


def drifted(loop: DriftLoop, after: int) -> DriftCheck:
    """The first check that started after check `after` (made after the hand change):
    drifted, found by a full refresh (the pre-check saw the engine differ)."""
    check = loop.next_check(after)
    assert check.result == DriftResult.DRIFTED, (check.result, check.via, check.error)
    assert check.via == "refresh", check
    return check


def entry(check: DriftCheck, name: str) -> dict:
    found = [e for e in check.report if e["name"] == name]
    assert found, f"{name} not in the report: {check.report}"
    return found[0]


def fields(item: dict) -> dict[str, tuple[str, str]]:
    return {f["field"]: (f["old"], f["new"]) for f in item["fields"]}


def reconciled(loop: DriftLoop) -> None:
    """Reconcile through the API; the deployment succeeds and the next check is in sync."""
    answer = loop.api("POST", f"/stacks/{loop.repo.stack}/reconcile")
    assert answer.status_code == 202, answer.text
    done = loop.wait(answer.json()["id"])
    assert done.state == S.SUCCEEDED, "\n".join(loop.log(done.id))
    after = loop.next_check(loop.last_check_id(), DriftResult.IN_SYNC, DriftResult.DRIFTED)
    assert after.result == DriftResult.IN_SYNC, after.report


@pytest.mark.timeout(1800)  # 20 checks on a loaded machine take longer than the default
def test_untouched_stack_is_in_sync_check_after_check(
    tmp_path: Path, fake_github: FakeGitHub, octokit_examples_dir: Path
) -> None:
    # a full refresh at least every FULL_EVERY s: both paths, the refresh several times
    with drift_loop(
        tmp_path, fake_github, octokit_examples_dir, drift_full_refresh_seconds=FULL_EVERY
    ) as loop:
        deployed(loop, snapshot=False)
        results = []
        last = loop.last_check_id()
        for _ in range(20):
            check = loop.next_check(last)
            results.append((check.result, check.via, check.report, check.error))
            last = check.id
    assert [r[0] for r in results] == [DriftResult.IN_SYNC] * 20, results
    vias = [r[1] for r in results]
    assert vias.count("refresh") >= 3 and vias.count("engine snapshot") >= 3, vias


def test_stopped_container(loop: DriftLoop) -> None:
    docker("stop", loop.container("web"))
    check = drifted(loop, loop.last_check_id())
    web = entry(check, loop.container("web"))
    assert web["change"] == "changed"
    assert fields(web)["mustRun"] == ("true", "false"), web
    reconciled(loop)
    assert docker("inspect", "-f", "{{.State.Running}}", loop.container("web")) == "true"


def test_stopped_container_is_shown_by_api_page_and_metrics(loop: DriftLoop) -> None:
    docker("stop", loop.container("web"))
    check = drifted(loop, loop.last_check_id())
    answer = loop.api("GET", f"/stacks/{loop.repo.stack}/drift")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "drifted" and body["resources"] == check.resources, body
    assert body["text"].startswith("drifted since "), body
    page = loop.api("GET", "/ui").text
    assert 'data-drift="drifted"' in page and f"{loop.container('web')}</code> changed" in page
    assert "mustRun true → false" in page
    metrics = loop.api("GET", "/metrics").text
    assert f'slipway_drift_resources{{stack="{loop.repo.stack}"}} {float(check.resources)}' in (
        metrics
    )
    assert f'slipway_drift_checks_total{{result="drifted",stack="{loop.repo.stack}"}}' in metrics
    reconciled(loop)


def test_removed_container(loop: DriftLoop) -> None:
    docker("rm", "-f", loop.container("worker"))
    check = drifted(loop, loop.last_check_id())
    assert entry(check, loop.container("worker"))["change"] == "gone", check.report
    reconciled(loop)
    assert docker("inspect", "-f", "{{.State.Running}}", loop.container("worker")) == "true"


def test_env_var_changed_by_recreating_the_container(loop: DriftLoop) -> None:
    web = loop.container("web")
    image = docker("inspect", "-f", "{{.Image}}", web)
    docker("rm", "-f", web)
    docker("run", "-d", "--name", web, "-e", "RELEASE=by-hand", "--init", image)
    check = drifted(loop, loop.last_check_id())
    item = entry(check, web)
    assert item["change"] == "replaced", item
    assert fields(item)["envs.RELEASE"] == ("dev", "by-hand"), item
    reconciled(loop)
    assert "RELEASE=dev" in docker("inspect", "-f", "{{.Config.Env}}", web)


def test_network_disconnected(loop: DriftLoop) -> None:
    db = loop.container("db")
    docker("network", "disconnect", f"{loop.repo.project}_default", db)
    check = drifted(loop, loop.last_check_id())
    assert fields(entry(check, db))["networks"] == (f'["{loop.repo.project}_default"]', "[]")
    reconciled(loop)
    networks = docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", db)
    assert f"{loop.repo.project}_default" in networks


def test_named_volume_removed(loop: DriftLoop) -> None:
    volume = f"{loop.repo.project}_db-data"
    docker("rm", "-f", loop.container("db"))
    docker("volume", "rm", volume)
    check = drifted(loop, loop.last_check_id())
    gone = {e["name"]: e["change"] for e in check.report}
    assert gone.get(f"{loop.repo.project}-vol-db-data") == "gone", check.report
    answer = loop.api("POST", f"/stacks/{loop.repo.stack}/reconcile")
    assert answer.status_code == 202, answer.text
    done = loop.wait(answer.json()["id"])
    assert done.state == S.SUCCEEDED, "\n".join(loop.log(done.id))
    said = [line for line in loop.log(done.id) if "data it held was lost" in line]
    assert said and volume.replace("_", "-vol-") in said[0], loop.log(done.id)
    assert docker("volume", "inspect", "-f", "{{.Name}}", volume) == volume


def test_a_push_during_a_check_ends_the_check_and_deploys(fresh_loop: DriftLoop) -> None:
    loop = fresh_loop
    deployed(loop, snapshot=False)  # the first check after a deployment is a full refresh
    sha = loop.repo.healthy("two")
    running = loop.next_check(loop.last_check_id(), DriftResult.RUNNING)
    deployment = loop.push(sha)
    done = loop.wait(deployment)
    assert done.state == S.SUCCEEDED, "\n".join(loop.log(done.id))
    ended = loop.records.get(running.id)
    assert ended.result == DriftResult.CANCELLED, ended
    assert ended.error == "a deployment of the stack came", ended
    assert ended.finished_at is not None and ended.finished_at <= done.updated_at
    later = loop.next_check(running.id)  # tried again, and not a deployment record
    assert later.result == DriftResult.IN_SYNC and later.sha == sha, later
    kinds = {d.kind for d in loop.service.store.list_deployments(stack=loop.repo.stack)}
    assert kinds == {"deploy"}


def test_auto_reconcile_once_per_cooldown(
    tmp_path: Path, fake_github: FakeGitHub, octokit_examples_dir: Path
) -> None:
    with drift_loop(
        tmp_path,
        fake_github,
        octokit_examples_dir,
        drift_auto_reconcile=True,
        drift_reconcile_cooldown_seconds=3600,
    ) as loop:
        deployed(loop)
        web = loop.container("web")
        docker("stop", web)
        first = drifted(loop, loop.last_check_id())
        auto = loop.auto_reconciles(1)
        done = loop.wait(auto[0].id)
        assert done.state == S.SUCCEEDED, "\n".join(loop.log(done.id))
        assert str(first.id) in auto[0].delivery_id
        assert docker("inspect", "-f", "{{.State.Running}}", web) == "true"
        docker("stop", web)  # drifts again at once: reported, not reconciled again
        again = drifted(loop, loop.last_check_id())
        assert entry(again, web)["change"] == "changed"
        loop.next_check(again.id)  # one more check: time for a wrong reconcile to be queued
        assert len(loop.auto_reconciles(1)) == 1


def test_compose_up_of_an_older_checkout(loop: DriftLoop, tmp_path: Path) -> None:
    sha = loop.service.store.list_deployments(limit=1, stack=loop.repo.stack)[0].sha
    loop.service.feedback.drain(timeout=60)  # earlier tests' statuses on this sha: not ours
    earlier = len(loop.github.state.commit_statuses)
    checkout = older_checkout(loop.repo.path, tmp_path / "older")
    web = loop.container("web")
    compose(checkout, loop.repo.project, "up", "-d", release="by-hand")
    assert loop.release() == "ok release=by-hand"  # the old endpoint, under the old env
    check = drifted(loop, loop.last_check_id())
    item = entry(check, web)
    assert item["change"] == "replaced", item
    found = fields(item)
    assert found["envs.RELEASE"] == ("dev", "by-hand"), item
    assert "image" in found and found["image"][0] != found["image"][1], item
    made_by = f"docker compose ({loop.repo.project} {checkout / 'stacks/demo'})"
    assert found["created by"] == ("Slipway", made_by), item
    reconciled(loop)
    assert loop.release() == "ok release=one"
    loop.service.feedback.drain(timeout=60)  # SLIPWAY_DRIFT_GITHUB_STATUS: on the sha
    context = f"slipway/drift/{loop.repo.stack}"
    posted = [
        (s["state"], s["description"])
        for s in loop.github.state.commit_statuses[earlier:]
        if s["sha"] == sha and s["context"] == context
    ]
    # a check that overlapped `compose up` may have seen fewer resources: one more failure
    states = [state for state, _ in posted]
    assert states[-1] == "success" and set(states[:-1]) == {"failure"}, posted
    assert f"{check.resources} resources" in posted[-2][1] and web in posted[-2][1], posted


def test_a_restart_by_the_restart_policy_is_not_drift(loop: DriftLoop) -> None:
    worker = loop.container("worker")
    before = int(docker("inspect", "-f", "{{.RestartCount}}", worker))
    kill_main_process(worker)
    restarted_by_policy(worker, before)
    check = loop.next_check(loop.last_check_id())  # started after the restart
    assert check.result == DriftResult.IN_SYNC, (check.result, check.report, check.error)
