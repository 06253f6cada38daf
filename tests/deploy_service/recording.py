"""Declare resources under Pulumi's mocks and record every registration as the engine saw it
(inputs as sent, secrets still wrapped), for tests that build a component directly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

IMAGE_DIGEST = "sha256:" + "1" * 64


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    inputs: dict[str, Any]
    additional_secret_outputs: list[str]
    retain_on_delete: bool
    delete_before_replace: bool
    dependencies: list[str]

    def is_secret(self, key: str) -> bool:
        return rpc.is_rpc_secret(self.inputs.get(key))

    def plain(self, key: str) -> Any:
        value = self.inputs.get(key)
        return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value


@dataclass
class Recording:
    registrations: list[Registration] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.registrations if r.type == type_]

    def one(self, type_: str, **inputs: Any) -> Registration:
        (found,) = [
            r for r in self.of_type(type_) if all(r.plain(k) == v for k, v in inputs.items())
        ]
        return found


class _EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        if args.typ == "docker:index/remoteImage:RemoteImage":
            # A built image gets IMAGE_DIGEST, a pulled one (the proxy's) another id.
            outputs["imageId"] = IMAGE_DIGEST if "build" in args.inputs else "sha256:" + "2" * 64
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        raise NotImplementedError(f"no mock for invoke {args.token}")


class _Monitor(pulumi_mocks.MockMonitor):
    def __init__(self, recording: Recording) -> None:
        super().__init__(_EchoMocks())
        self.recording = recording

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        self.recording.registrations.append(
            Registration(
                type=request.type,
                name=request.name,
                urn=response.urn,
                parent=request.parent,
                inputs=rpc.deserialize_properties(request.object),
                additional_secret_outputs=list(request.additionalSecretOutputs),
                retain_on_delete=request.retainOnDelete,
                delete_before_replace=request.deleteBeforeReplace,
                dependencies=list(request.dependencies),
            )
        )
        return response


def declare(
    build: Callable[[], Any], *, stack: str = "control", recording: Recording | None = None
) -> Recording:
    """Run `build` as a Pulumi program under mocks; return what it registered (into
    `recording` when given, so a caller can inspect it after `build` raised)."""
    recording = recording if recording is not None else Recording()
    pulumi.runtime.set_mocks(
        _EchoMocks(), project="slipway", stack=stack, preview=False, monitor=_Monitor(recording)
    )
    _sync_await(run_pulumi_func(build))
    return recording
