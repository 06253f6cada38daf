"""How Docker Compose merges each service key through `extends`, and how YAML can say it.

YAML merge keys (`<<: *base`) are shallow: a key the child writes replaces the base's
value entirely. Compose merges `extends` deeply. This table records, per service key
path, which of the two behaviours Compose has, so that the planner knows when a child's
value can simply be written as is (REPLACE), when a nested `<<: *anchor` expresses the
merge (MAPPING), and when the combined value has to be written out (SEQUENCE, and the
list-or-mapping keys whose two forms YAML cannot merge).

Observed with Docker Compose v5.6.1 (see the corpus's compose-real/SOURCES.md) and
compose-go's merge rules: mappings merge key by key, sequences are appended, scalars are replaced.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Merge(Enum):
    """How Compose combines a base value with the child's value for one key."""

    REPLACE = "replace"  # child's value wins as a whole (command, entrypoint, scalars)
    MAPPING = "mapping"  # merged key by key, recursively
    SEQUENCE = "sequence"  # base items, then child items (Compose dedups ports/volumes)
    KEYED = "keyed"  # list (`K=V`, `name`) or mapping form, merged per key


@dataclass(frozen=True)
class Rule:
    merge: Merge
    yaml: str  # how the migrated file expresses it


_NESTED_ANCHOR = "nested `<<: *anchor` inside the child's mapping"
_ITEMS_WRITTEN = "base items written before the child's items (YAML cannot join lists)"
_KEYED = "nested `<<: *anchor` when both are mappings, else base entries written out"
_REPLACE = "the child's value as written (merge keys replace it too)"
_ONE_OR_LIST = "as a list: base items, then the child's (a single string is a one-item list)"
_BUILD = "as a mapping (`build: ./dir` is `{context: ./dir}`), merged key by key"

# Keys Compose takes as one string or a list of them (`dns: 8.8.8.8`): `extends` appends
# the child's items to the base's whichever form each side is written in.
ONE_OR_LIST: frozenset[tuple[str, ...]] = frozenset(
    {("dns",), ("dns_search",), ("env_file",), ("label_file",), ("tmpfs",)}
)

# Service-relative key paths; `*` matches any key at that level.
RULES: dict[str, Rule] = {
    "command": Rule(Merge.REPLACE, _REPLACE),
    "entrypoint": Rule(Merge.REPLACE, _REPLACE),
    "healthcheck.test": Rule(Merge.REPLACE, _REPLACE),
    "ulimits.*": Rule(Merge.REPLACE, _REPLACE),
    "environment": Rule(Merge.KEYED, _KEYED),
    "labels": Rule(Merge.KEYED, _KEYED),
    "annotations": Rule(Merge.KEYED, _KEYED),
    "sysctls": Rule(Merge.KEYED, _KEYED),
    "extra_hosts": Rule(Merge.KEYED, _KEYED),
    "depends_on": Rule(Merge.KEYED, _KEYED),
    "networks": Rule(Merge.KEYED, _KEYED),
    "build.args": Rule(Merge.KEYED, _KEYED),
    "build.labels": Rule(Merge.KEYED, _KEYED),
    "build.extra_hosts": Rule(Merge.KEYED, _KEYED),
    "build.additional_contexts": Rule(Merge.KEYED, _KEYED),
    "deploy.labels": Rule(Merge.KEYED, _KEYED),
    "build": Rule(Merge.MAPPING, _BUILD),
    **{path[0]: Rule(Merge.SEQUENCE, _ONE_OR_LIST) for path in ONE_OR_LIST},
}


def normal_form(path: tuple[str, ...], value: object) -> object:
    """`value` in the form Compose merges it in: a list for the ONE_OR_LIST keys, a mapping
    for `build` (its string form is the context)."""
    if path in ONE_OR_LIST and isinstance(value, str):
        return [value]
    if path == ("build",) and isinstance(value, str):
        return {"context": value}
    return value


DEFAULT_MAPPING = Rule(Merge.MAPPING, _NESTED_ANCHOR)
DEFAULT_SEQUENCE = Rule(Merge.SEQUENCE, _ITEMS_WRITTEN)
DEFAULT_SCALAR = Rule(Merge.REPLACE, _REPLACE)


def rule_for(path: tuple[str, ...], value: object) -> Rule:
    """The merge rule for a service key path (e.g. `("build", "args")`); `value` (the
    child's) decides the default for keys the table does not list."""
    for pattern, rule in RULES.items():
        parts = pattern.split(".")
        if len(parts) == len(path) and all(p in ("*", k) for p, k in zip(parts, path, strict=True)):
            return rule
    if isinstance(value, dict):
        return DEFAULT_MAPPING
    if isinstance(value, list):
        return DEFAULT_SEQUENCE
    return DEFAULT_SCALAR


def entry_key(item: object) -> str:
    """The key of one list-form entry of a KEYED value: `K=V` → `K`, `name` → `name`."""
    text = str(item)
    for sep in ("=",):
        if sep in text:
            return text.split(sep, 1)[0]
    return text


def keyed_to_mapping(value: object) -> dict:
    """A KEYED value in mapping form (`K=V` list entries become `K: V`, bare `K` → None)."""
    if isinstance(value, dict):
        return dict(value)
    result: dict = {}
    for item in value or []:
        text = str(item)
        if "=" in text:
            key, val = text.split("=", 1)
            result[key] = val
        else:
            result[text] = None
    return result
