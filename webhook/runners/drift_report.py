"""What a refresh that changes nothing found: the drifted resources and their fields (pure).

A drift check runs `pulumi refresh --preview-only` (`Stack.preview_refresh`, webhook/runners/
stack_process.py): the provider reads each resource from the engine and the CLI compares it
with the state of the last `up`, writing nothing. Its engine events carry, per resource, the
operation a real refresh would do (`same`, `update`: changed outside Pulumi, `delete`: gone)
and the state before and after. `drifted_resources` turns them into the report the service
records and shows.

The engine's operation is the verdict; the fields are its `diffs`, plus two the docker
provider reads but does not diff (`networkDatas`: the networks a container is attached to).
A container that is gone while a container of the same name runs (recreated by hand, or by
`docker compose up` of another checkout) is compared with that one by `replacement_fields`.
Values are shortened, and secrets, and the values of variables whose names look secret, are
never shown. `engine_inventory` lists the engine objects the refresh read (containers,
networks, volumes, images), for the next check's engine pre-check
(webhook/orchestrator/drift_snapshot.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from webhook.runners.up_report import holds_secret

HIDDEN = "[secret]"
MAX_VALUE = 160  # characters of one value in the report
SECRET_NAME = re.compile(r"pass|secret|token|key|credential|private", re.IGNORECASE)
# Outputs a refresh rewrites although nothing changed (bridged provider bookkeeping).
IGNORED_FIELDS = frozenset({"__meta", "__pulumi_raw_state_delta"})
CONTAINER_TYPE = "docker:index/container:Container"
ENGINE_KINDS = {
    CONTAINER_TYPE: "container",
    "docker:index/network:Network": "network",
    "docker:index/volume:Volume": "volume",
    "docker:index/remoteImage:RemoteImage": "image",
}
"""Resource types whose engine object the pre-check reads; any other resource with an id
(a provider aside) makes the stack's checks full refreshes."""


def short(value: Any) -> str:
    """A value as compact JSON, cut to MAX_VALUE characters; secrets hidden."""
    if holds_secret(value):
        return HIDDEN
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def env_changes(old: Any, new: Any) -> list[dict[str, str]]:
    """`envs` lists (`NAME=value`) as one change per variable; secret-looking values hidden."""
    if holds_secret(old) or holds_secret(new):
        return [{"field": "envs", "old": HIDDEN, "new": HIDDEN}]
    before, after = _env_map(old), _env_map(new)
    changes = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) == after.get(name):
            continue
        hide = bool(SECRET_NAME.search(name))
        changes.append(
            {
                "field": f"envs.{name}",
                "old": _env_value(before.get(name), hide),
                "new": _env_value(after.get(name), hide),
            }
        )
    return changes


def _env_map(value: Any) -> dict[str, str]:
    items = value if isinstance(value, list) else []
    return dict(str(item).partition("=")[::2] for item in items)


def _env_value(value: str | None, hide: bool) -> str:
    if value is None:
        return "(unset)"
    return HIDDEN if hide else short(value)


def network_names(value: Any) -> list[str]:
    """The network names of a container's `networkDatas` output."""
    items = value if isinstance(value, list) else []
    return sorted(str(item.get("networkName", "")) for item in items if isinstance(item, dict))


def field_changes(
    fields: Iterable[str], old: Mapping[str, Any], new: Mapping[str, Any]
) -> list[dict[str, str]]:
    """One change per field (`envs`: per variable), old → new as shown to people."""
    changes: list[dict[str, str]] = []
    for name in sorted(set(fields) - IGNORED_FIELDS):
        if name == "envs":
            changes.extend(env_changes(old.get(name), new.get(name)))
        elif name == "networkDatas":
            changes.append(
                {
                    "field": "networks",
                    "old": short(network_names(old.get(name))),
                    "new": short(network_names(new.get(name))),
                }
            )
        else:
            changes.append(
                {"field": name, "old": short(old.get(name)), "new": short(new.get(name))}
            )
    return changes


def _op(metadata: Any) -> str:
    op = getattr(metadata, "op", "")
    return str(getattr(op, "value", op))


