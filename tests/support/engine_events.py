"""Engine events as the Pulumi CLI writes them to its event log (JSON), for the tests."""

from __future__ import annotations

from typing import Any

from pulumi.automation.events import EngineEvent

STACK_URN = "urn:pulumi:prod::slipway::pulumi:pulumi:Stack::slipway-prod"
CONTAINER = "docker:index/container:Container"
IMAGE = "docker:index/remoteImage:RemoteImage"
NETWORK = "docker:index/network:Network"


def urn(type_: str, name: str) -> str:
    return f"urn:pulumi:prod::slipway::slipway:compose:Stack${type_}::{name}"


def step(
    seq: int,
    op: str,
    type_: str,
    name: str,
    *,
    diffs: list[str] | None = None,
    detailed: dict[str, str] | None = None,
    keys: list[str] | None = None,
) -> EngineEvent:
    """A `resourcePreEvent` for one step, as in `pulumi preview --json` event logs."""
    metadata: dict[str, Any] = {
        "op": op,
        "urn": urn(type_, name),
        "type": type_,
        "provider": "urn:pulumi:prod::slipway::pulumi:providers:docker::default::x",
    }
    if diffs is not None:
        metadata["diffs"] = diffs
    if detailed is not None:
        metadata["detailedDiff"] = {
            path: {"diffKind": kind, "inputDiff": True} for path, kind in detailed.items()
        }
    if keys is not None:
        metadata["keys"] = keys
    return EngineEvent.from_json(
        {
            "sequence": seq,
            "timestamp": 1_700_000_000 + seq,
            "resourcePreEvent": {"metadata": metadata, "planning": True},
        }
    )


def diagnostic(seq: int, message: str, *, severity: str = "error", urn_: str = "") -> EngineEvent:
    body: dict[str, Any] = {"message": message, "color": "never", "severity": severity}
    if urn_:
        body["urn"] = urn_
    return EngineEvent.from_json({"sequence": seq, "timestamp": 0, "diagnosticEvent": body})


def op_failed(seq: int, op: str, type_: str, name: str) -> EngineEvent:
    metadata = {"op": op, "urn": urn(type_, name), "type": type_, "provider": ""}
    return EngineEvent.from_json(
        {
            "sequence": seq,
            "timestamp": 0,
            "resOpFailedEvent": {"metadata": metadata, "status": 1, "steps": 1},
        }
    )


def typical_preview() -> list[EngineEvent]:
    """A preview that creates, updates, replaces (three steps) and deletes, plus noise."""
    return [
        EngineEvent.from_json({"sequence": 0, "timestamp": 0, "preludeEvent": {"config": {}}}),
        step(1, "same", "pulumi:pulumi:Stack", "slipway-prod"),
        step(2, "create", NETWORK, "backend"),
        step(3, "update", CONTAINER, "web", detailed={"envs[0]": "update", "labels": "add"}),
        step(4, "create-replacement", CONTAINER, "db", diffs=["image"], keys=["image"]),
        step(5, "replace", CONTAINER, "db", diffs=["image"], keys=["image"]),
        step(6, "delete-replaced", CONTAINER, "db"),
        step(7, "delete", IMAGE, "old-worker"),
        step(8, "read", IMAGE, "base"),
        diagnostic(9, "some warning", severity="warning"),
        EngineEvent.from_json(
            {
                "sequence": 10,
                "timestamp": 0,
                "summaryEvent": {
                    "maybeCorrupt": False,
                    "durationSeconds": 3,
                    "resourceChanges": {"create": 1},
                    "policyPacks": {},
                },
            }
        ),
    ]
