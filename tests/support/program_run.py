"""Run the whole Pulumi program (`__main__.py`) under Pulumi's mocks and record what it declares.

Config comes from `Pulumi.<stack>.yaml` the way the CLI hands it to the program: strings as
is, lists and maps as JSON text. Used by tests/components/compose_stack and bench/bench_program.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import runpy
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await
from ruamel.yaml import YAML

from tests.support.paths import REPO_ROOT

PROJECT = "slipway"


@dataclass
class Declared:
    """One resource registration as the engine saw it. `inputs` has secrets revealed (see
    `secret_inputs` for which were secret); `raw_inputs` keeps Pulumi's secret wrappers."""

    type: str
    name: str
    urn: str
    inputs: dict[str, Any]
    parent: str
    dependencies: list[str]
    provider: str
    secret_inputs: set[str] = field(default_factory=set)  # top-level inputs marked secret
    raw_inputs: dict[str, Any] = field(default_factory=dict)  # as sent, secret wrappers kept
    ignore_changes: list[str] = field(default_factory=list)


@dataclass
class ProgramRun:
    resources: list[Declared] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def of_type(self, type_: str) -> list[Declared]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Declared:
        return next(r for r in self.resources if r.name == name)

    def count_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources:
            counts[r.type] = counts.get(r.type, 0) + 1
        return counts

    def container(self, container_name: str) -> Declared:
        return next(
            r
            for r in self.of_type("docker:index/container:Container")
            if r.inputs.get("name") == container_name
        )


class _Mocks(pulumi.runtime.Mocks):
    """Echo inputs as outputs, with the computed attributes the program reads.

    A container that runs to completion (`mustRun: false`) exits with `exit_codes[name]`
    (default 0), as the provider reports it after waiting for it.
    """

    def __init__(self, exit_codes: Mapping[str, int] | None = None) -> None:
        self.exit_codes = dict(exit_codes or {})

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        if args.typ == "docker:index/container:Container" and args.inputs.get("mustRun") is False:
            outputs["exitCode"] = self.exit_codes.get(args.inputs["name"], 0)
        if args.typ == "docker:index/remoteImage:RemoteImage":
            outputs["imageId"] = (
                "sha256:" + hashlib.sha256(args.inputs["name"].encode()).hexdigest()
            )
            outputs["repoDigest"] = f"{args.inputs['name']}@sha256:{'0' * 64}"
        outputs.setdefault("name", args.name)
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "docker:index/getNetwork:getNetwork":
            name = args.args["name"]
            return {"id": f"{name}-id", "name": name, "driver": "bridge", "scope": "local"}
        raise NotImplementedError(f"no mock for invoke {args.token}")


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks, run: ProgramRun) -> None:
        super().__init__(mocks)
        self.run = run

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            raw = rpc.deserialize_properties(request.object)
            self.run.resources.append(
                Declared(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs={k: _reveal(v) for k, v in raw.items()},
                    parent=request.parent,
                    dependencies=list(request.dependencies),
                    provider=request.provider,
                    secret_inputs={k for k, v in raw.items() if _is_secret(v)},
                    raw_inputs=raw,
                    ignore_changes=list(request.ignoreChanges),
                )
            )
        return response


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _reveal(value: Any) -> Any:
    """The value inside Pulumi's secret wrappers (tests assert on plain values)."""
    if _is_secret(value):
        return _reveal(value["value"])
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reveal(v) for v in value]
    return value


class _WarningCollector(logging.Handler):
    def __init__(self, run: ProgramRun) -> None:
        super().__init__(logging.WARNING)
        self.run = run

    def emit(self, record: logging.LogRecord) -> None:
        self.run.warnings.append(record.getMessage())


def stack_config(stack: str) -> dict[str, Any]:
    """The `config:` block of Pulumi.<stack>.yaml (plain Python values)."""
    document = YAML(typ="safe", pure=True).load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text())
    return dict(document.get("config") or {})


def as_cli_config(config: Mapping[str, Any]) -> dict[str, str]:
    """Config values as the CLI passes them: structured values as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def _quiet_leftovers(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Drop "exception was never retrieved" for the futures of a run that failed (the
    failure itself reached the test); report anything else as asyncio would."""
    if "never retrieved" not in context.get("message", ""):
        loop.default_exception_handler(context)


@contextmanager
def _working_directory(path: Path):
    """Run in `path`, without the caller's DOCKER_HOST: the provider SDK reads it as a
    default, and `make test` exports the engine it started (the program must not see it)."""
    before = Path.cwd()
    docker_host = os.environ.pop("DOCKER_HOST", None)
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)
        if docker_host is not None:
            os.environ["DOCKER_HOST"] = docker_host


def run_program(
    stack: str,
    config: Mapping[str, Any],
    *,
    secret_keys: tuple[str, ...] = (),
    program: Path = REPO_ROOT / "__main__.py",
    exit_codes: Mapping[str, int] | None = None,
    run: ProgramRun | None = None,
    preview: bool = False,
    cwd: Path = REPO_ROOT,
) -> ProgramRun:
    """Run `program` for `stack` with `config` (full keys, e.g. `slipway:composeFiles`);
    `exit_codes` are those of run-to-completion containers, by container name. Records into
    `run` when given (to see what was declared before the program failed). `preview`: a
    dry run, as `pulumi preview`; `cwd`: the project folder (a checkout)."""
    run = ProgramRun() if run is None else run
    logger = logging.getLogger(f"slipway.program.{stack}")
    logger.propagate = False
    handler = _WarningCollector(run)
    logger.addHandler(handler)
    mocks = _Mocks(exit_codes)
    # A fresh root stack per run: otherwise set_mocks keeps the previous run's stack, its
    # exports, and everything they reference (each further run gets slower).
    pulumi_settings.ROOT.set(None)
    # And no RPC, output or error left by a previous run that failed (as pulumi's own
    # `@pulumi.runtime.test` does).
    pulumi_settings.SETTINGS.rpc_manager.clear()
    pulumi_settings.SETTINGS.outputs.clear()
    pulumi.runtime.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=preview,
        logger=logger,
        monitor=_RecordingMonitor(mocks, run),
    )
    pulumi.runtime.set_all_config(as_cli_config(config), list(secret_keys))
    asyncio.get_event_loop().set_exception_handler(_quiet_leftovers)
    try:
        with _working_directory(cwd):
            _sync_await(run_pulumi_func(lambda: runpy.run_path(str(program))))
        exported = pulumi.runtime.get_root_resource().outputs
        run.outputs = _sync_await(pulumi.Output.from_input(dict(exported)).future()) or {}
    finally:
        logger.removeHandler(handler)
    return run