def drifted_resources(events: Iterable[Any]) -> list[dict[str, Any]]:
    """The resources a refresh preview found changed or gone, from its engine events.

    Each: `urn`, `type`, `name`, `change` (`changed` or `gone`), `fields` (`field`, `old`,
    `new`). One entry per resource (the outputs event wins over the pre event)."""
    found: dict[str, dict[str, Any]] = {}
    for event in events:
        step = getattr(event, "res_outputs_event", None) or getattr(
            event, "resource_pre_event", None
        )
        if step is None:
            continue
        entry = resource_drift(step.metadata)
        if entry is not None:
            found[entry["urn"]] = entry
    return sorted(found.values(), key=lambda entry: entry["urn"])


def resource_drift(metadata: Any) -> dict[str, Any] | None:
    """One resource's drift from a refresh step's metadata, or None when it is in sync."""
    op = _op(metadata)
    old = dict(getattr(metadata.old, "outputs", None) or {}) if metadata.old else {}
    new = dict(getattr(metadata.new, "outputs", None) or {}) if metadata.new else {}
    if op == "delete":
        change, fields = "gone", []
    elif op == "update":
        change, fields = "changed", list(metadata.diffs or [])
    elif op == "refresh" or op == "same":
        change, fields = "changed", []  # `same`: unless its networks changed (below)
    else:
        return None
    networks_moved = network_names(old.get("networkDatas")) != network_names(
        new.get("networkDatas")
    )
    if change == "changed" and metadata.type == CONTAINER_TYPE and old and new and networks_moved:
        fields.append("networkDatas")
    if change == "changed" and not fields:
        return None
    return {
        "urn": metadata.urn,
        "type": metadata.type,
        "name": metadata.urn.rsplit("::", 1)[-1],
        "change": change,
        "fields": field_changes(fields, old, new) if change == "changed" else [],
        "container": old.get("name") if metadata.type == CONTAINER_TYPE else None,
        "old_outputs": old,  # for replacement_fields; dropped before the report leaves
    }


def replacement_fields(old: Mapping[str, Any], inspected: Mapping[str, Any]) -> list[dict]:
    """A gone container's recorded outputs against the container of that name that runs
    now (`docker inspect` JSON): image, environment and the Compose project it came from."""
    config = inspected.get("Config") or {}
    now = {"image": inspected.get("Image"), "envs": sorted(config.get("Env") or [])}
    before = {"image": old.get("image"), "envs": sorted(old.get("envs") or [])}
    changes = field_changes([k for k in now if now[k] != before[k]], before, now)
    # `PATH` and the like come from the image: a replacement's extra image variables are noise.
    changes = [c for c in changes if not (c["field"].startswith("envs.") and c["old"] == "(unset)")]
    labels = config.get("Labels") or {}
    project = labels.get("com.docker.compose.project")
    if project:
        workdir = labels.get("com.docker.compose.project.working_dir", "")
        changes.append(
            {
                "field": "created by",
                "old": "Slipway",
                "new": f"docker compose ({project} {workdir})",
            }
        )
    return changes


def public(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry without what only the check needs (the recorded outputs)."""
    return {k: v for k, v in entry.items() if k != "old_outputs"}


def engine_inventory(events: Iterable[Any]) -> dict[str, Any]:
    """The engine objects of the resources a refresh read, as the refresh saw them:
    `objects` (kind, id, name; a container also its image id, networks and whether it
    runs) and `other` (types the pre-check cannot read, e.g. a Swarm service)."""
    objects: dict[str, dict[str, Any]] = {}
    other: set[str] = set()
    for event in events:
        step = getattr(event, "res_outputs_event", None) or getattr(
            event, "resource_pre_event", None
        )
        state = getattr(getattr(step, "metadata", None), "new", None) if step else None
        if state is None or not state.id or state.type.startswith("pulumi:providers:"):
            continue
        kind = ENGINE_KINDS.get(state.type)
        if kind is None:
            other.add(state.type)
            continue
        outputs = dict(state.outputs or {})
        item: dict[str, Any] = {"kind": kind, "id": str(state.id), "name": outputs.get("name")}
        if kind == "container":
            item["image"] = outputs.get("image")
            item["networks"] = network_names(outputs.get("networkDatas"))
            item["running"] = bool(outputs.get("mustRun", True))
        elif kind == "image":
            item["image"] = outputs.get("imageId")
        objects[state.urn] = item
    return {"objects": [objects[urn] for urn in sorted(objects)], "other": sorted(other)}
