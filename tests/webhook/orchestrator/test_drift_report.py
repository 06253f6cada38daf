"""The drift report from refresh-preview engine events, and how the page shows it (pure)."""

from __future__ import annotations

from pulumi.automation import events

from webhook.http.drift_view import drift_status
from webhook.http.ui.render import drift_html
from webhook.runners.drift_report import (
    drifted_resources,
    engine_inventory,
    public,
    replacement_fields,
)
from webhook.runners.up_report import SECRET_SIGNATURE
from webhook.store.drift import DriftCheck, DriftResult

CONTAINER = "docker:index/container:Container"
URN = f"urn:pulumi:dev::slipway::slipway:compose:Stack${CONTAINER}::shop-web-1"


def step(op: str, old: dict | None, new: dict | None, diffs: list[str] | None = None):
    def state(outputs: dict) -> events.StepEventStateMetadata:
        return events.StepEventStateMetadata(CONTAINER, URN, "id", "", "", outputs=outputs)

    metadata = events.StepEventMetadata(
        events.OpType(op), URN, CONTAINER, "", state(old) if old else None,
        state(new) if new else None, diffs=diffs,
    )  # fmt: skip
    return events.EngineEvent(0, 0, res_outputs_event=events.ResOutputsEvent(metadata))


def test_same_is_in_sync_and_update_names_the_fields() -> None:
    same = step("same", {"mustRun": True}, {"mustRun": True})
    stopped = step("update", {"mustRun": True}, {"mustRun": False}, ["mustRun"])
    assert drifted_resources([same]) == []
    [entry] = drifted_resources([same, stopped])
    assert entry["change"] == "changed" and entry["name"] == "shop-web-1"
    assert entry["fields"] == [{"field": "mustRun", "old": "true", "new": "false"}]


def test_gone_and_networks_the_engine_does_not_diff() -> None:
    nets = lambda *names: [{"networkName": n} for n in names]  # noqa: E731
    moved = step("same", {"networkDatas": nets("a")}, {"networkDatas": nets()})
    [entry] = drifted_resources([moved])
    assert entry["fields"] == [{"field": "networks", "old": '["a"]', "new": "[]"}]
    [gone] = drifted_resources([step("delete", {"name": "shop-web-1"}, None)])
    assert gone["change"] == "gone" and gone["container"] == "shop-web-1"


def test_secrets_are_never_shown() -> None:
    secret = {SECRET_SIGNATURE: "1b47061264138c4ac30d75fd1eb44270", "value": "hunter2"}
    changed = step("update", {"envs": secret}, {"envs": ["A=1"]}, ["envs"])
    [entry] = map(public, drifted_resources([changed]))  # what leaves the stack child
    assert "hunter2" not in str(entry) and entry["fields"][0]["old"] == "[secret]"
    old = {"image": "sha256:a", "envs": ["DB_PASSWORD=one", "MODE=a"]}
    inspected = {"Image": "sha256:a", "Config": {"Env": ["DB_PASSWORD=two", "MODE=b"]}}
    found = {f["field"]: (f["old"], f["new"]) for f in replacement_fields(old, inspected)}
    assert found == {"envs.DB_PASSWORD": ("[secret]", "[secret]"), "envs.MODE": ("a", "b")}


def test_the_page_says_drifted_since_with_each_field() -> None:
    report = [{"name": "shop-web-1", "change": "changed",
               "fields": [{"field": "mustRun", "old": "true", "new": "false"}]}]  # fmt: skip
    check = DriftCheck(7, "dev", "a" * 40, DriftResult.DRIFTED, "2026-01-02T03:04:05.000000Z",
                       "2026-01-02T03:04:09.000000Z", 1, report, "")  # fmt: skip
    status = drift_status("dev", check, "2026-01-02T03:00:00.000000Z", None)
    assert status.text == "drifted since 2026-01-02T03:00:00.000000Z, 1 resource(s)"
    html = drift_html(status)
    assert 'data-drift="drifted"' in html and "mustRun true → false" in html
    assert '<time datetime="2026-01-02T03:00:00.000Z">' in html
    error = "RunnerError: Cannot connect to the Docker daemon"
    at = "2026-01-02T03:05:00.000000Z"
    failed = DriftCheck(8, "dev", "a" * 40, DriftResult.FAILED, at, None, 0, [], error)
    assert drift_status("dev", failed, None, None).text.startswith("check failed: RunnerError")


def test_a_failed_check_says_the_cause_not_the_summary() -> None:
    from webhook.orchestrator.drift import _reason
    from webhook.runners.base import RunnerError

    error = RunnerError(
        "CommandError: code: 1\n stdout: Previewing refresh\n  error:   sdk-v2/provider2.go:"
        "571: failed to create Docker client: Cannot connect to the Docker daemon at "
        "unix:///x.sock. Is the docker daemon running?\n  error: update failed\n"
        " stderr: (9 errored)"
    )
    assert "Cannot connect to the Docker daemon" in _reason(error, [])


def test_engine_inventory_lists_what_the_pre_check_reads() -> None:
    def state(type_: str, id_: str, outputs: dict) -> events.StepEventStateMetadata:
        return events.StepEventStateMetadata(type_, f"urn::{id_}", id_, "", "", outputs=outputs)

    def refreshed(new: events.StepEventStateMetadata):
        metadata = events.StepEventMetadata(events.OpType("same"), new.urn, new.type, "", new, new)
        return events.EngineEvent(0, 0, res_outputs_event=events.ResOutputsEvent(metadata))

    web = {"name": "shop-web-1", "image": "sha256:aa", "mustRun": True,
           "networkDatas": [{"networkName": "shop_default"}]}  # fmt: skip
    found = engine_inventory(
        [
            refreshed(state(CONTAINER, "c1", web)),
            refreshed(state("docker:index/volume:Volume", "shop_db", {"name": "shop_db"})),
            refreshed(state("pulumi:providers:docker", "p1", {})),
            refreshed(state("slipway:compose:Stack", "", {})),
        ]
    )
    assert found["objects"] == [
        {"kind": "container", "id": "c1", "name": "shop-web-1", "image": "sha256:aa",
         "networks": ["shop_default"], "running": True},
        {"kind": "volume", "id": "shop_db", "name": "shop_db"},
    ]  # fmt: skip
    assert found["other"] == []
    swarm = refreshed(state("docker:index/service:Service", "s1", {"name": "shop_web"}))
    assert engine_inventory([swarm])["other"] == ["docker:index/service:Service"]
